"""Start the ranks of a small launch as plain subprocesses, with torchrun's variables."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
#: generous: two fresh Pythons importing torch on two busy cores
TIMEOUT_S = 240


@dataclass(frozen=True)
class Finished:
    """One process's exit status and output."""

    returncode: int
    stdout: str
    stderr: str


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def child_env(**extra: str) -> dict[str, str]:
    """This process's environment, one thread per child, plus ``extra``."""
    env = dict(os.environ)
    env.update(OMP_NUM_THREADS="1", PYTHONUNBUFFERED="1", **extra)
    return env


def run_ranks(commands: Sequence[Sequence[str]]) -> list[Finished]:
    """Run ``commands[r]`` as rank ``r`` of one launch (``127.0.0.1``, a free port) from
    the repository root; wait for all and return their results in rank order."""
    port = str(free_port())
    world = str(len(commands))
    procs = [
        subprocess.Popen(
            list(cmd),
            cwd=REPO_ROOT,
            env=child_env(
                RANK=str(r),
                LOCAL_RANK=str(r),
                WORLD_SIZE=world,
                LOCAL_WORLD_SIZE=world,
                MASTER_ADDR="127.0.0.1",
                MASTER_PORT=port,
            ),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for r, cmd in enumerate(commands)
    ]
    results = []
    try:
        for proc in procs:
            out, err = proc.communicate(timeout=TIMEOUT_S)
            results.append(Finished(proc.returncode, out, err))
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    return results


def python(*args: str) -> list[str]:
    """A command line running this interpreter."""
    return [sys.executable, *args]
