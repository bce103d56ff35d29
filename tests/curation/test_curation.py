"""Curation (``--filter``): the policy, the filters on the audit's features, the stream
selection, and both commands that curate (``balance`` and ``experiment``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import torch
from PIL import Image

from medaug.auditing import ExtractorSpec, prepare_extractor
from medaug.curation import FILTERS, Curation, CurationPolicy, Curator
from medaug.errors import ConfigError
from medaug.generation.sampling import CHUNK
from tests.balance.balance_helpers import class_files, manifest, run_json
from tests.helpers import write_image_folder

SIZE = 16


def _images(brightness: torch.Tensor, seed: int) -> torch.Tensor:
    """Flat images of the given brightness in ``[-1, 1]`` with a little texture."""
    g = torch.Generator().manual_seed(seed)
    noise = torch.rand(len(brightness), 1, SIZE, SIZE, generator=g) * 0.1
    return (brightness.view(-1, 1, 1, 1) + noise).clamp(-1, 1)


class TwoModes:
    """A stand-in generator: stream image ``i`` is dark for ``i`` even; of the odd ones,
    half are bright and half noise off both modes."""

    conditional = False

    def sample(self, n: int, *, seed: int, labels: Any = None) -> torch.Tensor:
        g = torch.Generator().manual_seed(seed)
        i = torch.arange(n)
        brightness = torch.where(i % 2 == 0, -0.6, 0.5)
        images = _images(brightness, seed)
        wild = (i % 4) == 3
        images[wild] = torch.rand(int(wild.sum()), 1, SIZE, SIZE, generator=g) * 2 - 1
        return images


@pytest.fixture(scope="module")
def curator_parts() -> tuple[Any, torch.Tensor, torch.Tensor]:
    """The audit's domain extractor (short training) on dark class-0 and bright class-1
    real images."""
    real = torch.cat([_images(torch.full((40,), -0.6), 1), _images(torch.full((40,), 0.5), 2)])
    labels = torch.tensor([0] * 40 + [1] * 40)
    spec = ExtractorSpec(options={"steps": 60})
    prepared = prepare_extractor(spec, real=real, seed=0, use_cache=False)
    return prepared, real, labels


def test_policy_checks_its_values_and_names_its_settings() -> None:
    assert FILTERS[0] == "none" and not CurationPolicy().active
    policy = CurationPolicy("manifold", draws_per_image=3)
    assert policy.to_json() == {"filter": "manifold", "draws_per_image": 3, "k": 5}
    assert policy.label(reject_memorized=True) == "manifold draws_per_image=3 k=5 reject_memorized"
    assert CurationPolicy("classifier").to_json()["threshold"] == 0.5
    for bad, field in (
        ({"filter": "best"}, "filter"),
        ({"draws_per_image": 0}, "draws_per_image"),
        ({"threshold": 1.0}, "filter_threshold"),
    ):
        with pytest.raises(ConfigError) as err:
            CurationPolicy(**bad)  # type: ignore[arg-type]
        assert field in err.value.fields


@pytest.mark.parametrize("name", [f for f in FILTERS if f != "none"])
def test_each_filter_keeps_the_intended_class_and_drops_what_is_off_it(
    name: str, curator_parts: tuple[Any, torch.Tensor, torch.Tensor]
) -> None:
    prepared, real, labels = curator_parts
    curator = Curator(CurationPolicy(name, draws_per_image=4), prepared, real, labels)
    stream = TwoModes().sample(CHUNK, seed=0)
    dark = torch.arange(CHUNK) % 2 == 0  # the dark mode
    accepted = curator.accepts(0, stream)
    assert accepted[dark].all()
    assert not accepted[torch.arange(CHUNK) % 4 == 1].any()  # bright: the other class
    if name == "manifold":
        assert not accepted[torch.arange(CHUNK) % 4 == 3].any()  # noise: off the manifold


def test_curate_keeps_accepted_stream_images_in_order_and_reports_a_short_class(
    curator_parts: tuple[Any, torch.Tensor, torch.Tensor],
) -> None:
    prepared, real, labels = curator_parts
    curator = Curator(CurationPolicy("manifold", draws_per_image=4), prepared, real, labels)
    generator: Any = TwoModes()
    done = curator.curate(generator, "NORMAL", 0, 10, seed=0)
    chunk = generator.sample(CHUNK, seed=_seed(0))
    assert done.kept == 10 and not done.short
    assert list(done.stream) == sorted(done.stream)
    assert curator.accepts(0, chunk[list(done.stream)]).all()
    assert done.drawn == 10 * 4 and done.acceptance_rate == 0.5  # the dark half of the stream
    assert done.stream == tuple(range(0, 20, 2))
    assert Curation.from_json(done.to_json(stream=True)) == done
    # one draw per image: half the stream is dark, so too few are accepted
    strict = Curator(CurationPolicy("manifold", draws_per_image=1), prepared, real, labels)
    short = strict.curate(generator, "NORMAL", 0, 40, seed=0)
    assert short.short and short.kept == short.accepted < 40 and short.drawn == 40
    assert "too few accepted" in short.sentence("NORMAL")


def _seed(chunk: int) -> int:
    from medaug.generation.sampling import chunk_seed

    return chunk_seed(0, "NORMAL", chunk)


FAST = ["--image-size", "16", "--steps", "40", "--batch-size", "8", "-O", "ngf=8", "-O", "ndf=8"]


def test_balance_with_a_filter_writes_only_kept_images_and_records_the_policy(
    image_folder: Any, tmp_path: Path
) -> None:
    data = image_folder({"NORMAL": 30, "PNEUMONIA": 50}, size=16)
    out = tmp_path / "out"
    args = [
        "balance", str(data), "--out", str(out), *FAST, "--count", "12",
        "--filter", "classifier", "--draws-per-image", "8", "--filter-threshold", "0.3",
        "--audit-option", "steps=40",
    ]  # fmt: skip
    summary = run_json(args)
    cur = summary["curation"]
    assert cur["policy"] == {"filter": "classifier", "draws_per_image": 8, "threshold": 0.3}
    figures = cur["classes"]["NORMAL"]
    assert figures["drawn"] <= 12 * 8 and figures["kept"] == summary["added"]["NORMAL"]
    synthetic = [r for r in manifest(out) if r["source"] == "synthetic"]
    assert len(synthetic) == figures["kept"]
    assert {r["curation"] for r in synthetic} == {"classifier draws_per_image=8 threshold=0.3"}
    assert all(r["curation"] == "" for r in manifest(out) if r["source"] == "real")
    state = json.loads((out / ".medaug-run.json").read_text())
    stream = state["classes"]["NORMAL"]["curation"]["stream"]
    files = [p for p in class_files(out, "NORMAL") if p.name.startswith("synthetic_")]
    indices = [int(Image.open(p).info["medaug:index"]) for p in files]
    assert indices == stream
    assert "## Curation" in (out / "report" / "report.md").read_text()
    assert state["settings"]["curation"]["filter"] == "classifier"
    # the same command again: the run is complete, nothing is redrawn
    assert run_json(args)["status"] == "already_complete"


def test_experiment_gan_arm_curates_and_records_it(tmp_path: Path) -> None:
    data = write_image_folder(tmp_path / "train", {"NORMAL": 24, "PNEUMONIA": 40}, size=16)
    test = write_image_folder(tmp_path / "test", {"NORMAL": 6, "PNEUMONIA": 6}, size=16, seed=1)
    out = tmp_path / "exp"
    args = [
        "experiment", "--train", str(data), "--test", str(test), "--out", str(out),
        "--classifier", "simple-cnn", "--classifier-option", "widths=[8,16]",
        "--generator", "dcgan", "--arms", "gan,gan-classifier", "--seeds", "1",
        "--epochs", "1", "--image-size", "16", "--gen-steps", "20", "--gen-batch-size", "8",
        "--gen-option", "ngf=8", "--gen-option", "ndf=8", "--synthetic", "10",
        "--filter", "manifold", "--no-audit",
        "--audit-option", "steps=40",
    ]  # fmt: skip
    results = run_json(args)
    assert results["settings"]["curation"]["filter"] == "manifold"
    gan, curated = results["runs"]
    assert gan["arm"] == "gan" and curated["arm"] == "gan-classifier"
    figures = gan["curation"]["NORMAL"]
    assert figures["filter"] == "manifold" and figures["asked"] == 10
    assert gan["added"].get("NORMAL", 0) == figures["kept"]
    assert curated["curation"]["NORMAL"]["filter"] == "classifier"
    assert "## Curation of the synthetic images" in (out / "report.md").read_text()
    # the two gan arms sampled one generator, trained once
    generators = out / "generators" / "seed0"
    assert [p.name for p in generators.glob("*.pt")] == ["NORMAL.pt"]
    assert curated["curation"]["NORMAL"]["drawn"] > 0
