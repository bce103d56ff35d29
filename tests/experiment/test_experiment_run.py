"""``medaug experiment`` end to end on tiny folders (fake and real generators), resumption."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import torch
from click.testing import CliRunner

import medaug
import medaug.data  # core: a broken import must fail, not skip
from medaug.cli import build_cli
from medaug.contracts.generator import FitCallback, Generator
from medaug.errors import MedaugError
from medaug.plugins import get_host
from tests.helpers import write_image_folder


class MeanGenerator(Generator):
    """Test double: samples the training mean image plus a little noise."""

    supported_sizes = (16, 32)
    fits: int = 0

    def __init__(
        self, image_size: int, channels: int, device: Any = None, num_classes: int = 1
    ) -> None:
        self.image_size, self.channels, self.device = image_size, channels, torch.device("cpu")
        self.mean = torch.zeros(channels, image_size, image_size)
        self._epochs = 0

    def fit(
        self,
        images: torch.Tensor,
        *,
        epochs: int,
        batch_size: int,
        seed: int,
        labels: torch.Tensor | None = None,
        callback: FitCallback | None = None,
    ) -> None:
        assert images.min() >= -1 and images.max() <= 1
        MeanGenerator.fits += 1
        self.mean, self._epochs = images.mean(0), epochs

    def sample(self, n: int, *, seed: int, labels: torch.Tensor | None = None) -> torch.Tensor:
        g = torch.Generator().manual_seed(seed)
        return (self.mean + 0.05 * torch.randn(n, *self.mean.shape, generator=g)).clamp(-1, 1)

    def state_dict(self) -> dict[str, Any]:
        return {"mean": self.mean, "epochs": self._epochs}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.mean, self._epochs = state["mean"], int(state["epochs"])

    @property
    def epochs_done(self) -> int:
        return self._epochs


class FakePlugin:
    @medaug.hookimpl
    def register_generators(self, register: Any) -> None:
        register("mean-gen", MeanGenerator)


@pytest.fixture
def folders(tmp_path: Path) -> tuple[Path, Path]:
    train = write_image_folder(tmp_path / "train", {"NORMAL": 10, "PNEUMONIA": 24}, size=20, seed=1)
    test = write_image_folder(tmp_path / "test", {"NORMAL": 6, "PNEUMONIA": 6}, size=20, seed=2)
    return train, test


@pytest.fixture
def fake_generator() -> None:
    get_host().register(FakePlugin(), name="fake-gen")
    MeanGenerator.fits = 0


BASE = [
    "--classifier",
    "simple-cnn",
    "--image-size",
    "16",
    "--epochs",
    "1",
    "--batch-size",
    "8",
    "--classifier-option",
    "widths=[8,16]",
    "--augment",
    "light",
    "--val-split",
    "0.3",
]


def _run(train: Path, test: Path, out: Path, *extra: str) -> Any:
    return CliRunner().invoke(
        build_cli(),
        [
            "experiment",
            "--train",
            str(train),
            "--test",
            str(test),
            "--out",
            str(out),
            *BASE,
            *extra,
        ],
    )


@pytest.mark.slow
@pytest.mark.usefixtures("fake_generator")
def test_experiment_all_arms_json_and_resume(
    folders: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    train, test = folders
    out = tmp_path / "out"
    res = _run(
        train, test, out, "--generator", "mean-gen", "--seeds", "2", "--synthetic", "5", "--json"
    )
    assert res.exit_code == 0, res.output + res.stderr
    results = json.loads(res.stdout)
    assert list(results["summary"]) == ["baseline", "gan", "classic"]
    for arm in ("baseline", "gan", "classic"):
        acc = results["summary"][arm]["accuracy"]
        assert acc["n"] == 2 and 0.0 <= acc["mean"] <= 1.0 and acc["std"] is not None
    runs = {(r["arm"], r["seed"]): r for r in results["runs"]}
    assert len(runs) == 6
    base_n = runs[("baseline", 0)]["n_train"]
    assert runs[("gan", 0)]["n_train"] == base_n + 5 == runs[("classic", 0)]["n_train"]
    assert runs[("gan", 0)]["added"] == {"NORMAL": 5}
    assert sum(map(sum, runs[("gan", 1)]["test"]["confusion_matrix"])) == 12
    assert MeanGenerator.fits == 2  # once per seed
    assert results["sentences"][0].startswith("gan vs baseline: ")
    assert results["positive_class"] == "PNEUMONIA"
    assert "classifier_plugin" in results["versions"]
    for name in ("results.json", "report.md", "metrics_by_arm.png", "experiment.json"):
        assert (out / name).is_file()
    assert (out / "runs" / "seed1" / "gan" / "test_confusion.png").is_file()
    report = (out / "report.md").read_text()
    assert "Table II" in report
    verdict_line = report.split("## Table II")[0].strip().splitlines()[-1]
    assert verdict_line.startswith("**Verdict:** best arm: ")

    # resume: nothing is retrained, and the numbers are the same
    def boom(*a: Any, **k: Any) -> None:
        raise AssertionError("a finished run was recomputed")

    monkeypatch.setattr("medaug.experiments.runner.fit_and_evaluate", boom)
    monkeypatch.setattr("medaug.generation.fitting.GeneratorFitter.fit", boom)
    again = _run(
        train, test, out, "--generator", "mean-gen", "--seeds", "2", "--synthetic", "5", "--json"
    )
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout)["summary"] == results["summary"]

    # other settings in the same folder are refused
    other = _run(train, test, out, "--generator", "mean-gen", "--seeds", "2", "--synthetic", "6")
    assert other.exit_code == 1 and "other settings" in other.stderr


@pytest.mark.usefixtures("fake_generator")
def test_interrupted_run_resumes_only_missing(folders: tuple[Path, Path], tmp_path: Path) -> None:
    train, test = folders
    out = tmp_path / "out"
    assert (
        _run(
            train, test, out, "--generator", "mean-gen", "--arms", "baseline,gan", "--seeds", "1"
        ).exit_code
        == 0
    )
    (out / "runs" / "seed0" / "gan" / "result.json").unlink()  # as if killed mid-run
    res = _run(
        train, test, out, "--generator", "mean-gen", "--arms", "baseline,gan", "--seeds", "1"
    )
    assert res.exit_code == 0
    assert "seed 0 baseline: already done" in res.stderr
    # the generator checkpoint is reused, not retrained
    assert "NORMAL: training already complete" in " ".join(res.stderr.split())
    assert MeanGenerator.fits == 1
    assert "gan vs baseline" in res.stdout


def test_arm_selection_and_errors(folders: tuple[Path, Path], tmp_path: Path) -> None:
    train, test = folders
    ok = _run(train, test, tmp_path / "b", "--arms", "baseline,classic", "--seeds", "1", "--json")
    assert ok.exit_code == 0, ok.output
    assert list(json.loads(ok.stdout)["summary"]) == ["baseline", "classic"]
    bad = _run(train, test, tmp_path / "c", "--arms", "baseline,gann")
    assert bad.exit_code == 1 and "unknown arm" in bad.stderr
    nogen = _run(train, test, tmp_path / "d", "--arms", "gan")
    assert nogen.exit_code == 1 and "needs --generator" in nogen.stderr
    same = _run(train, train, tmp_path / "e", "--arms", "baseline")
    assert same.exit_code == 1 and "same folder" in same.stderr
    inside = _run(train, test, train / "x", "--arms", "baseline")
    assert inside.exit_code == 1 and "is inside the input" in inside.stderr
    for refused in ("c", "d", "e"):  # a run that fails before writing leaves no folder
        assert not (tmp_path / refused).exists()


@pytest.mark.slow
def test_experiment_with_the_real_dcgan(folders: tuple[Path, Path], tmp_path: Path) -> None:
    """The issue's done-when command, shrunk: the first-party dcgan plugin at 16 px."""
    if "dcgan" not in medaug.list_generators():
        pytest.skip("dcgan plugin not installed")
    train, test = folders
    res = _run(
        train,
        test,
        tmp_path / "out",
        "--generator",
        "dcgan",
        "--seeds",
        "2",
        "--gen-epochs",
        "1",
        "--gen-option",
        "ngf=8",
        "--gen-option",
        "ndf=8",
        "--json",
    )
    assert res.exit_code == 0, res.output + res.stderr
    results = json.loads(res.stdout)
    assert set(results["summary"]) == {"baseline", "gan", "classic"}
    assert (tmp_path / "out" / "generators" / "seed1" / "NORMAL.png").is_file()


