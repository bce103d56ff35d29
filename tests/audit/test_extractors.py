"""Feature extractors: the registry, the contract, the domain extractor's determinism and
cache, backbones from local weights files (never downloaded)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

import medaug.plugins
from medaug.auditing import ExtractorSpec, build_extractor, prepare_extractor
from medaug.contracts.features import FeatureExtractor
from medaug.errors import MedaugError

from .conftest import Images

#: names buildable without a weights file (the contract test runs on each)
NO_WEIGHTS = [n for n in ("domain",) if n in medaug.plugins.list_feature_extractors()]


def test_first_party_extractors_are_registered() -> None:
    names = medaug.plugins.list_feature_extractors()
    assert {"domain", "timm:<variant>", "torchvision:<variant>"} <= set(names)


@pytest.mark.parametrize("name", medaug.plugins.list_feature_extractors())
def test_every_extractor_honours_the_contract(name: str, normal: Images, tmp_path: Path) -> None:
    x = normal.x[:32]
    if name == "timm:<variant>":
        prepared = prepare_extractor(
            ExtractorSpec("timm:test_resnet", weights=_timm_weights(tmp_path)), real=x
        )
    elif name == "torchvision:<variant>":
        prepared = prepare_extractor(
            ExtractorSpec("torchvision:shufflenet_v2_x0_5", weights=_tv_weights(tmp_path)), real=x
        )
    else:
        prepared = prepare_extractor(
            ExtractorSpec(name, options={"steps": 5}), real=x, use_cache=False
        )
    assert isinstance(prepared.extractor, FeatureExtractor)
    module = prepared.extractor.module()
    assert not module.training
    assert isinstance(module.num_features, int)
    f1 = prepared.features(x, batch_size=7)
    f2 = prepared.features(x)
    assert f1.shape == (32, prepared.extractor.num_features)
    assert f1.dtype == torch.float64
    assert torch.isfinite(f1).all()
    torch.testing.assert_close(f1, f2, rtol=1e-4, atol=1e-5)  # batching changes nothing
    assert len(prepared.sha256) == 64


def test_domain_training_is_deterministic_whatever_the_thread_count(normal: Images) -> None:
    steps_8 = ExtractorSpec(options={"steps": 8})
    a = prepare_extractor(steps_8, real=normal.x, seed=3, use_cache=False)
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        b = prepare_extractor(steps_8, real=normal.x, seed=3, use_cache=False)
        assert torch.get_num_threads() == 2  # restored after training
    finally:
        torch.set_num_threads(threads)
    c = prepare_extractor(steps_8, real=normal.x, seed=4, use_cache=False)
    assert a.sha256 == b.sha256
    assert a.sha256 != c.sha256
    assert torch.equal(a.features(normal.x), b.features(normal.x))


def test_domain_extractor_is_cached_by_dataset_fingerprint(normal: Images, tmp_path: Path) -> None:
    steps_6 = ExtractorSpec(options={"steps": 6})
    first = prepare_extractor(steps_6, real=normal.x, cache_dir=tmp_path)
    again = prepare_extractor(steps_6, real=normal.x, cache_dir=tmp_path)
    other_data = prepare_extractor(steps_6, real=normal.x[:-1], cache_dir=tmp_path)
    assert (first.cached, again.cached, other_data.cached) == (False, True, False)
    assert again.sha256 == first.sha256
    assert again.info["trained_on_sha256"] == first.info["trained_on_sha256"]
    assert len(list((tmp_path / "feature-extractors-v1").glob("*.pt"))) == 2
    saved = tmp_path / "extractor.pt"
    first.save(saved)
    state = torch.load(saved, weights_only=True)
    assert state["name"] == "domain" and state["info"]["sha256"] == first.sha256


def test_a_backbone_without_weights_is_a_one_line_error() -> None:
    with pytest.raises(MedaugError, match=r"needs a local weights file: pass --weights FILE"):
        build_extractor("timm:resnet18", image_size=32, channels=1)
    with pytest.raises(MedaugError, match="does not exist"):
        build_extractor("torchvision:resnet18", image_size=32, channels=1, weights="/nope.pth")


def _timm_weights(tmp_path: Path, in_chans: int = 3) -> Path:
    import timm

    path = tmp_path / f"test_resnet_{in_chans}.pth"
    torch.manual_seed(0)
    net = timm.create_model("test_resnet", pretrained=False, num_classes=7, in_chans=in_chans)
    torch.save({"state_dict": net.state_dict(), "epoch": 3}, path)
    return path


def _tv_weights(tmp_path: Path) -> Path:
    import torchvision

    path = tmp_path / "shufflenet.pth"
    torch.manual_seed(0)
    torch.save(torchvision.models.get_model("shufflenet_v2_x0_5", weights=None).state_dict(), path)
    return path


def test_timm_backbone_loads_local_weights_and_records_their_sha256(
    normal: Images, tmp_path: Path
) -> None:
    import hashlib

    weights = _timm_weights(tmp_path, in_chans=1)
    prepared = prepare_extractor(
        ExtractorSpec("timm:test_resnet", weights=weights), real=normal.x[:16]
    )
    assert prepared.sha256 == hashlib.sha256(weights.read_bytes()).hexdigest()
    assert prepared.info["weights_sha256"] == prepared.sha256
    assert prepared.info["in_chans"] == 1  # adopted from the weights file
    assert prepared.features(normal.x[:4]).shape[1] == prepared.extractor.num_features


def test_torchvision_backbone_adopts_a_one_channel_first_convolution(
    normal: Images, tmp_path: Path
) -> None:
    import torchvision

    net = torchvision.models.get_model("shufflenet_v2_x0_5", weights=None)
    state = net.state_dict()
    state["conv1.0.weight"] = state["conv1.0.weight"].sum(dim=1, keepdim=True)  # grey network
    state["op_threshs"] = torch.zeros(3)  # extra keys (torchxrayvision style) are ignored
    path = tmp_path / "grey.pth"
    torch.save(state, path)
    prepared = prepare_extractor(
        ExtractorSpec("torchvision:shufflenet_v2_x0_5", weights=path, options={"input_size": 48}),
        real=normal.x[:8],
    )
    assert prepared.info["in_chans"] == 1
    assert prepared.info["input_size"] == 48
    assert prepared.features(normal.x[:4]).shape == (4, 1024)


def test_weights_of_another_network_are_refused(normal: Images, tmp_path: Path) -> None:
    with pytest.raises(MedaugError, match="weights do not fit extractor 'torchvision:resnet18'"):
        prepare_extractor(
            ExtractorSpec("torchvision:resnet18", weights=_tv_weights(tmp_path)),
            real=normal.x[:8],
        )
    garbage = tmp_path / "garbage.pth"
    garbage.write_bytes(b"not a checkpoint")
    with pytest.raises(MedaugError, match="cannot read weights"):
        prepare_extractor(ExtractorSpec("timm:test_resnet", weights=garbage), real=normal.x[:8])


def test_unknown_extractor_and_bad_options_are_clear_errors(normal: Images) -> None:
    with pytest.raises(
        MedaugError, match=r"unknown feature_extractor 'domian'.*did you mean 'domain'"
    ):
        prepare_extractor(ExtractorSpec("domian"), real=normal.x[:8])
    with pytest.raises(MedaugError, match=r"unknown option .colour."):
        prepare_extractor(ExtractorSpec(options={"colour": "red"}), real=normal.x[:8])
    with pytest.raises(MedaugError, match="steps must be a positive integer"):
        prepare_extractor(ExtractorSpec(options={"steps": 0}), real=normal.x[:8])
