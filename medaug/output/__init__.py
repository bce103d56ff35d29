"""What medaug writes, and where, below everything that reads it (the readers, the
audit, the balancing engine):

- :mod:`~medaug.output.ownership`: the one ownership rule every command's output folder
  follows;
- :mod:`~medaug.output.layout`: every path of a ``balance`` output folder;
- :mod:`~medaug.output.manifest`: ``manifest.csv``, one row per image written;
- :mod:`~medaug.output.runstate`: the run state a resumed run continues from;
- :mod:`~medaug.output.strategy`: how many images each class gets.
"""

from __future__ import annotations

from medaug.output.ownership import (
    MARKER_NAME,
    OutputFolder,
    admit,
    check_target,
    claim_output,
    rerun_hint,
)

__all__ = ["MARKER_NAME", "OutputFolder", "admit", "check_target", "claim_output", "rerun_hint"]