def test_config_validation() -> None:
    from medaug.experiments import ExperimentConfig

    with pytest.raises(MedaugError, match="seeds"):
        ExperimentConfig(
            train=Path("a"),
            test=Path("b"),
            out=Path("c"),
            classifier="simple-cnn",
            arms=("baseline",),
            seeds=0,
        )
    a = ExperimentConfig(
        train=Path("a"),
        test=Path("b"),
        out=Path("c"),
        classifier="simple-cnn",
        arms=("baseline",),
        seeds=2,
    )
    b = ExperimentConfig(
        train=Path("a"),
        test=Path("b"),
        out=Path("d"),
        classifier="simple-cnn",
        arms=("baseline",),
        seeds=5,
    )
    assert a.fingerprint() == b.fingerprint()  # more seeds / other out: same experiment


def test_generators_train_by_steps_unless_epochs_are_given() -> None:
    from medaug.balancing.config import DEFAULT_STEPS
    from medaug.experiments import ExperimentConfig

    kw: dict[str, Any] = {"train": Path("a"), "test": Path("b"), "out": Path("c")}
    kw.update(classifier="simple-cnn", arms=("baseline",))
    assert ExperimentConfig(**kw).effective_gen_steps == DEFAULT_STEPS  # as in balance
    by_epochs = ExperimentConfig(**kw, gen_epochs=3)
    assert (by_epochs.effective_gen_steps, by_epochs.effective_gen_epochs) == (None, 3)
    assert ExperimentConfig(**kw, gen_epochs=3, gen_steps=7).effective_gen_steps == 7
    with pytest.raises(MedaugError, match=r"^gen_epochs must"):
        ExperimentConfig(**kw, gen_epochs=0)


