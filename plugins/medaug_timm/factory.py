"""Build ``timm:<model>`` classifiers, strictly offline."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from unittest import mock

from torch import nn

from medaug.errors import MedaugError


@contextlib.contextmanager
def _offline() -> Iterator[None]:
    """Forbid every network access timm could attempt while building a model.

    Hugging Face Hub is put in offline mode (env var and the already-imported constant);
    timm's URL loaders are wrapped so that an uncached URL raises instead of downloading.
    """
    import huggingface_hub.constants as hf_constants
    import timm.models._builder as builder
    from timm.models._hub import check_cached_file

    def cached_only(loader: Any) -> Any:
        def wrapper(url: str, *args: Any, **kwargs: Any) -> Any:
            if not check_cached_file(url):
                raise FileNotFoundError(f"{url} is not in the local torch hub cache")
            return loader(url, *args, **kwargs)

        return wrapper

    patches: list[contextlib.AbstractContextManager[Any]] = [
        mock.patch.dict(os.environ, {"HF_HUB_OFFLINE": "1"}),
        mock.patch.object(hf_constants, "HF_HUB_OFFLINE", True),
    ]
    for attr in ("download_cached_file", "load_state_dict_from_url"):
        if hasattr(builder, attr):
            patches.append(mock.patch.object(builder, attr, cached_only(getattr(builder, attr))))
    with contextlib.ExitStack() as stack:
        for p in patches:
            stack.enter_context(p)
        yield


#: the timm.create_model options medaug passes on: plain model hyper-parameters only.
#: Anything that makes timm load files or configs (checkpoint_path, pretrained_cfg,
#: pretrained_cfg_overlay, ...) is refused, also when a crafted model.pt asks for it;
#: local weights come only through ``checkpoint``, given by the user.
ALLOWED_OPTIONS: frozenset[str] = frozenset(
    {"drop_rate", "drop_path_rate", "attn_drop_rate", "proj_drop_rate", "global_pool"}
)


@dataclass(frozen=True)
class TimmWeights:
    """Where a timm model's weights come from, an option group of
    :func:`build_timm_model` (its fields are the options ``pretrained`` and
    ``checkpoint``).

    ``pretrained``: timm's published weights, from the local cache only; ``checkpoint``:
    a local weights file handed to timm as ``checkpoint_path``.
    """

    pretrained: bool = False
    checkpoint: str | None = None


def build_timm_model(
    *,
    variant: str,
    num_classes: int,
    in_chans: int,
    image_size: int = 224,
    weight_source: TimmWeights = TimmWeights(),
    **options: Any,
) -> nn.Module:
    """Any timm model by name (``timm:resnet18``), offline only.

    ``options`` (only :data:`ALLOWED_OPTIONS`) go to :func:`timm.create_model`
    (``drop_rate=0.2``...). ``weight_source`` (:class:`TimmWeights`) says whether weights
    come from timm's local cache (``pretrained``) or a local file (``checkpoint``).
    """
    import timm

    pretrained, checkpoint = weight_source.pretrained, weight_source.checkpoint
    refused = sorted(set(options) - ALLOWED_OPTIONS)
    if refused:
        raise MedaugError(
            f"timm:{variant}: unknown option{'s' * (len(refused) > 1)} "
            f"{', '.join(map(repr, refused))}; valid options: "
            f"{', '.join(sorted(ALLOWED_OPTIONS | {'checkpoint', 'pretrained'}))}"
        )
    if not timm.is_model(variant):
        close = timm.list_models(f"*{variant}*")[:8]
        hint = f" (similar: {', '.join(close)})" if close else ""
        raise MedaugError(f"timm has no model {variant!r}{hint}")
    kwargs: dict[str, Any] = {"num_classes": num_classes, "in_chans": in_chans, **options}
    if checkpoint:
        kwargs["checkpoint_path"] = checkpoint
    try:
        with _offline():
            return timm.create_model(variant, pretrained=pretrained, **kwargs)
    except MedaugError:
        raise
    except TypeError as exc:
        raise MedaugError(f"timm:{variant}: bad option: {exc}") from exc
    except Exception as exc:
        if pretrained:
            raise MedaugError(
                f"timm:{variant}: pretrained weights are not in the local cache and medaug "
                f"never downloads (offline). Put them in the Hugging Face / torch hub cache "
                f"first, pass checkpoint=FILE, or drop --pretrained. ({type(exc).__name__})"
            ) from exc
        raise MedaugError(f"timm:{variant}: could not build the model: {exc}") from exc
