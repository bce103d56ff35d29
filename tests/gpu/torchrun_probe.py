"""One rank of ``test_torchrun.py``'s launch: the ``medaug`` command line exactly as
``torchrun -m medaug ARGS`` runs it, after noting in ``RECORD`` (a JSON file) the backend
medaug's process group was initialised with.

Usage: ``torchrun ... tests/gpu/torchrun_probe.py RECORD ARGS...``. Run as a script by
the test, never collected by pytest.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import torch.distributed as dist

from medaug.cli import main


def record_backend(record: Path) -> None:
    """Wrap ``torch.distributed.init_process_group`` (which :mod:`medaug.distributed`
    calls) to write the backend it was given to ``record``."""
    original = dist.init_process_group

    def init_process_group(*args: Any, **kwargs: Any) -> None:
        original(*args, **kwargs)
        backend = kwargs.get("backend", args[0] if args else None)
        record.write_text(json.dumps({"backend": str(backend)}), encoding="utf-8")

    dist.init_process_group = init_process_group


if __name__ == "__main__":
    record_backend(Path(sys.argv[1]))
    main(sys.argv[2:])