def test_experiment_on_dicoms_with_labels_csv(tmp_path: Path) -> None:
    """--labels (and the other dataset options) apply to both --train and --test."""
    from tests.helpers import write_labelled_dicoms

    csv = tmp_path / "labels.csv"
    classes = ("Lung Opacity", "No Lung Opacity / Not Normal")
    counts = {"Lung Opacity": 8, "No Lung Opacity / Not Normal": 14}
    train = write_labelled_dicoms(tmp_path / "train", csv, counts, seed=1)
    test = write_labelled_dicoms(tmp_path / "test", csv, dict.fromkeys(classes, 4), seed=2)
    out = tmp_path / "out"
    args = ["--arms", "baseline,classic", "--seeds", "1", "--synthetic", "3"]
    res = _run(train, test, out, *args, "--labels", str(csv), "--workers", "1", "--json")
    assert res.exit_code == 0, res.output
    results = json.loads(res.stdout)
    assert list(results["summary"]) == ["baseline", "classic"]
    assert results["data"]["train"] == counts
    assert results["data"]["test"] == dict.fromkeys(classes, 4)
    # cache_dir/workers do not change what is read: same experiment, runs reused
    again = _run(train, test, out, *args, "--labels", str(csv), "--cache-dir", str(tmp_path / "c"))
    assert again.exit_code == 0, again.output
    assert "already done" in again.stderr
    # another reader setting is another experiment
    other = _run(train, test, out, *args, "--labels", str(csv), "--label-column", "class")
    assert other.exit_code == 1 and "other settings" in other.stderr


def test_fingerprint_ignores_default_data_options() -> None:
    """Experiments from before ``data_options`` existed keep their fingerprint."""
    import hashlib

    from medaug.data import DataOptions
    from medaug.experiments import ExperimentConfig

    kw: dict[str, Any] = {
        "train": Path("a"),
        "test": Path("b"),
        "out": Path("c"),
        "classifier": "simple-cnn",
        "arms": ("baseline",),
        "max_synthetic_share": None,  # the runs before the share cap: no cap
    }
    plain = ExperimentConfig(**kw)
    d = plain.to_dict()
    new = (  # newer than the old runs
        *("data_options", "gen_steps", "audit", "audit_options"),
        *("gen_checkpoint_every", "min_class_images", "max_synthetic_share", "curation"),
    )
    for key in ("out", "arms", "seeds", "device", *new):
        d.pop(key)
    d["train_config"].pop("synthetic_weight")
    d["train"], d["test"] = str(Path("a").resolve()), str(Path("b").resolve())
    old = hashlib.sha256(json.dumps(d, sort_keys=True, default=str).encode()).hexdigest()[:16]
    assert plain.fingerprint() == old
    defaults = DataOptions(reader="auto", cache_dir=Path("/tmp/x"), workers=2)
    assert ExperimentConfig(**kw, options=defaults).fingerprint() == old
    assert ExperimentConfig(**kw, options=DataOptions(labels=Path("l.csv"))).fingerprint() != old
    assert ExperimentConfig(**kw, options=DataOptions(reader="dicom")).fingerprint() != old
    assert ExperimentConfig(**kw, min_class_images=2).fingerprint() != old
    assert ExperimentConfig(**kw, gen_checkpoint_every=50).fingerprint() != old


