"""Training batches, augmented off the critical path and delivered on the device.

The trainer hands each epoch's plan (one index tensor per step) to a :class:`BatchFeed`
and iterates it. Without augmentation the images are indexed where they live: on the
GPU when they fit (:data:`DEVICE_DATA_BYTES`), so a step costs no host work at all.
With augmentation, each batch is augmented by a ``torch.utils.data.DataLoader`` worker
process (``workers`` > 0) while the device trains on the previous ones, then pinned
and copied without blocking; ``workers`` = 0 augments in this process.

Every batch's augmentation is seeded from ``(seed, epoch, step)`` alone, so the images
are the same whatever the number of workers and whichever worker made them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Sampler

from medaug.runtime import usable_cpus
from medaug.training.augment import Augmenter

#: keep the training images on the GPU when they take at most this many bytes
DEVICE_DATA_BYTES = 2 * 1024**3
#: most augmentation workers ``auto`` starts (albumentations runs one image at a time)
MAX_AUTO_WORKERS = 8

Key = tuple[int, np.ndarray]  # (augmentation seed, sample indices) of one batch


def auto_workers(device: torch.device) -> int:
    """Augmentation worker processes for ``workers=-1``: on CUDA all cores but one (at
    most :data:`MAX_AUTO_WORKERS`); on the CPU none (the cores train the model)."""
    if device.type != "cuda":
        return 0
    return max(1, min(MAX_AUTO_WORKERS, usable_cpus() - 1))


def batch_seed(seed: int, epoch: int, step: int) -> int:
    """The augmentation seed of one batch (independent of workers and of other batches)."""
    return (seed * 1_000_003 + epoch * 100_003 + step) % 2**32


class _AugmentedBatches(Dataset[tuple[torch.Tensor, torch.Tensor]]):
    """Batch ``key`` -> augmented images and labels (runs in a worker process)."""

    def __init__(self, x: torch.Tensor, y: torch.Tensor, augmenter: Augmenter) -> None:
        self.x, self.y, self.augmenter = x, y, augmenter

    def __len__(self) -> int:
        return len(self.y)

    def __getitem__(self, key: Key) -> tuple[torch.Tensor, torch.Tensor]:
        seed, order = key
        idx = torch.from_numpy(order)
        self.augmenter.reseed(seed)
        return self.augmenter(self.x[idx]), self.y[idx]


def _one_opencv_thread(worker_id: int) -> None:
    """A worker augments one image at a time: OpenCV's own thread pool (as many threads
    as cores, in every worker) would only oversubscribe the cores."""
    import cv2

    cv2.setNumThreads(1)


class _Plan(Sampler[Key]):
    """The current epoch's batch keys; the trainer replaces them before each epoch (the
    sampler runs in the main process, so persistent workers see every new plan)."""

    def __init__(self) -> None:
        self.keys: list[Key] = []

    def __iter__(self) -> Iterator[Key]:
        return iter(self.keys)

    def __len__(self) -> int:
        return len(self.keys)


class BatchFeed:
    """Yields ``(images, labels)`` on ``device`` for a list of index batches.

    ``images`` are float32 in ``[0, 1]`` (augmented when an augmenter is given).
    """

    def __init__(
        self,
        x: torch.Tensor,
        y: torch.Tensor,
        *,
        device: torch.device,
        augmenter: Augmenter | None = None,
        workers: int = -1,
    ) -> None:
        self.device = device
        self.seed = augmenter.seed if augmenter is not None else 0
        self.workers = auto_workers(device) if workers < 0 else workers
        self._loader: DataLoader[Any] | None = None
        self._plan = _Plan()
        if augmenter is not None and augmenter.enabled:
            self.x, self.y = x, y
            self._loader = DataLoader(
                _AugmentedBatches(x, y, augmenter),
                batch_size=None,
                sampler=self._plan,
                num_workers=self.workers,
                pin_memory=device.type == "cuda",
                persistent_workers=self.workers > 0,
                prefetch_factor=4 if self.workers > 0 else None,
                # its own generator: the loader's worker seeds never draw from the global
                # RNG that dropout uses (so results do not depend on ``workers``)
                generator=torch.Generator().manual_seed(self.seed),
                worker_init_fn=_one_opencv_thread,
            )
        else:
            on_device = device.type == "cuda" and x.numel() * x.element_size() <= DEVICE_DATA_BYTES
            self.x = x.to(device) if on_device else x
            self.y = y.to(device) if on_device else y

    def epoch(
        self, batches: list[torch.Tensor], epoch: int
    ) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """This epoch's batches (``batches``: the sample indices of each step)."""
        if self._loader is None:
            for idx in batches:
                sel = idx.to(self.x.device)
                yield (
                    self.x.index_select(0, sel).to(self.device, non_blocking=True),
                    self.y.index_select(0, sel).to(self.device, non_blocking=True),
                )
            return
        # indices travel to the workers as arrays: a tensor would be moved into shared
        # memory (a file per batch) on its way
        self._plan.keys = [
            (batch_seed(self.seed, epoch, step), idx.numpy()) for step, idx in enumerate(batches)
        ]
        for xb, yb in self._loader:
            yield xb.to(self.device, non_blocking=True), yb.to(self.device, non_blocking=True)

    def close(self) -> None:
        """Stop the worker processes (dropping the loader shuts its workers down)."""
        self._loader = None
