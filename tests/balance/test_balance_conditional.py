"""A conditional generator plugin serves every class from one model and one checkpoint."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

import medaug
from medaug.plugins import get_host
from tests.helpers import LevelGenerator

from .balance_helpers import class_files, manifest, run_json


class Plugin:
    @medaug.hookimpl
    def register_generators(self, register: Any) -> None:
        register("class-colour", LevelGenerator)


def test_one_conditional_generator_serves_all_classes(image_folder, tmp_path: Path) -> None:
    get_host().register(Plugin(), name="class-colour-plugin")
    LevelGenerator.calls, LevelGenerator.fail_after = [], None
    data = image_folder({"a": 4, "b": 9, "c": 5}, size=16)
    out = tmp_path / "out"
    summary = run_json(
        [
            "balance",
            str(data),
            "--out",
            str(out),
            "--generator",
            "class-colour",
            "--image-size",
            "16",
            "--epochs",
            "2",
            "--no-audit",
            "--max-synthetic-share",
            "none",
        ]
    )
    assert summary["counts_after"] == {"a": 9, "b": 9, "c": 9}
    assert LevelGenerator.calls == [(0, [0, 1, 2])]
    assert sorted(p.name for p in (out / "checkpoints").glob("*.pt")) == ["all-classes.pt"]
    for index, cls in enumerate(["a", "b", "c"]):
        synth = [p for p in class_files(out, cls) if p.name.startswith("synthetic_")]
        assert len(synth) == {"a": 5, "b": 0, "c": 4}[cls]
        for p in synth:
            with Image.open(p) as im:
                assert np.asarray(im).mean() == round((index / 10) * 255)
    assert len(manifest(out)) == 27
