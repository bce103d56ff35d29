"""What medaug writes, and where: the one ownership rule every command's output folder
follows (:mod:`medaug.output.ownership`)."""

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
