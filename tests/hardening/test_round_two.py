"""Hardening, round two (issue 20): names, resources and privacy.

Names that are not UTF-8, FIFOs, sizes read from checkpoints and options, identifiers in
de-identified output, network access at start-up, the DICOM display rule, and the low
items (identical files, 245-character names, carriage returns, spreadsheet formulas,
empty checkpoints, plugins that print or take a built-in's name, skipped files in
``balance``'s output). The bad-input cases that fit ``inspect --json`` are in
:mod:`tests.hardening.corpus`.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from PIL import Image

from medaug.cli import build_cli
from medaug.errors import MedaugError, PluginLoadWarning
from tests.hardening.corpus import base, latin1, png_bytes, texture, write
from tests.hardening.guard import LIMIT_S, Outcome, run_medaug, time_limit, tree_state
from tests.helpers import fake_distribution, write_image_folder

#: tiny balance runs (as tests/balance): the audit is tested on its own
TINY = ["--image-size", "16", "--epochs", "1", "--batch-size", "8", "--no-audit"]


def invoke(*args: str) -> Outcome:
    """``medaug ARGS`` in this process, under the hang guard."""
    with time_limit(LIMIT_S):
        result = CliRunner().invoke(build_cli(), list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"medaug raised {result.exception!r}") from result.exception
    return Outcome(result.exit_code, result.stdout, result.stderr)


def pngs(folder: Path, n: int, *, seed: int = 0, prefix: str = "img") -> list[Path]:
    """``n`` distinct 16 px PNGs."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        path = folder / f"{prefix}{i}.png"
        Image.fromarray(texture(16, seed * 100 + i)).save(path)
        paths.append(path)
    return paths


def all_bytes(*roots: Path) -> bytes:
    """Every file's bytes and every path under ``roots`` (names count too)."""
    chunks: list[bytes] = []
    for root in roots:
        for folder, dirs, files in os.walk(root):
            for name in dirs + files:
                path = Path(folder, name)
                chunks.append(os.fsencode(path))
                if path.is_file() and not path.is_symlink():
                    chunks.append(path.read_bytes())
    return b"\n".join(chunks)


# -- 4. names that are not UTF-8 ----------------------------------------------------------


def test_a_class_folder_that_is_not_utf8_stops_balance_before_training(tmp_path: Path) -> None:
    data = tmp_path / "data"
    pngs(data / "a", 4)
    pngs(data / latin1(b"pneumonie-d\xe9but"), 4, seed=1)
    out = tmp_path / "out"
    outcome = invoke("balance", str(data), "--out", str(out), *TINY)
    outcome.assert_clean_error("class folder 'pneumonie-d\\xe9but': name is not valid UTF-8")
    assert not list(out.rglob("*.pt")), "nothing is trained"
    root = tmp_path / latin1(b"donn\xe9es")
    pngs(root / "a", 4)
    invoke("inspect", str(root)).assert_clean_error("not valid UTF-8")
    invoke("balance", str(data), "--out", str(root / "out"), *TINY).assert_clean_error("--out '")


# -- 5. FIFOs ------------------------------------------------------------------------------


@pytest.mark.slow
def test_a_fifo_never_hangs_inspect_with_a_decode_pool(tmp_path: Path) -> None:
    """Enough files for the process pool (``--workers 2``) and the header-only scan."""
    root = base(tmp_path / "data", n=30)
    os.mkfifo(root / "a" / "pipe.png")
    for extra in (["--workers", "2"], ["--quick", "--workers", "2"]):
        outcome = run_medaug(["inspect", str(root), "--json", *extra], timeout=240)
        assert outcome.code == 0, outcome.stderr
        assert "not a regular file: a named pipe" in outcome.skipped["a/pipe.png"]
        assert outcome.report["classes"] == {"a": 30, "b": 30}


# -- 6. sizes from checkpoints and options ----------------------------------------------


def _model_pt(path: Path, **changes: object) -> Path:
    """A real simple-cnn ``model.pt`` with some of its metadata changed."""
    from medaug.plugins import create_classifier
    from medaug.training.checkpoint import ClassifierInfo, save_checkpoint
    from medaug.training.normalize import Normalizer

    model = create_classifier("simple-cnn", num_classes=2, in_chans=1, widths=[4, 8])
    info = ClassifierInfo(
        classifier="simple-cnn",
        options={"widths": [4, 8]},
        classes=["a", "b"],
        image_size=16,
        channels=1,
        normalizer=Normalizer((0.5,), (0.25,)),
        threshold=0.5,
        positive_class=None,
    )
    save_checkpoint(path, model, info)
    payload = torch.load(path, weights_only=True)
    payload.update(changes)
    torch.save(payload, path)
    return path


