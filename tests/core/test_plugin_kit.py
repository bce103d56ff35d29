"""medaug.plugin_kit: what generator plugins share (dcgan, ddpm, the WGAN-GP example)."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
import torch
from torch import nn

from medaug.errors import MedaugError
from medaug.plugin_kit import (
    LossLog,
    WeightEMA,
    as_bool,
    as_float,
    as_int,
    check_images,
    check_known,
    check_labels,
    fused_adam,
)


def test_weight_ema_ramps_up_and_round_trips() -> None:
    net = nn.Linear(2, 2)
    ema = WeightEMA(net, 0.999)
    with torch.no_grad():
        net.weight.fill_(1.0)
    ema.reset(net)
    with torch.no_grad():
        net.weight.fill_(0.0)
    ema.update(net)  # decay min(0.999, 2 / 11): mostly the new weights
    assert ema.model.weight.max().item() == pytest.approx(2 / 11)
    assert not any(p.requires_grad for p in ema.model.parameters())
    other = WeightEMA(net, 0.999)
    other.load_state_dict(ema.state_dict())
    assert other.updates == 1 and torch.equal(other.model.weight, ema.model.weight)


def test_weight_ema_never_exceeds_its_decay_and_reads_old_ddpm_states() -> None:
    net = nn.Linear(2, 1)
    ema = WeightEMA(net, 0.05)
    old = ema.model.weight.detach().clone()
    with torch.no_grad():
        net.weight.add_(1.0)
    ema.update(net)
    assert torch.allclose(ema.model.weight, 0.05 * old + 0.95 * net.weight)
    legacy = {"net": ema.model.state_dict(), "updates": 7}  # ddpm states before plugin_kit
    restored = WeightEMA(nn.Linear(2, 1), 0.05)
    restored.load_state_dict(legacy)
    assert restored.updates == 7 and torch.equal(restored.model.weight, ema.model.weight)


@pytest.mark.parametrize(
    ("convert", "value", "expected"),
    [
        (lambda v: as_bool("gan", "ema", v), "yes", True),
        (lambda v: as_bool("gan", "ema", v), "OFF", False),
        (lambda v: as_int("gan", "nz", v, 1), 8, 8),
        (lambda v: as_float("gan", "lr", v, 0.0), 2, 2.0),
    ],
)
def test_options_convert(convert: Any, value: object, expected: object) -> None:
    assert convert(value) == expected


@pytest.mark.parametrize(
    ("convert", "message"),
    [
        (lambda: as_bool("gan", "ema", "maybe"), "gan option 'ema' must be true or false"),
        (lambda: as_int("gan", "nz", True, 1), "gan option 'nz' must be an integer >= 1"),
        (lambda: as_int("gan", "nz", 0, 1), "must be an integer >= 1, got 0"),
        (lambda: as_float("gan", "lr", "x"), "gan option 'lr' must be a number"),
        (lambda: as_float("gan", "p", 2.0, 0.0, 1.0), r"must be in \[0.0, 1.0\], got 2.0"),
        (lambda: check_known("gan", {"nzz": 1}, ["nz", "lr"]), "unknown gan option 'nzz'; valid"),
    ],
)
def test_option_errors_name_plugin_and_option(convert: Any, message: str) -> None:
    with pytest.raises(MedaugError, match=message):
        convert()


def test_legacy_options_are_accepted() -> None:
    check_known("gan", {"amp": True, "nz": 3}, ["nz"], legacy=("amp",))


def test_input_checks() -> None:
    check_images("gan", torch.zeros(2, 1, 8, 8), 1, 8)
    with pytest.raises(MedaugError, match=r"gan expects images of shape \(N>0, 1, 8, 8\)"):
        check_images("gan", torch.zeros(2, 3, 8, 8), 1, 8)
    with pytest.raises(MedaugError, match="expects float images"):
        check_images("gan", torch.zeros(2, 1, 8, 8, dtype=torch.uint8), 1, 8)
    assert check_labels("gan", torch.tensor([0, 1]), 2, 2, "fit").dtype == torch.long
    for labels, message in [
        (None, "fit needs labels"),
        (torch.tensor([0]), r"needs labels of shape \(2,\)"),
        (torch.tensor([0.0, 1.0]), "integer class indices"),
        (torch.tensor([0, 2]), r"must be in \[0, 2\)"),
    ]:
        with pytest.raises(MedaugError, match=message):
            check_labels("gan", labels, 2, 2, "fit")


class _Recorder:
    def __init__(self) -> None:
        self.steps: list[tuple[int, int, int, dict[str, float]]] = []
        self.epochs: list[tuple[int, dict[str, float]]] = []

    def on_step(self, epoch: int, step: int, steps: int, losses: dict[str, float]) -> None:
        self.steps.append((epoch, step, steps, losses))

    def on_epoch_end(self, epoch: int, losses: dict[str, float]) -> None:
        self.epochs.append((epoch, losses))


def test_loss_log_reports_every_step_once_in_batches_and_the_epoch_means() -> None:
    recorder = _Recorder()
    log = LossLog(("d", "g"), recorder, sync_every=3, device=torch.device("cpu"))
    log.begin(2, 5)
    sizes = []
    for step in range(5):
        before = len(recorder.steps)
        log.record(step, torch.tensor([float(step), 10.0 * step]))
        sizes.append(len(recorder.steps) - before)
    assert sizes == [0, 0, 3, 0, 2]  # after steps 3 and 5 (the last)
    assert [(e, s, n) for e, s, n, _ in recorder.steps] == [(2, i, 5) for i in range(5)]
    assert recorder.steps[4][3] == {"d": 4.0, "g": 40.0}
    log.end()
    assert recorder.epochs == [(2, {"d": 2.0, "g": 20.0})]


def test_loss_log_without_a_callback_only_keeps_losses() -> None:
    log = LossLog(("loss",), None, sync_every=1, device=torch.device("cpu"))
    log.begin(0, 2)
    log.record(0, torch.tensor(1.0))
    log.record(1, torch.tensor(2.0))
    log.end()


def test_fused_adam_steps() -> None:
    net = nn.Linear(2, 1)
    opt = fused_adam(net.parameters(), 0.1, betas=(0.5, 0.9))
    before = net.weight.detach().clone()
    net(torch.ones(1, 2)).sum().backward()
    opt.step()
    assert not torch.equal(net.weight, before)
    assert opt.param_groups[0]["betas"] == (0.5, 0.9)


def test_option_checks_do_not_import_torch() -> None:
    code = (
        "import sys; from medaug.plugin_kit import as_bool, check_known; "
        "as_bool('x', 'y', True); assert 'torch' not in sys.modules, 'torch imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
