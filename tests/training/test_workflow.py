"""The library verbs ``train``/``evaluate`` and the shared ``fit_and_evaluate`` step."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from medaug.data.options import DataOptions
from medaug.errors import MedaugError
from medaug.training import (
    EvalSettings,
    ModelSpec,
    Placement,
    Recipe,
    RunData,
    RunRecord,
    TensorData,
    TrainConfig,
    TrainRequest,
    evaluate,
    fit_and_evaluate,
    load_pipeline,
    train,
)
from tests.helpers import tree_hash
from tests.training.test_trainer import separable

SAMPLE = Path(__file__).resolve().parents[2] / "medaug" / "sample_data" / "chestxray2017-sample"
CPU = torch.device("cpu")
ON_CPU = Placement(CPU)
SMALL = ModelSpec("simple-cnn", {"widths": [8, 16]})

#: the keys ``medaug train`` has always written to metrics.json
TRAIN_KEYS = {
    "split",
    "data",
    "val",
    "data_options",
    "classifier",
    "classifier_options",
    "train_config",
    "parallel",
    "augment",
    "image_size",
    "channels",
    "train_counts",
    "val_counts",
    "best_epoch",
    "epochs_run",
    "stopped_early",
    "threshold",
    "seconds",
    "metrics",
    "files",
}
EVAL_KEYS = {"split", "data", "model", "data_options", "classifier", "counts", "metrics", "files"}


@pytest.fixture
def chest_sample(tmp_path: Path) -> Path:
    """Ten real radiographs per class, copied from the bundled sample."""
    root = tmp_path / "chest"
    for cls in ("NORMAL", "PNEUMONIA"):
        (root / cls).mkdir(parents=True)
        for src in sorted((SAMPLE / cls).glob("*.png"))[:10]:
            shutil.copy2(src, root / cls / src.name)
    return root


def _agrees(predictions_true: list[int], predictions_pred: list[int], cm: list[list[int]]) -> bool:
    counts = np.zeros_like(np.asarray(cm))
    for t, p in zip(predictions_true, predictions_pred, strict=True):
        counts[t, p] += 1
    return bool((counts == np.asarray(cm)).all())


def test_train_then_evaluate_from_python(chest_sample: Path, tmp_path: Path) -> None:
    before = tree_hash(chest_sample)
    request = TrainRequest(
        data=chest_sample,
        out=tmp_path / "run",
        model=SMALL,
        config=TrainConfig(epochs=1, batch_size=8),
        val_split=0.3,
        image_size=16,
        augment="light",
        device="cpu",
    )
    lines: list[str] = []
    rows: list[dict[str, float]] = []
    outcome = train(request, log=lines.append, on_epoch=rows.append)

    assert outcome.out == (tmp_path / "run").resolve()
    report = json.loads((outcome.out / "metrics.json").read_text())
    assert report == json.loads(json.dumps(outcome.report))
    assert set(report) == TRAIN_KEYS
    assert report["train_config"] == request.config.to_dict()
    assert report["val"] == "patient split 0.3" and report["data_options"] == {}
    record = outcome.record
    assert record.split == "validation" and record.classes == ["NORMAL", "PNEUMONIA"]
    assert record.positive_class == "PNEUMONIA" and "positive class: PNEUMONIA" in lines
    assert len(rows) == 1 and record.epochs_run == 1
    assert record.n_train + record.n_val == 20 and record.n_val > 0
    assert record.metrics == record.val_metrics == report["metrics"]
    preds = record.predictions
    assert len(preds) == record.n_val and preds.y_score is not None
    assert _agrees(preds.y_true, preds.y_pred, record.metrics["confusion_matrix"])
    assert all(
        (p == 1) == (s >= record.threshold)
        for p, s in zip(preds.y_pred, preds.y_score, strict=True)
    )
    for name in ("model", "history", "curves", "augment", "roc", "confusion"):
        assert record.files[name].is_file(), name
    assert record.files["roc"].name == "val_roc.png"
    json.dumps(record.to_dict())

    ev = evaluate(
        outcome.model_path, chest_sample, out=tmp_path / "ev", settings=EvalSettings(device="cpu")
    )
    assert set(ev.report) == EVAL_KEYS
    assert json.loads((tmp_path / "ev" / "metrics.json").read_text())["counts"] == ev.counts
    assert ev.counts == {"NORMAL": 10, "PNEUMONIA": 10} and len(ev.predictions) == 20
    assert ev.threshold == record.threshold
    assert _agrees(ev.predictions.y_true, ev.predictions.y_pred, ev.metrics["confusion_matrix"])
    assert ev.files["roc"].is_file() and ev.files["confusion"].is_file()

    strict = evaluate(
        outcome.model_path, chest_sample, settings=EvalSettings(threshold=0.999, device="cpu")
    )
    assert strict.out == outcome.out / "evaluate-chest"
    assert strict.metrics["threshold"] == pytest.approx(0.999)
    assert strict.predictions.y_score == pytest.approx(ev.predictions.y_score)
    assert strict.predictions.y_pred.count(1) <= ev.predictions.y_pred.count(1)

    # the keywords evaluate() took before EvalSettings still work, with a warning
    with pytest.warns(DeprecationWarning, match=r"threshold, device are deprecated"):
        old = evaluate(
            outcome.model_path, chest_sample, out=tmp_path / "old", threshold=0.999, device="cpu"
        )
    assert old.metrics == strict.metrics and old.threshold == strict.threshold
    assert tree_hash(chest_sample) == before


def test_train_with_a_validation_folder_and_data_options(
    chest_sample: Path, tmp_path: Path
) -> None:
    val = tmp_path / "val"
    for cls in ("NORMAL", "PNEUMONIA"):
        (val / cls).mkdir(parents=True)
        for src in sorted((SAMPLE / cls).glob("*.png"))[-3:]:
            shutil.copy2(src, val / cls / src.name)
    outcome = train(
        TrainRequest(
            data=chest_sample,
            out=tmp_path / "run",
            model=SMALL,
            config=TrainConfig(epochs=1, batch_size=8, threshold="0.5"),
            val=val,
            image_size=16,
            augment="none",
            options=DataOptions(reader="folder", workers=1),
            device="cpu",
        )
    )
    assert outcome.report["val"] == str(val)
    assert outcome.report["data_options"] == {"reader": "folder"}
    assert outcome.record.val_counts == {"NORMAL": 3, "PNEUMONIA": 3}
    assert outcome.record.train_counts == {"NORMAL": 10, "PNEUMONIA": 10}
    assert outcome.record.threshold == 0.5
    assert "augment" in outcome.record.files  # the empty pipeline is recorded too


def test_fit_and_evaluate_on_a_test_set_is_seeded_and_complete(tmp_path: Path) -> None:
    train_set, val, test = separable(12, 20), separable(6, 6, seed=1), separable(5, 7, seed=2)
    config = TrainConfig(epochs=2, batch_size=8, seed=3)

    def run(name: str) -> RunRecord:
        torch.rand(7)  # the global RNG state before a run must not matter
        return fit_and_evaluate(
            Recipe(SMALL, config, load_pipeline("light")),
            RunData(train_set, val, test, positive=1),
            placement=ON_CPU,
            run_dir=tmp_path / name,
            extra={"arm": "baseline", "seed": 3},
        )

    first, second = run("a"), run("b")
    assert first.split == "test" and first.metrics["n"] == 12
    assert first.predictions == second.predictions
    record = first
    assert record.predictions.y_true == test.y.tolist()
    assert record.val_metrics is not None and record.n_val == 12
    names = {k: p.name for k, p in record.files.items()}
    assert names == {
        "model": "model.pt",
        "history": "history.json",
        "curves": "curves.png",
        "augment": "augment.json",
        "roc": "test_roc.png",
        "confusion": "test_confusion.png",
    }
    assert not (tmp_path / "a" / "val_roc.png").exists()
    payload = torch.load(tmp_path / "a" / "model.pt", weights_only=True)
    assert payload["extra"] == {"arm": "baseline", "seed": 3}


def test_multiclass_record_has_no_positive_scores(tmp_path: Path) -> None:
    g = torch.Generator().manual_seed(0)
    x = torch.rand(18, 1, 16, 16, generator=g)
    y = torch.tensor([0, 1, 2] * 6)
    x += y.view(-1, 1, 1, 1) * 0.3
    data = TensorData(x.clamp(0, 1), y, ["a", "b", "c"])
    record = fit_and_evaluate(
        Recipe(SMALL, TrainConfig(epochs=1, batch_size=6)),
        RunData(data.subset(range(12)), data.subset(range(12, 18))),
        placement=ON_CPU,
        run_dir=tmp_path,
    )
    assert record.split == "validation" and record.positive_class is None
    assert record.predictions.y_score is None and len(record.predictions) == 6
    assert "augment" not in record.files


def test_fit_and_evaluate_refuses_mismatched_classes(tmp_path: Path) -> None:
    train_set = separable(4, 4)
    other = TensorData(train_set.x, train_set.y, ["A", "B"])
    with pytest.raises(MedaugError, match="differ from the training classes"):
        fit_and_evaluate(
            Recipe(SMALL, TrainConfig(epochs=1)),
            RunData(train_set, other, positive=1),
            placement=ON_CPU,
            run_dir=tmp_path,
        )
    with pytest.raises(MedaugError, match="nothing to evaluate on"):
        fit_and_evaluate(
            Recipe(SMALL, TrainConfig(epochs=1)),
            RunData(train_set, positive=1),
            placement=ON_CPU,
            run_dir=tmp_path,
        )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"val_split": 1.0}, "^val_split must"),
        ({"image_size": 4}, "^image_size must"),
        ({"channels": "2"}, "invalid channels"),
    ],
)
def test_train_request_is_checked_when_built(
    kwargs: dict[str, object], message: str, tmp_path: Path
) -> None:
    with pytest.raises(MedaugError, match=message):
        TrainRequest(data=tmp_path, out=tmp_path / "o", model=SMALL, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"threshold": "high"}, "threshold must be 'calibrate'"),
        ({"threshold": "1.5"}, r"threshold must be in \(0, 1\)"),
        ({"monitor": "auc"}, "unknown monitor"),
        ({"class_weights": "NORMAL"}, "class_weights"),
        ({"class_weights": "NORMAL=x"}, "not a number"),
        ({"epochs": 0}, "^epochs must be >= 1"),
    ],
)
def test_train_config_is_checked_when_built(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(MedaugError, match=message):
        TrainConfig(**kwargs)  # type: ignore[arg-type]


def test_train_config_is_frozen() -> None:
    config = TrainConfig()
    assert replace(config, seed=4).seed == 4 and config.seed == 0
    with pytest.raises(AttributeError):
        config.seed = 1  # type: ignore[misc]


def test_eval_settings_are_checked_when_built() -> None:
    with pytest.raises(MedaugError, match=r"--threshold must be in \(0, 1\), got 1.5"):
        EvalSettings(threshold=1.5)


def test_evaluate_maps_its_deprecated_keywords_onto_eval_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[object] = []

    def stop(device: object) -> None:
        seen.append(device)
        raise RuntimeError("stop here")

    monkeypatch.setattr("medaug.training.workflow.resolve_device", stop)
    model = tmp_path / "model.pt"
    message = (
        r"device are deprecated; pass settings=medaug\.training\.EvalSettings\(device=\.\.\.\)"
    )
    with pytest.warns(DeprecationWarning, match=message), pytest.raises(RuntimeError):
        evaluate(model, tmp_path, settings=EvalSettings(device="cuda"), device="cpu")
    assert seen == ["cpu"]
    with (
        pytest.warns(DeprecationWarning, match="threshold"),
        pytest.raises(MedaugError, match=r"--threshold must be in \(0, 1\), got 2.0"),
    ):
        evaluate(model, tmp_path, threshold=2.0)
    with pytest.raises(TypeError, match="unexpected keyword argument 'thresh'"):
        evaluate(model, tmp_path, thresh=0.5)


def test_bad_augment_fails_before_anything_is_written(tmp_path: Path) -> None:
    request = TrainRequest(
        data=tmp_path / "missing", out=tmp_path / "run", model=SMALL, augment="wobbly"
    )
    with pytest.raises(MedaugError, match="neither a preset"):
        train(request)
    assert not (tmp_path / "run").exists()
