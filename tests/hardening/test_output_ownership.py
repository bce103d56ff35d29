"""One ownership rule for every command's output folder (medaug.output.ownership).

medaug writes only into a new or empty folder or one it marked as its own, never over a
file it did not write, never into (or around) what the command reads, and a run that
fails before writing anything leaves no new folder behind. Each command is checked the
same way; the low items of issue 20 (stale temporary files, Ctrl-C while an experiment
finishes, an interrupted generate, a live balance run, a missing synthetic file) each
have a test below.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from medaug.cli import build_cli
from medaug.output import MARKER_NAME
from tests.hardening.guard import tree_state
from tests.helpers import write_image_folder

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "medaug" / "sample_data" / "chestxray2017-sample"
CNN = [
    *("--classifier", "simple-cnn", "--classifier-option", "widths=[8,16]"),
    *("--epochs", "1", "--image-size", "16", "--batch-size", "8", "--augment", "none"),
]
TINY_GAN = ["--image-size", "16", "--epochs", "1", "--batch-size", "8", "--no-audit"]
FAST_AUDIT = ["--image-size", "32", "-X", "steps=10"]
TIMEOUT_S = 300
WRITE_ONE = "medaug.generation.sampling:_write_one"


def medaug(args: list[str]) -> Result:
    return CliRunner().invoke(build_cli(), args, catch_exceptions=False)


def ok(args: list[str]) -> Result:
    result = medaug(args)
    assert result.exit_code == 0, result.output
    return result


def error(args: list[str]) -> str:
    """The one error line of a refused command (exit 1, no traceback)."""
    result = medaug(args)
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    return lines[0]


@dataclass(frozen=True)
class World:
    """Inputs every command reads, made once: datasets, a model, a balance output."""

    data: Path
    val: Path
    test: Path
    model: Path
    balanced: Path
    real: Path
    synthetic: Path


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    root = tmp_path_factory.mktemp("world")
    with pytest.MonkeyPatch.context() as mp:  # never the user's decode cache
        mp.setenv("MEDAUG_CACHE_DIR", str(root / "cache"))
        data = write_image_folder(root / "data", {"NORMAL": 8, "PNEUMONIA": 12}, size=16)
        val = write_image_folder(root / "val", {"NORMAL": 4, "PNEUMONIA": 4}, size=16, seed=3)
        test = write_image_folder(root / "test", {"NORMAL": 5, "PNEUMONIA": 5}, size=16, seed=2)
        ok(["train", str(data), *CNN, "--out", str(root / "model")])
        ok(["balance", str(data), "--out", str(root / "balanced"), *TINY_GAN])
        real = root / "real"
        synthetic = root / "gen" / "NORMAL"
        for folder, files in (
            (real, sorted((SAMPLE / "NORMAL").glob("*.png"))[:30]),
            (synthetic, sorted((SAMPLE / "PNEUMONIA").glob("*.png"))[:12]),
        ):
            folder.mkdir(parents=True)
            for path in files:
                shutil.copy2(path, folder / path.name)
        yield World(
            data, val, test, root / "model" / "model.pt", root / "balanced", real, synthetic
        )


@dataclass(frozen=True)
class Command:
    """One command: its arguments for an output folder, a file name it writes, the
    output folders it must refuse because of its inputs (a :class:`World` field and a
    path under it, ``..`` for its parent), and the input that, broken, makes it fail
    after claiming its folder."""

    name: str
    args: Callable[[World, Path], list[str]]
    writes: str
    refused: tuple[tuple[str, str], ...]
    broken: str

    def refused_out(self, world: World, index: int) -> Path:
        field, under = self.refused[index]
        base: Path = getattr(world, field)
        return base.parent if under == ".." else base / under


COMMANDS = [
    Command(
        "train",
        lambda w, out: ["train", str(w.data), "--val", str(w.val), *CNN, "--out", str(out)],
        "model.pt",
        (("data", ""), ("data", "NORMAL/run"), ("val", "run")),
        "data",
    ),
    Command(
        "evaluate",
        lambda w, out: ["evaluate", "--model", str(w.model), str(w.test), "--out", str(out)],
        "metrics.json",
        (("test", "run"), ("model", "..")),  # the model's folder holds the model
        "test",
    ),
    Command(
        "experiment",
        lambda w, out: [
            *("experiment", "--train", str(w.data), "--test", str(w.test), *CNN),
            *("--arms", "baseline", "--seeds", "1", "--out", str(out)),
        ],
        "report.md",
        (("data", "run"), ("test", ""), ("test", "NORMAL/x")),
        "test",
    ),
    Command(
        "audit",
        lambda w, out: [
            *("audit", "--real", str(w.real), "--synthetic", str(w.synthetic)),
            *("--out", str(out), *FAST_AUDIT),
        ],
        "audit.json",
        (("real", "audit"), ("synthetic", "audit"), ("synthetic", "..")),
        "synthetic",
    ),
    Command(
        "generate",
        lambda w, out: [
            "generate",
            "-c",
            str(w.balanced / "checkpoints"),
            "-n",
            "2",
            "-o",
            str(out),
        ],
        "manifest.csv",
        (
            ("balanced", "checkpoints/more"),
            ("balanced", ""),  # it holds the checkpoints
            ("balanced", "dataset/NORMAL"),
            ("data", "NORMAL/more"),  # the checkpoint's DATA: a class folder of it
            ("data", "NEWCLASS"),  # a new class of it
        ),
        "",
    ),
    Command(
        "balance",
        lambda w, out: ["balance", str(w.data), "--out", str(out), *TINY_GAN],
        "manifest.csv",
        (("data", ""), ("data", "x")),
        "data",
    ),
]
IDS = [c.name for c in COMMANDS]


@pytest.mark.parametrize("command", COMMANDS, ids=IDS)
def test_a_foreign_file_in_out_is_refused_and_left_byte_identical(
    command: Command, world: World, tmp_path: Path
) -> None:
    """Ownership is by fact: a user's file named like medaug's own output is foreign."""
    out = tmp_path / "mine"
    out.mkdir()
    (out / command.writes).write_bytes(b"the user's own, precious")
    (out / "notes").mkdir()
    (out / "notes" / "a.txt").write_text("mine")
    before = tree_state(out)
    message = error(command.args(world, out))
    assert f"{out} holds files medaug did not write" in message
    assert tree_state(out) == before


REFUSED = [(c, i) for c in COMMANDS for i in range(len(c.refused))]


@pytest.mark.parametrize(
    ("command", "index"), REFUSED, ids=[f"{c.name}-{'/'.join(c.refused[i])}" for c, i in REFUSED]
)
def test_an_out_inside_or_around_an_input_is_refused(
    command: Command, index: int, world: World
) -> None:
    out = command.refused_out(world, index)
    existed = out.exists()
    inputs = (world.data, world.val, world.test, world.balanced, world.real, world.synthetic)
    before = {p: tree_state(p) for p in inputs}
    assert "the input" in error(command.args(world, out))
    assert {p: tree_state(p) for p in inputs} == before
    assert out.exists() == existed


def test_an_audit_of_a_balance_output_writes_nowhere_in_its_dataset(world: World) -> None:
    before = tree_state(world.balanced)
    for out in (world.balanced / "dataset", world.balanced / "dataset" / "NORMAL" / "audit"):
        assert "the input" in error(["audit", str(world.balanced), "--out", str(out)])
    assert tree_state(world.balanced) == before


@pytest.mark.parametrize("command", COMMANDS, ids=IDS)
def test_a_run_that_fails_before_writing_leaves_no_folder(
    command: Command, world: World, tmp_path: Path
) -> None:
    out = tmp_path / "new" / "deeper"
    bad = tmp_path / "missing"
    if command.name == "balance":  # a missing DATA is refused before: one class instead
        write_image_folder(bad, {"only": 5}, size=16)
    broken = replace(world, **{command.broken: bad}) if command.broken else world
    with pytest.MonkeyPatch.context() as mp:
        if command.name == "generate":  # fails after the claim, before its first file
            mp.setattr("medaug.balancing.generation._plan", _no_plan)
        error(command.args(broken, out))
    assert not (tmp_path / "new").exists()


def _no_plan(*_args: object) -> None:
    from medaug.errors import MedaugError

    raise MedaugError("no plan")


@pytest.mark.slow
@pytest.mark.parametrize("command", COMMANDS, ids=IDS)
def test_its_own_folder_is_reused(command: Command, world: World, tmp_path: Path) -> None:
    """The same command twice into one folder: the second run works on its own files."""
    out = tmp_path / "out"
    ok(command.args(world, out))
    marker = json.loads((out / MARKER_NAME).read_text())
    assert command.name in marker["commands"] and command.writes in marker["entries"]
    assert set(marker["entries"]) >= {p.name for p in out.iterdir() if p.name != MARKER_NAME}
    ok(command.args(world, out))


@pytest.mark.slow
def test_evaluate_writes_next_to_the_model_and_train_reuses_its_folder(
    world: World, tmp_path: Path
) -> None:
    out = tmp_path / "run"
    train = ["train", str(world.data), *CNN, "--out", str(out)]
    ok(train)
    ok(["evaluate", "--model", str(out / "model.pt"), str(world.test)])
    assert (out / f"evaluate-{world.test.name}" / "metrics.json").is_file()
    ok(train)  # the evaluation folder carries its own marker: not foreign to train


def test_a_dataset_medaug_wrote_takes_no_other_files(world: World, tmp_path: Path) -> None:
    """generate's folder is a dataset: other commands may not write into it, nor beside
    its classes; generate itself may add to it."""
    gen = tmp_path / "gen"
    ok(["generate", "-c", str(world.balanced / "checkpoints"), "-n", "2", "--out", str(gen)])
    before = tree_state(gen)
    assert "is a dataset written by medaug generate" in error(
        ["train", str(world.data), *CNN, "--out", str(gen)]
    )
    assert "is inside the dataset" in error(
        ["evaluate", "--model", str(world.model), str(world.test), "--out", str(gen / "ev")]
    )
    assert tree_state(gen) == before
    ok(["generate", "-c", str(world.balanced / "checkpoints"), "-n", "2", "--out", str(gen)])


def test_a_folder_of_images_medaug_did_not_write_takes_no_output(
    world: World, tmp_path: Path
) -> None:
    """Without provenance (a checkpoint copied away from its balance output), a dataset
    is still recognised: no output goes into a class folder or beside two; a working
    folder that merely holds a figure is not a dataset."""
    ckpt = tmp_path / "NORMAL.pt"
    shutil.copy2(world.balanced / "checkpoints" / "NORMAL.pt", ckpt)
    other = write_image_folder(tmp_path / "other", {"NORMAL": 3, "PNEUMONIA": 3}, size=16)
    before = tree_state(other)
    for out in (other / "NORMAL" / "more", other / "NEWCLASS"):
        message = error(["generate", "-c", str(ckpt), "-n", "2", "--out", str(out)])
        assert "part of a dataset" in message and not out.exists()
    assert tree_state(other) == before
    shutil.copy2(next((other / "NORMAL").iterdir()), tmp_path / "figure.png")
    ok(["generate", "-c", str(ckpt), "-n", "2", "--out", str(tmp_path / "gen")])


def test_folders_that_only_look_busy_are_no_dataset(tmp_path: Path) -> None:
    """Beside flat DICOM folders (classes come from a CSV) or folders holding one figure
    each, a new folder is fine; beside two class folders of pictures it is not, even when
    the command reads them (``audit --out`` beside ``--real`` and ``--synthetic``)."""
    from medaug.errors import MedaugError
    from medaug.output import check_target

    for name, files in (("train", ["a.dcm", "b.dcm"]), ("val", ["c.dcm", "d.dcm"])):
        for file in files:
            (tmp_path / "dicom" / name).mkdir(parents=True, exist_ok=True)
            (tmp_path / "dicom" / name / file).write_bytes(b"DICM")
    for name in ("exp1", "exp2"):
        (tmp_path / "work" / name).mkdir(parents=True)
        (tmp_path / "work" / name / "curves.png").write_bytes(b"png")
    data = write_image_folder(tmp_path / "pictures", {"A": 2, "B": 2}, size=16)
    check_target(tmp_path / "dicom" / "run", command="train")
    check_target(tmp_path / "work" / "exp1" / "run", command="train")
    with pytest.raises(MedaugError, match="part of a dataset"):
        check_target(data / "audit", command="audit", inputs=[data / "A", data / "B"])
    assert not list(tmp_path.rglob(MARKER_NAME))  # read-only


# -- the low items ----------------------------------------------------------------------


def _signalled(mode: str, target: str, args: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tests.hardening.signals", mode, target, "--", *args],
        cwd=ROOT,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        check=False,
    )


@pytest.mark.slow
def test_a_killed_experiment_leaves_no_temporary_file_once_rerun(
    world: World, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    args = COMMANDS[2].args(world, out)
    killed = _signalled("kill-at-replace", "history.json", args)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    left = list(out.rglob(".medaug-tmp-*"))
    assert [p.name.rsplit("-", 1)[-1] for p in left] == ["history.json"]  # the leftover
    ok(args)
    assert not list(out.rglob(".medaug-tmp-*"))
    assert (out / "runs" / "seed0" / "baseline" / "history.json").is_file()


@pytest.mark.slow
@pytest.mark.parametrize(
    ("mode", "target"),
    [
        ("ctrl-c-after", "medaug.experiments.runner:write_report"),  # the results are written
        ("ctrl-c-at", "medaug.distributed:exit_process"),  # the process is leaving
    ],
    ids=["results-written", "leaving"],
)
@pytest.mark.slow
def test_ctrl_c_while_an_experiment_finishes_is_exit_130_and_one_line(
    world: World, tmp_path: Path, mode: str, target: str
) -> None:
    out = tmp_path / "out"
    args = COMMANDS[2].args(world, out)
    done = _signalled(mode, target, args)
    assert done.returncode == 130, (done.returncode, done.stderr)
    assert "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines()[-1] == "Error: interrupted"
    assert [ln for ln in done.stderr.splitlines() if ln.startswith("Error")] == [
        "Error: interrupted"
    ]
    again = ok([*args, "--json"])
    assert "already done" in again.stderr and (out / "results.json").is_file()


@pytest.mark.slow
def test_generate_killed_midway_is_finished_by_the_same_command(
    world: World, tmp_path: Path
) -> None:
    args = ["generate", "-c", str(world.balanced / "checkpoints"), "-n", "5", "--seed", "3"]
    ref = tmp_path / "ref"
    ok([*args, "--out", str(ref)])
    out = tmp_path / "out"
    killer = [sys.executable, "-m", "tests.reliability.killer", WRITE_ONE, "3", "--"]
    killed = subprocess.run(
        [*killer, *args, "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        check=False,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert len(list((out / "NORMAL").glob("synthetic_*"))) == 2
    ok([*args, "--out", str(out)])
    for name in sorted(p.name for p in (ref / "NORMAL").iterdir()):
        assert (out / "NORMAL" / name).read_bytes() == (ref / "NORMAL" / name).read_bytes()
    manifest = (out / "manifest.csv").read_text().splitlines()
    assert len(manifest) == 1 + 5 and not list(out.rglob(".medaug-tmp-*"))


def test_generate_refuses_images_of_another_checkpoint_under_the_same_names(
    world: World, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    args = ["generate", "-c", str(world.balanced / "checkpoints"), "-n", "2", "--out", str(out)]
    ok(args)
    state = out / ".medaug-generate.json"
    jobs = json.loads(state.read_text())
    for job in jobs["jobs"].values():
        job["checkpoint_sha256"] = "another"
    state.write_text(json.dumps(jobs))
    before = tree_state(out / "NORMAL")
    assert "already exists, from another checkpoint" in error(args)
    assert tree_state(out / "NORMAL") == before


def test_a_full_disk_while_generating_names_the_command_to_rerun(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from medaug.atomic import atomic_path

    def full(path: Path, *_args: object) -> None:
        with atomic_path(path):
            raise OSError(28, "No space left on device")

    monkeypatch.setattr("medaug_folder.formats.write_png", full)
    out = tmp_path / "out"
    message = error(
        ["generate", "-c", str(world.balanced / "checkpoints"), "-n", "2", "-o", str(out)]
    )
    assert "no space left on the disk" in message and "run the same command again" in message
    assert "--resume" not in message


def test_balance_on_an_out_a_live_run_holds_is_in_use(world: World, tmp_path: Path) -> None:
    from medaug.locking import folder_lock

    out = tmp_path / "out"
    args = ["balance", str(world.data), "--out", str(out), *TINY_GAN]
    shutil.copytree(world.balanced, out)  # a run that another process is still writing
    state = out / ".medaug-run.json"
    state.write_text(state.read_text().replace('"status": "complete"', '"status": "running"'))
    with folder_lock(out, what="balance run"):
        for extra in ([], ["--resume"]):
            message = error([*args, *extra])
            assert "is in use" in message and "--resume" not in message


def test_an_experiment_with_a_bad_test_folder_writes_nothing(world: World, tmp_path: Path) -> None:
    """experiment.json is written once both folders are read, not before."""
    out = tmp_path / "out"
    out.mkdir()
    odd = write_image_folder(tmp_path / "odd", {"OTHER": 3, "PNEUMONIA": 3}, size=16)
    for test in (tmp_path / "missing", odd):  # absent; a class the training set lacks
        args = ["experiment", "--train", str(world.data), "--test", str(test), *CNN]
        error([*args, "--arms", "baseline", "--out", str(out)])
        assert list(out.iterdir()) == []


def test_an_audit_says_which_files_of_the_balance_output_are_missing(tmp_path: Path) -> None:
    """A synthetic file deleted by hand is named on stderr, in audit.json and in audit.md:
    the rest is audited (deleting flagged near-copies is a reason to do it)."""
    from tests.audit.test_audit_cli import _fake_balance_output

    out = _fake_balance_output(tmp_path / "balanced")
    gone = "dataset/NORMAL/synthetic_0_00003.png"
    (out / gone).unlink()
    result = ok(["audit", str(out), "-X", "steps=10", "--json"])
    data = json.loads(result.stdout)
    assert data["missing"] == [gone] and data["classes"]["NORMAL"]["n_synthetic"] == 13
    assert f"1 file(s) listed in the manifest are missing and were not audited: {gone}" in (
        result.stderr
    )
    report = out / "report" / "audit"
    assert json.loads((report / "audit.json").read_text())["missing"] == [gone]
    assert gone in (report / "audit.md").read_text()