def _generator_checkpoint(path: Path, **changes: object) -> Path:
    from medaug.generation.checkpoint import CheckpointInfo, save_checkpoint

    info = {
        "generator": "dcgan",
        "generator_options": {},
        "image_size": 16,
        "channels": 1,
        "class_name": "a",
        "class_names": ["a"],
        "seed": 0,
        "epochs": 1,
        "epochs_done": 1,
        "batch_size": 8,
        "complete": True,
        "output_format": "png",
        "bit_depth": 8,
        "history": {},
    }
    info.update(changes)
    save_checkpoint(path, CheckpointInfo(**info), {}, digest=False)  # type: ignore[arg-type]
    return path


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"image_size": 100000}, "image_size in model file"),
        ({"channels": 7}, "channels in model file"),
        ({"classes": [f"c{i}" for i in range(20000)]}, "the number of classes in model file"),
        ({"options": {"widths": [4, 1_000_000]}}, "describe a network other than its weights"),
    ],
)
def test_a_model_pt_cannot_make_evaluate_allocate_what_it_asks(
    tmp_path: Path, changes: dict[str, object], message: str
) -> None:
    data = write_image_folder(tmp_path / "data", {"a": 3, "b": 3}, size=16)
    model = _model_pt(tmp_path / "run" / "model.pt", **changes)
    outcome = invoke("evaluate", str(data), "--model", str(model), "--out", str(tmp_path / "ev"))
    outcome.assert_clean_error(message)
    assert str(model) in outcome.stderr


def test_a_generator_checkpoint_cannot_ask_for_any_size(tmp_path: Path) -> None:
    for changes, message in (
        ({"image_size": 100000}, "image_size in checkpoint"),
        ({"channels": 2}, "channels in checkpoint"),
        ({"batch_size": 10**12}, "batch_size in checkpoint"),
        ({"class_names": [f"c{i}" for i in range(20000)]}, "the number of classes"),
    ):
        ckpt = _generator_checkpoint(tmp_path / "ckpt.pt", **changes)
        out = tmp_path / "gen"
        outcome = invoke("generate", "--checkpoint", str(ckpt), "-n", "1", "--out", str(out))
        outcome.assert_clean_error(message)


def test_options_that_grow_memory_without_writing_are_refused(tmp_path: Path) -> None:
    data = tmp_path / "data"
    pngs(data / "NORMAL", 4)
    pngs(data / "PNEUMONIA", 6, seed=1)
    out = tmp_path / "out"
    outcome = invoke(
        "balance", str(data), "--out", str(out), "--strategy", "NORMAL=99999999999999999999"
    )
    outcome.assert_clean_error("target count for class 'NORMAL' is 99999999999999999999")
    assert not list(out.rglob("*.pt"))
    from medaug.output.strategy import resolve_targets

    with pytest.raises(MedaugError, match="--count is 2000000"):
        resolve_targets({"a": 1, "b": 2}, "auto", 2_000_000)
    for args in (
        ["balance", str(data), "--out", str(out), "--count", "2000000"],
        ["balance", str(data), "--out", str(out), "--image-size", "100000"],
        ["generate", "--checkpoint", str(out), "-n", "2000000", "--out", str(out)],
        ["inspect", str(data), "--image-size", "100000"],
    ):
        outcome = invoke(*args)
        assert outcome.code == 2 and "Traceback" not in outcome.stderr, outcome.stderr
        assert "range" in outcome.stderr
    from medaug.data import load_dataset

    with pytest.raises(MedaugError, match="image_size for decoding is 100000"):
        load_dataset(data, image_size=100000)


# -- low: empty checkpoints ------------------------------------------------------------------


