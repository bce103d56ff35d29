"""Where everything of a ``balance`` output lives: :class:`OutputLayout` owns every path.

::

    OUT/
      dataset/<class>/...        the balanced dataset (class folders only: ImageFolder-ready)
      manifest.csv               one row per file of dataset/, paths relative to OUT
      checkpoints/<unit>.pt      generator checkpoints (one per class, or one conditional)
      report/report.md           report, loss curves, sample grids, progress/<unit>/
      .medaug-run.json           the run record (settings, status, dataset_root, summary)
      NOTICE.md                  licence notice of the bundled sample (demo only)

``dataset/`` holds nothing but class folders, so ``torchvision.datasets.ImageFolder``,
Keras' ``image_dataset_from_directory`` and medaug's own readers read it as-is, and class
names can never collide with medaug's own files.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from medaug.filenames import fit_name

DATASET_DIR = "dataset"
CHECKPOINTS_DIR = "checkpoints"
REPORT_DIR = "report"
MANIFEST_NAME = "manifest.csv"
STATE_NAME = ".medaug-run.json"


@dataclass(frozen=True)
class OutputLayout:
    """The paths of one balance output folder ``root``."""

    root: Path

    @property
    def dataset_root(self) -> Path:
        """The folder holding only the class folders."""
        return self.root / DATASET_DIR

    def class_dir(self, folder: str) -> Path:
        """The folder of one class (``folder`` is its file-system-safe name)."""
        return self.dataset_root / folder

    @property
    def manifest(self) -> Path:
        return self.root / MANIFEST_NAME

    @property
    def state(self) -> Path:
        return self.root / STATE_NAME

    @property
    def checkpoints(self) -> Path:
        return self.root / CHECKPOINTS_DIR

    def checkpoint(self, unit: str) -> Path:
        """Checkpoint of one training unit (a class folder name, or ``all-classes``)."""
        return self.checkpoints / fit_name(f"{unit}.pt")

    @property
    def report_dir(self) -> Path:
        return self.root / REPORT_DIR

    @property
    def report(self) -> Path:
        return self.report_dir / "report.md"

    def progress_dir(self, unit: str) -> Path:
        """Per-epoch fixed-noise grids of one training unit."""
        return self.report_dir / "progress" / fit_name(unit)

    def losses_png(self, folder: str) -> Path:
        return self.report_dir / fit_name(f"losses_{folder}.png")

    def samples_png(self, folder: str) -> Path:
        return self.report_dir / fit_name(f"samples_{folder}.png")

    def relative(self, path: Path) -> str:
        """``path`` relative to the output root, POSIX style (as the manifest stores it)."""
        return path.relative_to(self.root).as_posix()

    @classmethod
    def find(cls, path: Path) -> OutputLayout | None:
        """The layout when ``path`` is a balance output root (it has a run record and a
        ``dataset/`` folder), else ``None``."""
        layout = cls(Path(path))
        if layout.state.is_file() and layout.dataset_root.is_dir():
            return layout
        return None


__all__ = [
    "CHECKPOINTS_DIR",
    "DATASET_DIR",
    "MANIFEST_NAME",
    "REPORT_DIR",
    "STATE_NAME",
    "OutputLayout",
]
