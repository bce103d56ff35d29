"""The factory registered as ``ddpm``: checks the optional dependencies and the options,
then builds the unconditional or the class-conditional model.

``Generator.conditional`` is a class attribute (the balance engine reads it on the built
generator to train one model for all classes), so ``-O conditional=true`` selects the
subclass :class:`~medaug_diffusion.model.ConditionalDDPM` instead of
:class:`~medaug_diffusion.model.DDPM`; both record ``conditional`` in their options, so
a checkpoint rebuilds the same one.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any, ClassVar

from medaug.errors import MedaugError
from medaug_diffusion.options import SUPPORTED_SIZES, check_options
from medaug_diffusion.requirements import INSTALL_HINT, missing_requirements

if TYPE_CHECKING:
    import torch

    from medaug.contracts.generator import Generator


class DDPMFactory:
    """DDPM diffusion generator on MONAI (``-O conditional=true``: class-conditional)."""

    supported_sizes: ClassVar[tuple[int, ...]] = SUPPORTED_SIZES

    def __call__(
        self,
        image_size: int = 64,
        channels: int = 1,
        device: str | torch.device = "cpu",
        num_classes: int = 1,
        **options: Any,
    ) -> Generator:
        problem = missing_requirements()
        if problem is not None:
            raise MedaugError(f"generator 'ddpm' is {problem}")
        opts = check_options(options)
        try:
            model = importlib.import_module("medaug_diffusion.model")
        except ImportError as exc:
            raise MedaugError(
                f"generator 'ddpm' cannot load MONAI ({exc}); reinstall with {INSTALL_HINT}"
            ) from exc
        cls = model.ConditionalDDPM if opts["conditional"] else model.DDPM
        generator: Generator = cls(
            image_size=image_size,
            channels=channels,
            device=device,
            num_classes=num_classes,
            **opts,
        )
        return generator


build_ddpm = DDPMFactory()