def test_a_test_folder_without_a_class_gives_null_metrics_and_a_warning(
    folders: tuple[Path, Path], tmp_path: Path
) -> None:
    train, _ = folders
    test = write_image_folder(tmp_path / "only-pneumonia", {"PNEUMONIA": 6}, size=20, seed=3)
    res = _run(train, test, tmp_path / "o", "--arms", "baseline,classic", "--seeds", "1", "--json")
    assert res.exit_code == 0, res.output
    results = json.loads(res.stdout)
    # no NORMAL (negative) image: specificity and ROC-AUC do not exist, they are not 0
    for arm in ("baseline", "classic"):
        assert results["summary"][arm]["specificity"]["mean"] is None
        assert results["summary"][arm]["roc_auc"]["mean"] is None
    assert results["comparisons"]["classic"]["specificity"]["mean"] is None
    assert any(
        "specificity is undefined on the test folder (no NORMAL (negative) images)" in w
        for w in results["warnings"]
    )
    assert "warning: specificity is undefined" in " ".join(res.stderr.split())
    report = (tmp_path / "o" / "report.md").read_text()
    assert "## Warnings" in report
    paired = report.split("## Paired differences")[1].splitlines()
    header = next(line for line in paired if line.startswith("| Arm"))
    row = next(line for line in paired if line.startswith("| classic"))
    cells = dict(zip(header.split("|"), row.split("|"), strict=True))
    assert cells[" Specificity "].strip() == "n/a"  # not "+0.0"


@pytest.mark.usefixtures("fake_generator")
def test_each_seeds_synthetic_images_are_audited_next_to_the_accuracy(tmp_path: Path) -> None:
    train = write_image_folder(tmp_path / "train", {"NORMAL": 32, "PNEUMONIA": 60}, size=20, seed=1)
    test = write_image_folder(tmp_path / "test", {"NORMAL": 6, "PNEUMONIA": 6}, size=20, seed=2)
    res = _run(
        train,
        test,
        tmp_path / "o",
        *("--generator", "mean-gen", "--arms", "baseline,gan", "--seeds", "1"),
        *("--val-split", "0.1", "--audit-option", "steps=20", "--json"),
    )
    assert res.exit_code == 0, res.output
    results = json.loads(res.stdout)
    audit = results["audits"]["0"]["classes"]["NORMAL"]
    for key in ("fid", "precision", "recall", "coverage", "c2st_auc", "baseline", "verdict"):
        assert key in audit
    gan = json.loads((tmp_path / "o" / "runs" / "seed0" / "gan" / "result.json").read_text())
    assert gan["audit"]["classes"]["NORMAL"]["fid"] == audit["fid"]
    assert (tmp_path / "o" / "generators" / "seed0" / "audit.json").is_file()
    assert "Audit of the synthetic images (per seed)" in (tmp_path / "o" / "report.md").read_text()


def test_balance_and_experiment_share_one_generator_settings_translation() -> None:
    from medaug.balancing.config import BalanceConfig
    from medaug.experiments import ExperimentConfig
    from medaug.generation.fitting import DataShape, GeneratorSpec

    balance = BalanceConfig(
        out=Path("o"), data=Path("d"), steps=300, checkpoint_every=50, min_class_images=2
    )
    experiment = ExperimentConfig(
        train=Path("a"),
        test=Path("b"),
        out=Path("c"),
        classifier="simple-cnn",
        generator="dcgan",
        gen_steps=300,
        gen_checkpoint_every=50,
        min_class_images=2,
    )
    shape, cpu = DataShape(32, 1), torch.device("cpu")
    made = GeneratorSpec.of(experiment.generation(seed=0), shape, cpu)
    assert made == GeneratorSpec.of(balance.generation(), shape, cpu)
    assert (made.steps, made.checkpoint_every, made.min_images) == (300, 50, 2)
    by_epochs = ExperimentConfig(
        train=Path("a"),
        test=Path("b"),
        out=Path("c"),
        classifier="simple-cnn",
        generator="dcgan",
        gen_epochs=3,
    ).generation(seed=1)
    assert (by_epochs.steps, by_epochs.epochs, by_epochs.checkpoint_every) == (None, 3, None)
