"""End-to-end ``medaug balance`` on tiny generated and real images."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from PIL import Image

from medaug.balancing import BalanceConfig, BalanceSummary, balance
from medaug.data import DataOptions, load_dataset
from medaug.generation.checkpoint import load_checkpoint
from tests.helpers import tree_hash

from .balance_helpers import TINY, class_files, manifest, run, run_json

pytestmark = pytest.mark.slow

MANIFEST_COLUMNS = [
    "path",
    "class",
    "source",
    "original_path",
    "generator",
    "generator_options",
    "seed",
    "checkpoint_sha256",
    "medaug_version",
    "created",
    "curation",
]


def test_balance_writes_a_complete_rebalanced_dataset(image_folder, tmp_path: Path) -> None:
    data = image_folder({"NORMAL": 8, "PNEUMONIA": 20}, size=24)
    before = tree_hash(data)
    out = tmp_path / "out"
    summary = run_json(["balance", str(data), "--out", str(out), *TINY, "--seed", "3"])
    assert summary["counts_before"] == {"NORMAL": 8, "PNEUMONIA": 20}
    # 12 asked (up to the majority); the default share cap 0.5: as many generated as real
    assert summary["counts_after"] == {"NORMAL": 16, "PNEUMONIA": 20}
    assert summary["capped"] == {"NORMAL": 12}
    assert tree_hash(data) == before  # input untouched

    normal = class_files(out, "NORMAL")
    synth = [p for p in normal if p.name.startswith("synthetic_")]
    assert len(normal) == 16 and len(synth) == 8
    assert synth[0].name == "synthetic_3_00000.png"
    assert len(class_files(out, "PNEUMONIA")) == 20
    real = out / "dataset" / "NORMAL" / "patient0_img0.png"
    assert real.stat().st_ino == (data / "NORMAL" / "patient0_img0.png").stat().st_ino  # hard link

    with Image.open(synth[0]) as im:
        assert im.size == (16, 16) and im.mode == "L"
        assert im.text["medaug:generator"] == "dcgan"
        assert im.text["medaug:seed"] == "3"
        assert im.text["medaug:version"]

    # OUT/dataset holds only the class folders; OUT itself also reads back as that dataset
    assert summary["dataset_root"] == str(out / "dataset")
    assert sorted(p.name for p in (out / "dataset").iterdir()) == ["NORMAL", "PNEUMONIA"]
    for root in (out, out / "dataset"):
        balanced = load_dataset(
            root, image_size=16, options=DataOptions(cache_dir=tmp_path / "cache")
        )
        assert balanced.counts() == {"NORMAL": 16, "PNEUMONIA": 20}
        assert balanced.skipped == []
    state = json.loads((out / ".medaug-run.json").read_text())
    assert state["dataset_root"] == str(out / "dataset")

    # tools users already have read it as-is
    from torchvision.datasets import ImageFolder

    folder = ImageFolder(str(out / "dataset"))
    assert folder.classes == ["NORMAL", "PNEUMONIA"] and len(folder) == 36

    rows = manifest(out)
    assert list(rows[0]) == MANIFEST_COLUMNS
    files = {
        p.relative_to(out).as_posix() for c in ("NORMAL", "PNEUMONIA") for p in class_files(out, c)
    }
    assert {r["path"] for r in rows} == files
    for r in rows:
        assert r["created"] and r["medaug_version"]
        if r["source"] == "real":
            assert Path(r["original_path"]).is_file()
        else:
            assert r["source"] == "synthetic" and r["generator"] == "dcgan" and r["seed"] == "3"
            assert json.loads(r["generator_options"])["nz"] == 100
            assert len(r["checkpoint_sha256"]) == 64

    ckpt = out / "checkpoints" / "NORMAL.pt"
    info, state = load_checkpoint(ckpt)  # weights_only=True inside
    assert info.complete and info.epochs_done == 1 and state["epochs_done"] == 1
    assert {"netG", "netD", "optG", "optD", "rng"} <= set(state)
    report = out / "report"
    for name in (
        "report.md",
        "losses_NORMAL.png",
        "samples_NORMAL.png",
        "progress/NORMAL/epoch_0001.png",
    ):
        assert (report / name).is_file(), name
    text = (report / "report.md").read_text()
    assert "| NORMAL | 8 | 8 | 16 |" in text
    assert not list(out.rglob(".medaug-tmp-*"))


@pytest.mark.parametrize(
    ("extra", "after"),
    [
        (["--strategy", "auto"], {"a": 12, "b": 12, "c": 12}),
        (["--strategy", "minority"], {"a": 12, "b": 12, "c": 8}),
        (["--strategy", "not minority"], {"a": 4, "b": 12, "c": 12}),
        (["--strategy", "all", "--count", "3"], {"a": 7, "b": 15, "c": 11}),
        (["--count", "5"], {"a": 9, "b": 12, "c": 13}),
        (["--strategy", "a=6,c=10"], {"a": 6, "b": 12, "c": 10}),
    ],
)
def test_each_strategy_form_gives_the_expected_counts(
    image_folder, tmp_path: Path, extra: list[str], after: dict[str, int]
) -> None:
    data = image_folder({"a": 4, "b": 12, "c": 8}, size=16)
    out = tmp_path / "out"
    uncapped = ["--max-synthetic-share", "none"]  # the strategy's counts, not the cap's
    summary = run_json(["balance", str(data), "--out", str(out), *TINY, *extra, *uncapped])
    assert summary["counts_after"] == after
    for cls, n in after.items():
        assert len(class_files(out, cls)) == n
    assert len(manifest(out)) == sum(after.values())


def test_float_ratio_on_two_classes(image_folder, tmp_path: Path) -> None:
    data = image_folder({"x": 4, "y": 16}, size=16)
    summary = run_json(
        ["balance", str(data), "--out", str(tmp_path / "o"), *TINY, "--strategy", "0.5"]
    )
    assert summary["counts_after"] == {"x": 8, "y": 16}


@pytest.mark.parametrize(
    ("option", "added", "recorded"),
    [([], 4, 0.5), (["--max-synthetic-share", "0.25"], 1, 0.25),
     (["--max-synthetic-share", "none"], 12, None)],
)  # fmt: skip
def test_max_synthetic_share_caps_each_grown_class(
    image_folder, tmp_path: Path, option: list[str], added: int, recorded: float | None
) -> None:
    data = image_folder({"x": 4, "y": 16}, size=16)
    out = tmp_path / "o"
    result = run(["balance", str(data), "--out", str(out), *TINY, *option, "--json"])
    summary = json.loads(result.stdout)
    assert summary["added"] == {"x": added, "y": 0}  # 12 asked; 0.5 (default): as many as real
    assert summary["counts_after"] == {"x": 4 + added, "y": 16}
    assert summary.get("capped") == ({"x": 12} if recorded else None)
    state = json.loads((out / ".medaug-run.json").read_text())
    assert state["settings"].get("max_synthetic_share") == recorded
    report = (out / "report" / "report.md").read_text()
    assert (f"x: {added} generated images, not 12: --max-synthetic-share caps" in report) == bool(
        recorded
    )


@pytest.mark.parametrize("bad", ["0", "1", "1.5", "half"])
def test_a_bad_share_cap_is_a_usage_error(image_folder, tmp_path: Path, bad: str) -> None:
    data = image_folder({"x": 4, "y": 16}, size=16)
    result = run(["balance", str(data), "--out", str(tmp_path / "o"), "--max-synthetic-share", bad],
                 ok=False)  # fmt: skip
    assert result.exit_code == 2 and "neither a fraction in (0, 1) nor 'none'" in result.output
    assert not (tmp_path / "o").exists()


def test_library_api_and_copy_mode(image_folder, tmp_path: Path) -> None:
    data = image_folder({"NORMAL": 6, "PNEUMONIA": 10}, size=16)
    result = balance(
        BalanceConfig(
            out=tmp_path / "o",
            data=data,
            image_size=16,
            epochs=1,
            batch_size=4,
            link="copy",
            channels=3,
            audit=False,
        )
    )
    assert result.summary["counts_after"] == {"NORMAL": 10, "PNEUMONIA": 10}
    assert result.summary.counts_after == result.summary["counts_after"]
    assert dict(result.summary) == result.summary.to_dict()
    assert BalanceSummary.from_dict(result.summary.to_dict()).to_dict() == dict(result.summary)
    real = tmp_path / "o" / "dataset" / "NORMAL" / "patient0_img0.png"
    assert real.stat().st_ino != (data / "NORMAL" / "patient0_img0.png").stat().st_ino
    with Image.open(tmp_path / "o" / "dataset" / "NORMAL" / "synthetic_0_00000.png") as im:
        assert im.mode == "RGB"


def test_bundled_real_sample_runs_and_a_second_run_says_it_is_done(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    args = ["balance", "--generator", "dcgan", "--out", str(out), *TINY]
    first = run(args)
    assert "bundled ChestXray2017 sample" in first.output
    summary = json.loads((out / ".medaug-run.json").read_text())["summary"]
    assert summary["bundled"] and summary["counts_after"] == {"NORMAL": 200, "PNEUMONIA": 290}
    assert (out / "NOTICE.md").is_file()
    second = run(args)
    assert "already complete" in second.output


def test_generate_reproduces_balance_images(image_folder, tmp_path: Path) -> None:
    data = image_folder({"NORMAL": 6, "PNEUMONIA": 10}, size=16)
    out = tmp_path / "out"
    run(["balance", str(data), "--out", str(out), *TINY, "--seed", "4"])
    gen = tmp_path / "gen"
    res = run_json(
        [
            "generate",
            "--checkpoint",
            str(out / "checkpoints" / "NORMAL.pt"),
            "-n",
            "3",
            "--out",
            str(gen),
            "--seed",
            "4",
        ]
    )
    assert res["written"] == {"NORMAL": 3}
    for i in range(3):
        name = f"NORMAL/synthetic_4_{i:05d}.png"
        assert (gen / name).read_bytes() == (out / "dataset" / name).read_bytes()
    assert len(manifest(gen)) == 3
    run_json(
        [
            "generate",
            "--checkpoint",
            str(out / "checkpoints"),
            "-n",
            "2",
            "--out",
            str(gen),
            "--seed",
            "5",
        ]
    )
    assert len(manifest(gen)) == 5
    # the same command again is its own run, finished: nothing is rewritten
    before = tree_hash(gen / "NORMAL")
    again = run_json(
        ["generate", "-c", str(out / "checkpoints"), "-n", "2", "--out", str(gen), "--seed", "5"]
    )
    assert again["written"] == {"NORMAL": 2} and len(manifest(gen)) == 5
    assert tree_hash(gen / "NORMAL") == before


def test_dataset_options_reach_the_loader_and_the_run_settings(
    image_folder, tmp_path: Path
) -> None:
    from medaug.errors import MedaugError

    data = image_folder({"NORMAL": 6, "PNEUMONIA": 10}, size=16)
    plain = tmp_path / "plain"
    run_json(["balance", str(data), "--out", str(plain), *TINY, "--workers", "1"])
    state = json.loads((plain / ".medaug-run.json").read_text())
    assert "data_options" not in state["settings"]  # defaults: settings as before

    out = tmp_path / "out"
    opts = ["--reader", "folder", "--patient-regex", r"^(patient\d+)_", "--cache-dir"]
    args = ["balance", str(data), "--out", str(out), *TINY, *opts, str(tmp_path / "c")]
    summary = run_json(args)
    assert summary["counts_after"] == {"NORMAL": 10, "PNEUMONIA": 10}
    assert (tmp_path / "c").is_dir()  # --cache-dir used
    settings = json.loads((out / ".medaug-run.json").read_text())["settings"]
    assert settings["data_options"] == {"patient_regex": r"^(patient\d+)_", "reader": "folder"}
    assert run_json([*args, "--workers", "2"])["status"] == "already_complete"
    other = run(["balance", str(data), "--out", str(out), *TINY, "--reader", "folder"], ok=False)
    assert other.exit_code == 1 and "other settings" in other.output

    # the config is validated when it is built, and is immutable
    with pytest.raises(MedaugError, match=r"^invalid link "):
        BalanceConfig(out=out, link="teleport")
    with pytest.raises(MedaugError, match="channels"):
        BalanceConfig(out=out, channels="2")
    cfg = BalanceConfig(out=str(out), options=DataOptions(labels="a.csv"))  # type: ignore[arg-type]
    assert cfg.out == out and cfg.options.labels == Path("a.csv")
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.seed = 1  # type: ignore[misc]
