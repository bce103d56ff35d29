"""Writers, checkpoints and file helpers."""

from __future__ import annotations

import pickle
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from medaug_folder.formats import write_png
from PIL import Image

from medaug import MedaugError
from medaug.atomic import atomic_path, remove_stale_tmp
from medaug.balancing.files import link_file
from medaug.digests import sha256_file
from medaug.generation.checkpoint import (
    CheckpointInfo,
    load_checkpoint,
    save_checkpoint,
)
from medaug.generation.writer import to_pixels
from medaug.output.manifest import ManifestRow, read_manifest, write_manifest


def test_to_pixels_maps_the_value_range() -> None:
    x = torch.tensor([-1.0, 0.0, 1.0, 2.0]).view(1, 1, 2, 2)
    assert to_pixels(x, 8).ravel().tolist() == [0, 128, 255, 255]
    p16 = to_pixels(x, 16)
    assert p16.dtype == np.uint16 and p16.ravel().tolist() == [0, 32768, 65535, 65535]


@pytest.mark.parametrize(
    ("channels", "dtype", "mode"),
    [(1, np.uint8, "L"), (1, np.uint16, "I;16"), (3, np.uint8, "RGB")],
)
def test_png_round_trip_with_text(tmp_path: Path, channels: int, dtype, mode: str) -> None:
    top = np.iinfo(dtype).max
    pixels = (np.arange(channels * 16) * (top // 47)).astype(dtype).reshape(channels, 4, 4)
    path = tmp_path / "x.png"
    write_png(path, pixels, {"medaug:seed": "7", "medaug:class": "Ünïcode / class"})
    with Image.open(path) as im:
        assert im.mode == mode
        assert im.text == {"medaug:seed": "7", "medaug:class": "Ünïcode / class"}
        arr = np.asarray(im)
    expect = pixels[0] if channels == 1 else pixels.transpose(1, 2, 0)
    np.testing.assert_array_equal(arr, expect)
    assert [p.name for p in tmp_path.iterdir()] == ["x.png"]


def _info(**kw) -> CheckpointInfo:
    base = dict(
        generator="dcgan",
        generator_options={"nz": 100},
        image_size=16,
        channels=1,
        class_name="A",
        class_names=["A"],
        seed=0,
        epochs=2,
        epochs_done=1,
        batch_size=4,
        complete=False,
        output_format="png",
        bit_depth=8,
        history={"loss_d": [1.0, 0.5]},
    )
    base.update(kw)
    return CheckpointInfo(**base)  # type: ignore[arg-type]


def test_checkpoint_round_trip_weights_only(tmp_path: Path) -> None:
    path = tmp_path / "c.pt"
    sha = save_checkpoint(path, _info(), {"w": torch.ones(3), "rng": torch.ByteTensor([1, 2])})
    assert sha == sha256_file(path)
    raw = torch.load(path, weights_only=True)
    assert raw["format"] == "medaug-generator-checkpoint"
    info, state = load_checkpoint(path)
    assert info == _info() and torch.equal(state["w"], torch.ones(3))
    assert save_checkpoint(path, _info(), {}, digest=False) == ""


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_bad_checkpoints_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(MedaugError, match="does not exist"):
        load_checkpoint(tmp_path / "none.pt")
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a checkpoint")
    with pytest.raises(MedaugError, match="cannot read checkpoint"):
        load_checkpoint(junk)
    evil = tmp_path / "evil.pt"
    evil.write_bytes(pickle.dumps(Path("x")))
    with pytest.raises(MedaugError):
        load_checkpoint(evil)
    other = tmp_path / "other.pt"
    torch.save({"format": "something"}, other)
    with pytest.raises(MedaugError, match="not a medaug generator checkpoint"):
        load_checkpoint(other)


def test_atomic_path_leaves_nothing_on_failure(tmp_path: Path) -> None:
    target = tmp_path / "f.txt"
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []
    (tmp_path / ".medaug-tmp-1-x.png").write_text("stale")
    assert remove_stale_tmp(tmp_path) == 1


@pytest.mark.parametrize("mode", ["hardlink", "symlink", "copy"])
def test_link_modes(tmp_path: Path, mode: str) -> None:
    src = tmp_path / "src.png"
    src.write_bytes(b"abc")
    dst = tmp_path / "out" / "dst.png"
    assert link_file(src, dst, mode) == mode
    assert dst.read_bytes() == b"abc"
    assert dst.is_symlink() == (mode == "symlink")
    assert (dst.stat().st_ino == src.stat().st_ino) == (mode != "copy")
    with pytest.raises(MedaugError):
        link_file(src, dst, "teleport")


def test_manifest_round_trip(tmp_path: Path) -> None:
    rows = [ManifestRow("b/x.png", "b", "synthetic", seed="1"), ManifestRow("a/y.png", "a", "real")]
    assert write_manifest(tmp_path / "m.csv", rows) == 2
    back = read_manifest(tmp_path / "m.csv")
    assert [r.path for r in back] == ["a/y.png", "b/x.png"] and back[1].seed == "1"
    header = (tmp_path / "m.csv").read_text().splitlines()[0]
    assert header.startswith("path,class,source,original_path,generator")


@pytest.mark.parametrize(
    "error",
    [
        OSError(28, "No space left on device"),
        RuntimeError("[enforce fail at inline_container.cc:672] . unexpected pos 704 vs 598"),
    ],
)
def test_a_full_disk_while_checkpointing_is_one_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, error: Exception
) -> None:
    """What torch.save raises on a full disk (measured by writing to /dev/full) becomes
    one MedaugError with the advice of the command writing (balance: --resume); the
    previous checkpoint and no temporary file remain."""
    from medaug.output import MARKER_NAME, claim_output
    from medaug.output.layout import DATASET_DIR

    info = CheckpointInfo(
        generator="dcgan",
        generator_options={},
        image_size=16,
        channels=1,
        class_name="a",
        class_names=["a"],
        seed=0,
        epochs=2,
        epochs_done=1,
        batch_size=4,
        complete=False,
        output_format="png",
        bit_depth=8,
        history={},
    )
    out = tmp_path / "out"
    path = out / "a.pt"

    def full_disk(obj: object, f: object) -> None:
        Path(str(f)).write_bytes(b"partial")
        raise error

    with claim_output(out, command="balance", datasets=[DATASET_DIR], rerun="rerun with --resume"):
        save_checkpoint(path, info, {"w": torch.zeros(2)})
        before = path.read_bytes()
        monkeypatch.setattr(torch, "save", full_disk)
        with pytest.raises(MedaugError, match=r"no space left on the disk of .* with --resume"):
            save_checkpoint(path, replace(info, epochs_done=2), {"w": torch.ones(2)})
    assert path.read_bytes() == before
    assert sorted(p.name for p in out.iterdir()) == [MARKER_NAME, "a.pt"]
    with pytest.raises(MedaugError, match="free space and run the same command again"):
        save_checkpoint(path, replace(info, epochs_done=2), {"w": torch.ones(2)})