def test_an_empty_checkpoint_is_one_line_naming_the_file(tmp_path: Path) -> None:
    data = write_image_folder(tmp_path / "data", {"a": 3, "b": 3}, size=16)
    empty = tmp_path / "run" / "model.pt"
    empty.parent.mkdir()
    empty.write_bytes(b"")
    outcome = invoke("evaluate", str(data), "--model", str(empty), "--out", str(tmp_path / "e"))
    outcome.assert_clean_error(f"cannot read model file {empty}: the file is empty (0 bytes)")
    ckpt = tmp_path / "NORMAL.pt"
    ckpt.write_bytes(b"")
    outcome = invoke("generate", "--checkpoint", str(ckpt), "-n", "1", "--out", str(tmp_path / "g"))
    outcome.assert_clean_error(f"cannot read checkpoint {ckpt}: the file is empty (0 bytes)")
    ckpt.write_bytes(b"PK\x03\x04 cut short")  # a torch zip cut short: a message, not ''
    outcome = invoke("generate", "--checkpoint", str(ckpt), "-n", "1", "--out", str(tmp_path / "g"))
    outcome.assert_clean_error(f"cannot read checkpoint {ckpt}: ")
    assert not outcome.stderr.strip().endswith(": ")


# -- low: 245-character names, carriage returns, spreadsheet formulas -------------------------


def test_long_names_fit_the_file_system(tmp_path: Path) -> None:
    from medaug.atomic import atomic_write_text, tmp_path_for
    from medaug.balancing.files import link_file
    from medaug.balancing.inputs import real_names
    from medaug.contracts.reader import ImageRecord
    from medaug.data.names import class_folder_name
    from medaug.filenames import NAME_MAX, fit_name

    name = "x" * 245 + ".png"
    target = tmp_path / name
    assert len(os.fsencode(tmp_path_for(target).name)) <= NAME_MAX
    atomic_write_text(target, "ok")  # used to fail with ENAMETOOLONG on the temporary name
    copy = tmp_path / "copies" / name
    link_file(target, copy, "copy")
    assert copy.read_text() == "ok"
    records = [ImageRecord(tmp_path / "d" / sub / name, "a", "p") for sub in ("s1", "s2", "s3")] + [
        ImageRecord(tmp_path / "d" / ("synthetic_" + "y" * 240 + ".png"), "a", "p")
    ]
    names = list(real_names(records, tmp_path / "d").values())
    assert len(set(names)) == 4 and all(len(os.fsencode(n)) <= NAME_MAX for n in names)
    assert all(n.endswith(".png") for n in names)
    long_class = "class " + "z" * 300
    assert len(os.fsencode(class_folder_name(long_class))) <= NAME_MAX
    assert fit_name("é" * 200 + ".png") != fit_name("é" * 199 + "e.png")


