"""Upper bounds on the sizes medaug reads from checkpoints and options.

A checkpoint that loads safely (``weights_only=True``) can still ask for any size: a
``model.pt`` claiming ``image_size=100000`` would make ``evaluate`` decode every image at
100,000 px (10 GB each) until the kernel kills it, and ``--strategy NORMAL=10**20``
would grow a list of file names without ever writing one. Every such size is checked
against these bounds before anything is allocated, and a value out of bounds is one
:class:`~medaug.errors.MedaugError` naming where it came from.
"""

from __future__ import annotations

from typing import Any

from medaug.errors import MedaugError

#: the largest working size (px): a 4096 x 4096 16-bit image is 32 MiB
MAX_IMAGE_SIZE = 4096
#: the most classes a checkpoint may name
MAX_CLASSES = 10_000
#: the most synthetic images one class may get in one run (``--count``, ``--strategy``,
#: ``generate -n``): a manifest row and a file name each
MAX_IMAGES_PER_CLASS = 1_000_000
#: the largest batch a checkpoint or an option may ask for
MAX_BATCH_SIZE = 65_536
#: image channels medaug reads and writes
CHANNELS = (1, 3)


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 24 else f"{text[:12]}... ({len(text)} characters)"


def bounded(value: Any, what: str, *, low: int, high: int) -> int:
    """``value`` if it is an ``int`` in ``[low, high]``; else a one-line error naming
    ``what`` (``"image_size in model.pt"``)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise MedaugError(f"{what} must be an integer, got {_shown(value)}")
    if not low <= value <= high:
        raise MedaugError(f"{what} is {_shown(value)}; it must be between {low:,} and {high:,}")
    return value


def image_size(value: Any, source: str) -> int:
    """A working size (px) from ``source``, within ``[4, MAX_IMAGE_SIZE]``."""
    return bounded(value, f"image_size {source}", low=4, high=MAX_IMAGE_SIZE)


def channels(value: Any, source: str) -> int:
    """A channel count from ``source``: 1 or 3."""
    number = bounded(value, f"channels {source}", low=1, high=3)
    if number not in CHANNELS:
        raise MedaugError(f"channels {source} is {number}; it must be 1 or 3")
    return number


def class_count(value: Any, source: str) -> int:
    """A number of classes from ``source``, within ``[1, MAX_CLASSES]``."""
    return bounded(value, f"the number of classes {source}", low=1, high=MAX_CLASSES)


def images_per_class(value: Any, what: str) -> int:
    """A number of images to add to one class, within ``[0, MAX_IMAGES_PER_CLASS]``."""
    return bounded(value, what, low=0, high=MAX_IMAGES_PER_CLASS)


def batch_size(value: Any, source: str) -> int:
    """A batch size from ``source``, within ``[1, MAX_BATCH_SIZE]``."""
    return bounded(value, f"batch_size {source}", low=1, high=MAX_BATCH_SIZE)


__all__ = [
    "CHANNELS",
    "MAX_BATCH_SIZE",
    "MAX_CLASSES",
    "MAX_IMAGES_PER_CLASS",
    "MAX_IMAGE_SIZE",
    "batch_size",
    "bounded",
    "channels",
    "class_count",
    "image_size",
    "images_per_class",
]
