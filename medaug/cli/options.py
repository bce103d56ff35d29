"""Click options shared by several commands, so they read the same everywhere."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

from medaug.data.options import CHANNEL_CHOICES, DataOptions
from medaug.limits import MAX_BATCH_SIZE, MAX_IMAGE_SIZE
from medaug.runtime import DEVICE_CHOICES

F = TypeVar("F", bound=Callable[..., Any])


def device_option(f: F) -> F:
    """``--device auto|cpu|cuda|cuda:N`` (resolve with :func:`medaug.resolve_device`)."""
    return click.option(
        "--device",
        default="auto",
        show_default=True,
        metavar=DEVICE_CHOICES.upper(),
        help="Where to compute: auto picks CUDA when present, else the CPU.",
    )(f)


def _share_cap(value: str | float | None) -> float | None:
    """``--max-synthetic-share``: a fraction in (0, 1), or ``none`` for no cap."""
    if value is None or isinstance(value, float):
        return value
    if str(value).strip().lower() == "none":
        return None
    from medaug.errors import ConfigError
    from medaug.output.strategy import check_share

    try:
        share = float(value)
        check_share(share)  # the configs' own range rule
    except (ValueError, ConfigError):
        raise click.BadParameter(f"{value!r} is neither a fraction in (0, 1) nor 'none'") from None
    return share


def max_share_option(f: F) -> F:
    """``--max-synthetic-share FRACTION|none``: the cap on each grown class's share of
    generated images (default :data:`~medaug.output.strategy.DEFAULT_SHARE_CAP`)."""
    from medaug.output.strategy import DEFAULT_SHARE_CAP

    return click.option(
        "--max-synthetic-share",
        type=click.UNPROCESSED,
        callback=lambda _ctx, _param, value: _share_cap(value),
        default=DEFAULT_SHARE_CAP,
        show_default=True,
        metavar="FRACTION|none",
        help="Cap the share of generated images in each grown class (0.5: at most as many "
        "generated as real images, so a rare class is not drowned in them); none: add as "
        "many as the strategy asks for.",
    )(f)


def curation_options(f: F) -> F:
    """``--filter``, ``--draws-per-image`` and ``--filter-threshold`` (read them back with
    :func:`pop_curation`)."""
    from medaug.curation.policy import DEFAULT_DRAWS, DEFAULT_THRESHOLD, FILTERS

    options = [
        click.option(
            "--filter",
            "filter",
            type=click.Choice(FILTERS),
            default="none",
            show_default=True,
            help="Draw more synthetic images than needed and keep those inside the real "
            "images' k-NN manifold (manifold: the audit's precision criterion) or those a "
            "classifier trained on the real images assigns to their class (classifier).",
        ),
        click.option(
            "--draws-per-image",
            type=click.IntRange(min=1),
            default=DEFAULT_DRAWS,
            show_default=True,
            help="With --filter: at most this many candidates drawn per image kept (too "
            "few accepted: the class grows by fewer images, and the report says so).",
        ),
        click.option(
            "--filter-threshold",
            type=click.FloatRange(0, 1, min_open=True, max_open=True),
            default=DEFAULT_THRESHOLD,
            show_default=True,
            help="With --filter classifier: the probability of the intended class to keep "
            "an image.",
        ),
    ]
    for option in reversed(options):
        f = option(f)
    return f


def pop_curation(kw: dict[str, Any]) -> CurationPolicy:
    """The :class:`~medaug.curation.policy.CurationPolicy` of :func:`curation_options`'
    values (removed from ``kw``)."""
    from medaug.curation.policy import CurationPolicy

    return CurationPolicy(
        filter=kw.pop("filter"),
        draws_per_image=kw.pop("draws_per_image"),
        threshold=kw.pop("filter_threshold"),
    )


def threads_option(f: F) -> F:
    """``--threads N`` (0: automatic; apply with :func:`medaug.runtime.configure_threads`)."""
    return click.option(
        "--threads",
        type=click.IntRange(min=0),
        default=0,
        show_default=True,
        metavar="N",
        help="CPU threads for computing (and decode processes unless --workers is given); "
        "0 = the cores this process may use (affinity, cgroup quota), shared among "
        "torchrun's processes on the machine.",
    )(f)


def apply_threads(threads: int, options: DataOptions) -> DataOptions:
    """Set the thread count for this process (``--threads``; 0 = automatic) and, when
    ``--threads`` is given without ``--workers``, use as many decode processes."""
    from dataclasses import replace

    from medaug.runtime import configure_threads

    configure_threads(threads)
    if threads and options.workers is None:
        return replace(options, workers=threads)
    return options


def channels_option(f: F) -> F:
    """``--channels auto|1|3`` (a string, as :func:`medaug.data.load_dataset` accepts it)."""
    return click.option(
        "--channels",
        type=click.Choice(CHANNEL_CHOICES),
        default="auto",
        show_default=True,
        help="Decode to 1 (grayscale) or 3 (RGB) channels; auto = 1 when every image is gray.",
    )(f)


def image_size_option(help_text: str) -> Callable[[F], F]:
    """``--image-size N`` (4 to :data:`~medaug.limits.MAX_IMAGE_SIZE`, default 64)."""
    return click.option(
        "--image-size",
        type=click.IntRange(4, MAX_IMAGE_SIZE),
        default=64,
        show_default=True,
        help=help_text,
    )


def seed_option(f: F) -> F:
    """``--seed N``."""
    return click.option(
        "--seed", type=click.IntRange(min=0), default=0, show_default=True, help="Random seed."
    )(f)


def json_option(f: F) -> F:
    """``--json``: machine-readable output on stdout."""
    return click.option(
        "--json", "as_json", is_flag=True, help="Print machine-readable JSON on stdout."
    )(f)


def parse_key_values(pairs: tuple[str, ...] | list[str], what: str = "--option") -> dict[str, Any]:
    """Turn ``key=value`` strings into a dict; values are parsed as JSON when they can be
    (``lr=0.001`` -> float, ``flag=true`` -> bool), else kept as strings."""
    import json

    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        key = key.strip().replace("-", "_")
        if not sep or not key:
            raise click.BadParameter(f"expected key=value, got {pair!r}", param_hint=what)
        try:
            out[key] = json.loads(raw)
        except ValueError:
            out[key] = raw
    return out


#: the parameter names :func:`dataset_options` adds, in ``--help`` order
DATASET_OPTION_NAMES: tuple[str, ...] = (
    "labels",
    "label_tag",
    "id_column",
    "label_column",
    "reader",
    "patient_regex",
    "cache_dir",
    "workers",
    "max_pixels",
    "window",
)
#: the dataset options that go to the reader itself (passed only when given)
READER_OPTION_NAMES: tuple[str, ...] = ("id_column", "label_column", "max_pixels", "window")


def dataset_options(f: F) -> F:
    """How a dataset is read, the same for every command that reads one: ``--labels``,
    ``--label-tag``, ``--id-column``, ``--label-column``, ``--reader``,
    ``--patient-regex``, ``--cache-dir``, ``--workers``, ``--max-pixels`` and ``--window``.

    Turn the parsed values into one :class:`~medaug.data.options.DataOptions` with
    :func:`pop_data_options`.
    """
    opts = [
        click.option(
            "--labels",
            type=click.Path(path_type=str),
            default=None,
            metavar="FILE",
            help="CSV with a file/id column and a label column (DICOM files without "
            "class folders).",
        ),
        click.option(
            "--label-tag",
            default=None,
            metavar="TAG",
            help="Label DICOM files by this attribute, e.g. StudyDescription.",
        ),
        click.option(
            "--id-column", default=None, help="Column of --labels holding the file name or id."
        ),
        click.option("--label-column", default=None, help="Column of --labels holding the class."),
        click.option(
            "--reader",
            default="auto",
            show_default=True,
            metavar="NAME",
            help="Reader name (see 'medaug plugins').",
        ),
        click.option(
            "--patient-regex",
            default=None,
            help="Regex over file names giving the patient id (a 'patient' group or group 1).",
        ),
        click.option(
            "--cache-dir",
            type=click.Path(path_type=str),
            default=None,
            help="Decode cache folder (default: $MEDAUG_CACHE_DIR or the user cache dir).",
        ),
        click.option(
            "--workers",
            type=click.IntRange(min=1),
            default=None,
            help="Decode processes (default: all CPUs).",
        ),
        click.option(
            "--max-pixels",
            type=click.IntRange(min=1),
            default=None,
            help="Skip images with more decoded pixels per frame (default 50 million, or "
            "$MEDAUG_MAX_PIXELS).",
        ),
        click.option(
            "--window",
            default=None,
            metavar="MODE",
            help="DICOM display mapping: auto (the file's VOI LUT or window; else, for "
            "8-bit data, the stored values as they are, like bits, and min-max over the "
            "frame for deeper data), minmax, or bits (the range BitsStored allows; 8-bit "
            "JPEG frames are then decoded at a reduced scale, the fastest route).",
        ),
    ]
    for opt in reversed(opts):
        f = opt(f)
    return f


def pop_data_options(values: dict[str, Any]) -> DataOptions:
    """Pop the :func:`dataset_options` values out of ``values`` (a command's keyword
    arguments) as one :class:`~medaug.data.options.DataOptions`; ``id_column``,
    ``label_column``, ``max_pixels`` and ``window`` become reader options, passed only
    when given."""
    opts = {name: values.pop(name, None) for name in DATASET_OPTION_NAMES}
    reader_options = {k: opts[k] for k in READER_OPTION_NAMES if opts[k] is not None}
    return DataOptions(
        reader=opts["reader"] or "auto",
        labels=opts["labels"],
        label_tag=opts["label_tag"],
        patient_regex=opts["patient_regex"],
        cache_dir=opts["cache_dir"],
        workers=opts["workers"],
        reader_options=tuple(sorted(reader_options.items())),
    )


if TYPE_CHECKING:
    from medaug.curation.policy import CurationPolicy
    from medaug.training.config import TrainConfig
    from medaug.training.spec import ModelSpec


def training_options(f: F) -> F:
    """Options shared by ``train`` and ``experiment`` (same names, same defaults): the
    classifier, image size and channels, the training settings (:func:`train_config`),
    validation fraction, augmentation, positive class and classifier options
    (:func:`model_spec`)."""
    from medaug.precision import PRECISIONS
    from medaug.training.config import MONITORS, TrainConfig

    d = TrainConfig()
    opts = [
        click.option(
            "--classifier",
            "classifier",
            required=True,
            metavar="NAME",
            help="Classifier plugin: simple-cnn, timm:resnet18, ... (medaug plugins).",
        ),
        click.option(
            "--image-size",
            type=click.IntRange(8, MAX_IMAGE_SIZE),
            default=64,
            show_default=True,
            help="Images are resized to this square size.",
        ),
        channels_option,
        click.option("--epochs", type=click.IntRange(min=1), default=d.epochs, show_default=True),
        click.option(
            "--batch-size",
            type=click.IntRange(2, MAX_BATCH_SIZE),
            default=d.batch_size,
            show_default=True,
        ),
        click.option(
            "--lr",
            type=click.FloatRange(min=0, min_open=True),
            default=d.lr,
            show_default=True,
            help="Peak learning rate (AdamW, warm-up + cosine).",
        ),
        click.option(
            "--weight-decay",
            type=click.FloatRange(min=0),
            default=d.weight_decay,
            show_default=True,
        ),
        click.option(
            "--val-split",
            type=click.FloatRange(0, 1, min_open=True, max_open=True),
            default=0.2,
            show_default=True,
            help="Patient-grouped validation fraction of DATA (model selection).",
        ),
        click.option(
            "--augment",
            default="standard",
            show_default=True,
            metavar="PIPELINE",
            help="albumentations pipeline: preset none|light|standard|strong or a "
            "JSON/YAML file (A.save).",
        ),
        click.option(
            "--class-weights",
            default=d.class_weights,
            show_default=True,
            metavar="balanced|sampler|none|CLASS=W,...",
            help="Class imbalance: balanced = loss weights by inverse class frequency; "
            "sampler = unweighted loss, batches drawn with every class equally likely "
            "(no large loss weight at extreme imbalance); none; or weights per class.",
        ),
        click.option(
            "--monitor",
            type=click.Choice(list(MONITORS)),
            default=d.monitor,
            show_default=True,
            help="Validation metric for early stopping / best epoch.",
        ),
        click.option(
            "--patience",
            type=click.IntRange(min=0),
            default=d.patience,
            show_default=True,
            help="Epochs without improvement before stopping (0: off).",
        ),
        click.option(
            "--threshold",
            default=d.threshold,
            show_default=True,
            metavar="calibrate|P",
            help="Binary decision threshold: calibrated on the "
            "validation split (Youden's J) or a fixed probability.",
        ),
        click.option(
            "--positive-class",
            default=None,
            metavar="CLASS",
            help="Positive class of a binary problem (default: the class not named "
            "like normal/healthy, else the second in sorted order).",
        ),
        click.option(
            "--pretrained",
            is_flag=True,
            help="Start from pretrained weights (only if already in the local cache).",
        ),
        click.option(
            "--precision",
            type=click.Choice(PRECISIONS, case_sensitive=False),
            default=d.precision,
            show_default=True,
            help="Compute precision: auto = bf16 on CUDA and on CPUs with AMX, else fp32 "
            "(weights stay fp32; fp16 on CUDA only).",
        ),
        click.option(
            "--aug-workers",
            type=click.IntRange(min=-1),
            default=d.aug_workers,
            show_default=True,
            metavar="N",
            help="Processes that augment batches while the model trains; -1 = auto (on "
            "CUDA the cores but one, up to 8; on the CPU 0: in this process). The images "
            "do not depend on it.",
        ),
        click.option(
            "--synthetic-weight",
            type=click.FloatRange(0, 100, min_open=True),
            default=d.synthetic_weight,
            show_default=True,
            metavar="W",
            help="Loss weight of each synthetic (or added) training image relative to a real "
            "one. train reads which images are synthetic from the manifest.csv of the "
            "balance output DATA is in.",
        ),
        click.option(
            "--classifier-option",
            "classifier_options",
            multiple=True,
            metavar="KEY=VALUE",
            help="Option for the classifier plugin (repeatable).",
        ),
    ]
    for opt in reversed(opts):
        f = opt(f)
    return f


def train_config(**kw: Any) -> TrainConfig:
    """A :class:`~medaug.training.TrainConfig` from the :func:`training_options` values
    (``seed`` from ``kw`` when given, else 0)."""
    from medaug.training.config import TrainConfig

    return TrainConfig(
        epochs=kw["epochs"],
        batch_size=kw["batch_size"],
        lr=kw["lr"],
        weight_decay=kw["weight_decay"],
        class_weights=kw["class_weights"],
        monitor=kw["monitor"],
        patience=kw["patience"],
        threshold=kw["threshold"],
        seed=kw.get("seed", 0),
        precision=kw["precision"],
        aug_workers=kw["aug_workers"],
        synthetic_weight=kw["synthetic_weight"],
    )


def model_spec(values: dict[str, Any]) -> ModelSpec:
    """The :class:`~medaug.training.ModelSpec` of the :func:`training_options` values
    ``classifier``, ``classifier_options`` (KEY=VALUE strings) and ``pretrained``."""
    from medaug.training.spec import ModelSpec

    return ModelSpec(
        values["classifier"],
        parse_key_values(values["classifier_options"], "--classifier-option"),
        bool(values["pretrained"]),
    )
