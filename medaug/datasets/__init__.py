"""PyTorch datasets over what medaug makes, for training loops of your own.

::

    from torch.utils.data import DataLoader
    from torchvision.transforms import v2
    from medaug.datasets import BalancedFolder, ItemFormat, SyntheticImages, mixing_sampler

    ds = BalancedFolder("balanced", transform=v2.RandomHorizontalFlip(), image_size=64, channels=1)
    ds[0]                     # (float32 tensor (1, 64, 64) in [0, 1], target)
    ds.provenance(0)          # {'source': 'real', 'original_path': ..., ...}
    loader = DataLoader(ds, batch_size=32, sampler=mixing_sampler(ds, synthetic_fraction=0.3))
    more = SyntheticImages(
        "balanced/checkpoints", 500, seed=1, items=ItemFormat(class_to_idx=ds.class_to_idx)
    )

- :class:`BalancedFolder`: the real and synthetic images of a ``medaug balance`` output,
  with ``ImageFolder``'s classes and targets and each image's provenance;
- :class:`SyntheticImages`: images streamed from generator checkpoints, the same pixels
  ``medaug generate`` writes for the same seed (:class:`ItemFormat`: what each item is);
- :func:`mixing_sampler`: a ``WeightedRandomSampler`` mixing real and synthetic images at
  a chosen ratio, optionally class-balanced.

Transforms may be torchvision (v2 on tensors, or v1 on PIL images with
``transform_input="pil"``), albumentations (detected) or MONAI array transforms: see
:mod:`medaug.datasets.transforms`.
"""

from __future__ import annotations

from medaug.datasets.balanced import BalancedFolder
from medaug.datasets.mixing import mixing_sampler, mixing_weights
from medaug.datasets.synthetic import ItemFormat, SyntheticImages
from medaug.datasets.transforms import TRANSFORM_INPUTS, TransformInput

__all__ = [
    "TRANSFORM_INPUTS",
    "BalancedFolder",
    "ItemFormat",
    "SyntheticImages",
    "TransformInput",
    "mixing_sampler",
    "mixing_weights",
]