def test_manifest_round_trips_carriage_returns_and_formulas(tmp_path: Path) -> None:
    from medaug.output.manifest import ManifestRow, read_manifest, write_manifest

    rows = [
        ManifestRow("dataset/a/x\ry.png", "a", "real", original_path="/data/a/x\ry.png"),
        ManifestRow("dataset/=cmd|calc/z.png", "=cmd|calc", "real", original_path="@SUM(A1)"),
        ManifestRow("dataset/b/q.png", "+1+1", "synthetic", seed="-3", generator="'quoted"),
        ManifestRow("dataset/b/t.png", "\tTAB", "synthetic", generator_options="-0.5"),
    ]
    path = tmp_path / "manifest.csv"
    write_manifest(path, rows)
    assert read_manifest(path) == sorted(rows, key=lambda r: r.path)
    with open(path, newline="", encoding="utf-8") as fh:
        cells = [cell for row in csv.reader(fh) for cell in row]
    dangerous = [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")]
    assert dangerous == ["-3", "-0.5"]  # numbers only: every formula-like text is escaped
    assert "'=cmd|calc" in cells and "'@SUM(A1)" in cells and "''quoted" in cells


# -- low: identical files ----------------------------------------------------------------------


def test_identical_files_are_named_by_inspect(tmp_path: Path) -> None:
    data = tmp_path / "data"
    a = pngs(data / "a", 3)
    pngs(data / "b", 3, seed=1)
    (data / "b" / "copy_of_a0.png").write_bytes(a[0].read_bytes())
    (data / "a" / "again.png").write_bytes(a[1].read_bytes())
    outcome = invoke("inspect", str(data), "--json", "--workers", "1")
    assert outcome.code == 0, outcome.stderr
    groups = outcome.report["duplicates"]
    assert {"files": ["a/img0.png", "b/copy_of_a0.png"], "classes": ["a", "b"]} in groups
    assert {"files": ["a/again.png", "a/img1.png"], "classes": ["a", "a"]} in groups
    assert "in several classes (a, b): a/img0.png, b/copy_of_a0.png" in outcome.stderr
    assert "2 times in class 'a': a/again.png, a/img1.png" in outcome.stderr


# -- low: plugins --------------------------------------------------------------------------


CHATTY = """
print("hello from a chatty plugin")
import medaug

@medaug.hookimpl
def register_generators(register):
    print("registering")
    register("chatty-gan", dict)
"""

IMPOSTOR = """
import medaug

@medaug.hookimpl
def register_generators(register):
    register("impostor-gan", dict)
"""


def test_a_plugin_printing_at_import_leaves_plugins_json_pure(tmp_path: Path) -> None:
    fake_distribution(tmp_path, "medaug-chatty", "medaug_chatty_test", CHATTY, "chatty")
    env = {"PYTHONPATH": str(tmp_path)}
    outcome = run_medaug(["plugins", "--json"], env=env)
    assert outcome.code == 0, outcome.stderr
    rows = json.loads(outcome.stdout)  # nothing but JSON on stdout
    assert any(r["name"] == "chatty-gan" for r in rows)
    assert "hello from a chatty plugin" in outcome.stderr


@pytest.fixture
def impostor(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    fake_distribution(tmp_path, "medaug-impostor", "medaug_impostor_test", IMPOSTOR, "dcgan")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    sys.modules.pop("medaug_impostor_test", None)


def test_a_third_party_entry_point_cannot_replace_a_builtin(impostor: Path) -> None:
    from medaug.plugins import PluginHost

    with pytest.warns(PluginLoadWarning) as record:
        host = PluginHost()
    messages = [str(w.message) for w in record]
    assert any(
        "'dcgan' (medaug-impostor, module medaug_impostor_test) was not loaded" in m
        and "the built-in plugin 'dcgan' (medaug, module medaug_dcgan)" in m
        for m in messages
    ), messages
    assert host.plugin_info("dcgan").builtin
    assert host.registry("generator").get("dcgan").plugin == "dcgan"
    assert "impostor-gan" not in host.registry("generator")
    assert "medaug_impostor_test" not in sys.modules  # never even imported


# -- 8. no network at start-up ----------------------------------------------------------------

#: runs ``medaug`` (or ``-c`` code) with every network call recorded and refused
NETWORK_GUARD = """
import json, os, runpy, socket, sys

LOG = os.environ["MEDAUG_TEST_NET_LOG"]


def refuse(what, *args):
    with open(LOG, "a", encoding="utf-8") as fh:
        fh.write(json.dumps([what, repr(args)[:200]]) + "\\n")
    raise OSError(f"network disabled by the test ({what})")


_connect, _connect_ex = socket.socket.connect, socket.socket.connect_ex


def connect(self, address):
    if self.family == socket.AF_UNIX:
        return _connect(self, address)
    refuse("connect", address)


def connect_ex(self, address):
    if self.family == socket.AF_UNIX:
        return _connect_ex(self, address)
    refuse("connect_ex", address)


socket.socket.connect = connect
socket.socket.connect_ex = connect_ex
socket.getaddrinfo = lambda *a, **k: refuse("getaddrinfo", *a)
socket.gethostbyname = lambda *a, **k: refuse("gethostbyname", *a)
socket.create_connection = lambda *a, **k: refuse("create_connection", *a)
if sys.argv[1] == "-c":
    exec(sys.argv[2])
else:
    sys.argv = ["medaug", *sys.argv[1:]]
    runpy.run_module("medaug", run_name="__main__", alter_sys=True)
"""


def _guarded(args: list[str], log: Path, env: dict[str, str] | None = None) -> Outcome:
    done = subprocess.run(
        [sys.executable, "-c", NETWORK_GUARD, *args],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "MEDAUG_TEST_NET_LOG": str(log), **(env or {})},
        check=False,
    )
    return Outcome(done.returncode, done.stdout, done.stderr)


@pytest.mark.slow
def test_the_network_guard_catches_albumentations_update_check(tmp_path: Path) -> None:
    """The guard itself works: albumentations, imported without medaug and without
    ``NO_ALBUMENTATIONS_UPDATE``, tries to reach PyPI and is caught."""
    log = tmp_path / "net.log"
    env = {k: v for k, v in os.environ.items() if k != "NO_ALBUMENTATIONS_UPDATE"}
    done = subprocess.run(
        [sys.executable, "-c", NETWORK_GUARD, "-c", "import albumentations"],
        capture_output=True,
        text=True,
        timeout=300,
        env={**env, "MEDAUG_TEST_NET_LOG": str(log)},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert log.is_file() and log.read_text().strip(), "albumentations made no attempt"


@pytest.mark.slow
def test_train_evaluate_and_experiment_never_touch_the_network(tmp_path: Path) -> None:
    data = write_image_folder(tmp_path / "train", {"NORMAL": 8, "PNEUMONIA": 12}, size=16)
    test = write_image_folder(tmp_path / "test", {"NORMAL": 4, "PNEUMONIA": 4}, size=16, seed=1)
    log = tmp_path / "net.log"
    small = ["--classifier", "simple-cnn", "--image-size", "16", "--epochs", "1"]
    small += ["--batch-size", "4", "--classifier-option", "widths=[4,8]", "--augment", "none"]
    commands = {
        "train": ["train", str(data), *small, "--out", str(tmp_path / "run")],
        "evaluate": [
            "evaluate",
            str(test),
            "--model",
            str(tmp_path / "run" / "model.pt"),
            "--out",
            str(tmp_path / "ev"),
        ],
        "experiment": [
            "experiment",
            "--train",
            str(data),
            "--test",
            str(test),
            *small,
            "--arms",
            "baseline",
            "--seeds",
            "1",
            "--no-audit",
            "--out",
            str(tmp_path / "exp"),
        ],
    }
    for name, args in commands.items():
        outcome = _guarded(args, log, env={"NO_ALBUMENTATIONS_UPDATE": "0"})
        assert outcome.code == 0, (name, outcome.stderr)
        attempts = log.read_text() if log.exists() else ""
        assert attempts == "", f"{name} tried to reach the network: {attempts}"


# -- 9. the DICOM display rule -------------------------------------------------------------


def test_auto_shows_8_bit_values_as_stored_and_keeps_min_max_for_deeper_data(
    tmp_path: Path,
) -> None:
    from medaug_dicom.reader import TOKEN_VERSION, DicomReader

    from medaug.data import DataOptions, load_dataset
    from medaug.testing import DicomSpec, write_dicom

    data = tmp_path / "data"
    flat8 = np.full((16, 16), 100, np.uint8)
    flat8[0, 0] = 140  # min-max would stretch 100..140 to 0..255
    write_dicom(data / "a" / "eight.dcm", flat8, DicomSpec(bits_stored=8), patient_id="a")
    deep = np.full((16, 16), 1000, np.uint16)
    deep[0, 0] = 3000
    write_dicom(data / "b" / "twelve.dcm", deep, DicomSpec(bits_stored=12), patient_id="b")
    ds = load_dataset(data, image_size=16, progress=False, options=DataOptions(workers=1))
    by_name = {r.path.name: np.asarray(ds.images[i]) for i, r in enumerate(ds.records)}
    widen = 257 if ds.bit_depth == 16 else 1  # the 12-bit file makes the dataset 16-bit
    assert int(np.median(by_name["eight.dcm"])) == 100 * widen  # as stored, as pixel_array
    twelve = by_name["twelve.dcm"]
    assert twelve.min() == 0  # min-max: the frame's lowest value is black
    minmax = load_dataset(
        data,
        image_size=16,
        progress=False,
        options=DataOptions(workers=1, reader_options={"window": "minmax"}),
    )
    eight = np.asarray(minmax.images[[r.path.name for r in minmax.records].index("eight.dcm")])
    assert eight.min() == 0  # --window minmax is still there
    assert TOKEN_VERSION == 4 and ":4:" in DicomReader().cache_token()  # old rows not reused


# -- 7 + low items, end to end: one balance run over every awkward input ---------------------


def _awkward_dataset(root: Path) -> dict[str, Path]:
    """Two classes (one named like a spreadsheet formula) with a Latin-1 file name, a
    FIFO, a 245-character name, a carriage return in a name, identical files across
    the classes and a file that is not an image."""
    normal = pngs(root / "NORMAL", 5)
    pngs(root / "=cmd|calc", 7, seed=1)
    write(root / "NORMAL" / latin1(b"caf\xe9.png"), png_bytes())
    os.mkfifo(root / "NORMAL" / "pipe.png")
    long = root / "=cmd|calc" / ("x" * 245 + ".png")
    Image.fromarray(texture(16, 55)).save(long, format="PNG")
    cr = root / "NORMAL" / "scan\r1.png"
    Image.fromarray(texture(16, 77)).save(cr, format="PNG")
    copy = root / "=cmd|calc" / "dup.png"
    copy.write_bytes(normal[0].read_bytes())
    (root / "NORMAL" / "notes.txt").write_text("not an image")
    return {"long": long, "cr": cr, "copy": copy, "original": normal[0]}


@pytest.mark.slow
def test_balance_over_awkward_names_finishes_and_says_what_it_skipped(tmp_path: Path) -> None:
    data = tmp_path / "data"
    files = _awkward_dataset(data)
    before = tree_state(data)
    out = tmp_path / "out"
    args = ["balance", str(data), "--out", str(out), *TINY]
    outcome = run_medaug(args, timeout=600, env={"COLUMNS": "250"})
    assert outcome.code == 0, outcome.stderr
    assert tree_state(data) == before
    # the normal output names the skipped files' reasons and points to the report
    shown = outcome.stdout + outcome.stderr
    assert "Skipped:  skipped 3 input file(s)" in outcome.stdout, shown
    same = "the same image is in several classes (=cmd|calc, NORMAL): "
    assert f"warning: {same}=cmd|calc/dup.png, NORMAL/img0.png" in shown
    assert "skipped 3 input file(s): " in outcome.stderr and "(listed in the report)" in shown
    from medaug.output.manifest import read_manifest

    rows = read_manifest(out / "manifest.csv")
    originals = {r.original_path for r in rows if r.source == "real"}
    assert str(files["cr"]) in originals and str(files["long"]) in originals
    assert {r.label for r in rows} == {"NORMAL", "=cmd|calc"}
    assert all((out / r.path).is_file() for r in rows)
    with open(out / "manifest.csv", newline="", encoding="utf-8") as fh:
        assert all(not c.startswith("=") for row in csv.reader(fh) for c in row)
    report = (out / "report" / "report.md").read_text("utf-8")
    assert "## Skipped input files" in report
    for shown in ("NORMAL/caf\\xe9.png", "NORMAL/pipe.png", "NORMAL/notes.txt"):
        assert shown in report
    assert f"{same}=cmd|calc/dup.png, NORMAL/img0.png" in report  # identical files
    summary = json.loads((out / ".medaug-run.json").read_text("utf-8"))["summary"]
    assert summary["skipped"]["count"] == 3
    from medaug.datasets import BalancedFolder

    folder = BalancedFolder(out, image_size=16)  # reads the manifest back, every name
    assert len(folder) == len(rows) and set(folder.classes) == {"NORMAL", "=cmd|calc"}
    assert folder.load_image(0).shape == (1, 16, 16)
    again = run_medaug([*args, "--resume", "--json"], timeout=300)  # resumable, idempotent
    assert again.code == 0 and json.loads(again.stdout)["status"] == "already_complete"


@pytest.mark.slow
def test_deidentified_output_carries_no_identifier(tmp_path: Path) -> None:
    """File names are PatientIDs (as in the RSNA export): none reaches OUT's names,
    manifest, report or run record, nor the decode cache."""
    from medaug.data.cache import cache_root
    from medaug.testing import DicomSpec, write_dicom

    data = tmp_path / "data"
    rng = np.random.default_rng(0)
    for cls, n in (("NORMAL", 4), ("PNEUMONIA", 6)):
        for i in range(n):
            pid = f"MRN-{cls[0]}{i:04d}"
            pixels = rng.integers(0, 255, (16, 16), dtype=np.uint8)
            write_dicom(data / cls / f"{pid}.dcm", pixels, DicomSpec(bits_stored=8), patient_id=pid)
    dup = data / "PNEUMONIA" / "MRN-P0000.dcm"
    (data / "NORMAL" / "MRN-DUP01.dcm").write_bytes(dup.read_bytes())
    (data / "NORMAL" / "MRN-TXT01.txt").write_text("a note")
    out = tmp_path / "out"
    outcome = run_medaug(
        ["balance", str(data), "--out", str(out), *TINY, "--link", "copy-deidentified"],
        timeout=600,
    )
    assert outcome.code == 0, outcome.stderr
    assert b"MRN-" not in all_bytes(out), "an identifier reached OUT"
    assert b"MRN-" not in all_bytes(cache_root()), "an identifier reached the cache"
    names = sorted(p.name for p in (out / "dataset" / "NORMAL").glob("real_*"))
    assert names == [f"real_{i:05d}.dcm" for i in range(1, 6)]
    report = (out / "report" / "report.md").read_text("utf-8")
    assert "names withheld (--link copy-deidentified)" in report
    assert "the same image is in several classes" in report  # named by their place in OUT
