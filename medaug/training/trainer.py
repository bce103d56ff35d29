"""The classifier training loop: class weights, schedule, early stopping, best checkpoint.

Model selection uses the validation split only: after each epoch the validation metric
``monitor`` is computed; the best epoch's weights are kept (ties go to the lower
validation loss) and training stops after ``patience`` epochs without improvement. The
decision threshold of a binary problem is then calibrated on the validation split
(Youden's J) and stored with the model.

With ``placement.data_parallel`` on the ranks of a torchrun launch, every rank runs this
loop on its shard of each epoch's batch order (:mod:`~medaug.training.parallel`): the
effective batch is ``batch_size`` x world size, the peak learning rate is scaled by
``sqrt(world size)``, and validation runs on all ranks with identical predictions.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from medaug import distributed
from medaug.errors import MedaugError
from medaug.precision import autocast, resolve_precision, uses_grad_scaler
from medaug.training import parallel
from medaug.training.augment import Augmenter
from medaug.training.batches import BatchFeed
from medaug.training.config import (
    BALANCED_WEIGHTS,
    NO_WEIGHTS,
    TrainConfig,
    parse_threshold,
    parse_weight_pairs,
    uses_sampler,
)
from medaug.training.data import RunData, TensorData
from medaug.training.metrics import choose_threshold, compute_metrics
from medaug.training.normalize import Normalizer
from medaug.training.parallel import Placement
from medaug.training.predict import predict_proba


@dataclass
class TrainResult:
    """What :func:`train_classifier` returns."""

    model: nn.Module
    normalizer: Normalizer
    history: list[dict[str, float]]
    best_epoch: int
    threshold: float
    val_metrics: dict[str, Any] | None
    stopped_early: bool
    seconds: float
    class_weights: list[float] = field(default_factory=list)
    #: data-parallel ranks that trained the model (1: a single process)
    world_size: int = 1
    #: SHA-256 of the final state_dict (:func:`~medaug.training.parallel.state_digest`),
    #: checked to be the same on every rank when ``world_size`` > 1
    weights_sha256: str = ""


EpochCallback = Callable[[dict[str, float]], None]


def parse_class_weights(spec: str, counts: dict[str, int]) -> list[float] | None:
    """Loss weights per class from ``--class-weights`` (``None`` = unweighted, as with
    ``sampler``, which balances the batches instead)."""
    classes = list(counts)
    text = (spec or "none").strip().lower()
    if text in NO_WEIGHTS or uses_sampler(text):
        return None
    if text in BALANCED_WEIGHTS:
        total = sum(counts.values())
        k = sum(1 for n in counts.values() if n > 0)
        return [total / (k * n) if n > 0 else 0.0 for n in counts.values()]
    given = parse_weight_pairs(spec) or {}
    unknown = [name for name in given if name not in counts]
    if unknown:
        raise MedaugError(
            f"--class-weights {spec!r}: expected balanced, none or CLASS=W,... with "
            f"classes {', '.join(classes)}"
        )
    return [given.get(c, 1.0) for c in classes]


def balanced_draws(y: torch.Tensor) -> torch.Tensor:
    """Each training image's probability of being drawn by the balanced sampler: every
    class present is equally likely, every image of a class too."""
    counts = torch.bincount(y).double()
    p = 1.0 / counts[y]
    return p / p.sum()


def _epoch_order(n: int, draws: torch.Tensor | None, gen: torch.Generator) -> torch.Tensor:
    """An epoch's image order: a permutation, or with the balanced sampler ``n`` draws
    with replacement by ``draws`` (the minority's images repeat, the majority's are
    subsampled)."""
    if draws is None:
        return torch.randperm(n, generator=gen)
    return torch.multinomial(draws, n, replacement=True, generator=gen)


def _lr_factor(epoch_pos: float, total: int, warmup: int) -> float:
    """Linear warm-up then cosine decay, as a function of fractional epoch."""
    if warmup > 0 and epoch_pos < warmup:
        return max(epoch_pos / warmup, 0.05)
    span = max(total - warmup, 1)
    progress = min(max((epoch_pos - warmup) / span, 0.0), 1.0)
    return 0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * progress))


def _score(metrics: dict[str, Any], val_loss: float, monitor: str) -> float:
    if monitor == "loss":
        return -val_loss
    value = metrics.get(monitor)
    return float("-inf") if value is None else float(value)


def _sample_weights(
    train: TensorData, synthetic_weight: float, device: torch.device
) -> torch.Tensor | None:
    """Each training image's loss weight: 1 for a real image, ``synthetic_weight`` for
    any other; ``None`` when all weigh the same (the plain loss is used)."""
    if synthetic_weight == 1.0 or all(o == "real" for o in train.origin):
        return None
    w = [1.0 if o == "real" else synthetic_weight for o in train.origin]
    return torch.tensor(w, dtype=torch.float32, device=device)


def _weighted_loss(
    criterion: nn.CrossEntropyLoss, logits: torch.Tensor, y: torch.Tensor, w: torch.Tensor
) -> torch.Tensor:
    """``criterion``'s mean loss with each sample also weighted by ``w``: the per-sample
    losses (class weight and label smoothing included) summed with weights ``w``, over
    the sum of ``w`` times each sample's class weight, as the class-weighted mean is."""
    per = nn.functional.cross_entropy(
        logits,
        y,
        weight=criterion.weight,
        reduction="none",
        label_smoothing=criterion.label_smoothing,
    )
    cls_w = criterion.weight[y] if criterion.weight is not None else torch.ones_like(w)
    return (w * per).sum() / (w * cls_w).sum()


def train_classifier(
    model: nn.Module,
    data: RunData,
    config: TrainConfig,
    *,
    placement: Placement,
    augmenter: Augmenter | None = None,
    on_epoch: EpochCallback | None = None,
) -> TrainResult:
    """Train ``model`` on ``data.train``; select the best epoch on ``data.val`` (or the
    last one). ``data.test`` is not used.

    ``data.positive`` is the positive class index of a binary problem (for the
    threshold). ``augmenter`` augments each training batch; ``on_epoch`` receives each
    history row as it is made. ``placement.data_parallel``: train with the other ranks of
    the active process group (:mod:`medaug.distributed`; a single process without one).
    Every rank must call this with the same model, data and settings; all end with the
    same weights (checked).
    """
    train, val, positive = data.train, data.val, data.positive
    device = placement.device
    if len(train) == 0:
        raise MedaugError("the training set is empty")
    started = time.perf_counter()
    world = placement.world_size
    rank = distributed.rank() if world > 1 else 0
    gen = torch.Generator().manual_seed(config.seed)  # the batch order, shared by all ranks
    torch.manual_seed(distributed.rank_seed(config.seed) if world > 1 else config.seed)
    normalizer = Normalizer.fit(train.x)
    weights = parse_class_weights(config.class_weights, train.counts())
    weight_t = torch.tensor(weights, dtype=torch.float32, device=device) if weights else None
    criterion = nn.CrossEntropyLoss(weight=weight_t, label_smoothing=config.label_smoothing)
    sample_w = _sample_weights(train, config.synthetic_weight, device)
    draws = balanced_draws(train.y) if uses_sampler(config.class_weights) else None
    eval_criterion = nn.CrossEntropyLoss(weight=weight_t)
    model.to(device)
    if device.type == "cuda":  # cuDNN's autotuned NHWC kernels (tensor cores in bf16)
        torch.backends.cudnn.benchmark = True
        model.to(memory_format=torch.channels_last)
    net = model
    if world > 1:
        model = parallel.sync_batchnorm(model, device)
        net = parallel.wrap(model, device)
    peak_lr = parallel.scaled_lr(config.lr, world)
    optimizer = _adamw(model, peak_lr, config.weight_decay, device)
    dtype = resolve_precision(config.precision, device)
    scaler = torch.amp.GradScaler("cuda", enabled=uses_grad_scaler(dtype))
    normalize = normalizer.on(device)
    feed = BatchFeed(
        train.x, train.y, device=device, augmenter=augmenter, workers=config.aug_workers
    )
    n = len(train)
    steps = max(1, math.ceil(math.ceil(n / world) / config.batch_size))
    history: list[dict[str, float]] = []
    best: tuple[float, float] | None = None
    best_state: dict[str, torch.Tensor] | None = None
    best_epoch, since_best, stopped = 0, 0, False
    for epoch in range(config.epochs):
        net.train()
        perm = _epoch_order(n, draws, gen)
        order = parallel.shard(perm, rank, world) if world > 1 else perm
        plan = [order[i * config.batch_size : (i + 1) * config.batch_size] for i in range(steps)]
        # BatchNorm cannot train on a batch of one
        plan = [idx for idx in plan if len(idx) >= 2 or len(order) == 1]
        # running sums stay on the device: no step waits for the host
        loss_sum = torch.zeros((), device=device)
        correct = torch.zeros((), dtype=torch.long, device=device)
        seen = 0.0
        for step, ((xb, yb), idx) in enumerate(zip(feed.epoch(plan, epoch), plan, strict=True)):
            for group in optimizer.param_groups:
                group["lr"] = peak_lr * _lr_factor(
                    epoch + step / steps, config.epochs, config.warmup_epochs
                )
            with autocast(device, dtype):
                logits = net(normalize(xb))
                if sample_w is None:
                    loss = criterion(logits.float(), yb)
                else:
                    loss = _weighted_loss(criterion, logits.float(), yb, sample_w[idx.to(device)])
            optimizer.zero_grad(set_to_none=True)
            if scaler.is_enabled():  # fp16
                scaler.scale(loss).backward()
                scaler.step(optimizer)
                scaler.update()
            else:
                loss.backward()
                optimizer.step()
            with torch.no_grad():
                loss_sum.add_(loss.detach(), alpha=len(yb))
                correct.add_((logits.argmax(1) == yb).sum())
            seen += len(yb)
        totals = [loss_sum.item(), float(correct.item()), seen]
        if world > 1:
            totals = parallel.sum_over_ranks(totals)
            parallel.sync_buffers(model)
        row: dict[str, float] = {
            "epoch": epoch + 1,
            "lr": optimizer.param_groups[0]["lr"],
            "train_loss": totals[0] / max(totals[2], 1),
            "train_accuracy": totals[1] / max(totals[2], 1),
        }
        improved = True
        if val is not None and len(val) > 0:
            proba = _predict(model, val.x, normalizer, device=device, everywhere=world > 1)
            val_loss = float(
                eval_criterion(
                    torch.from_numpy(proba).clamp_min(1e-7).log().float().to(device),
                    val.y.to(device),
                )
            )
            metrics = compute_metrics(val.y.numpy(), proba, val.classes, positive=positive)
            row.update(
                val_loss=val_loss,
                val_accuracy=metrics["accuracy"],
                val_balanced_accuracy=metrics["balanced_accuracy"],
            )
            if metrics["roc_auc"] is not None:
                row["val_roc_auc"] = metrics["roc_auc"]
            key = (_score(metrics, val_loss, config.monitor), -val_loss)
            improved = best is None or key > best
            if improved:
                best = key
        if improved:
            best_state = copy.deepcopy(model.state_dict())
            best_epoch, since_best = epoch + 1, 0
        else:
            since_best += 1
        history.append(row)
        if on_epoch is not None:
            on_epoch(row)
        if config.patience and since_best >= config.patience:
            stopped = True
            break
    feed.close()
    if best_state is not None:
        model.load_state_dict(best_state)
    # ranks that train together must agree; a rank training alone has nothing to compare
    weights_sha256 = (
        parallel.check_same_weights(model) if world > 1 else parallel.state_digest(model)
    )
    threshold, val_metrics = 0.5, None
    if val is not None and len(val) > 0:
        proba = _predict(model, val.x, normalizer, device=device, everywhere=world > 1)
        threshold = _threshold(config.threshold, val.y.numpy(), proba, positive)
        val_metrics = compute_metrics(
            val.y.numpy(), proba, val.classes, positive=positive, threshold=threshold
        )
    else:
        threshold = _threshold(config.threshold, None, None, positive)
    return TrainResult(
        model=model,
        normalizer=normalizer,
        history=history,
        best_epoch=best_epoch,
        threshold=threshold,
        val_metrics=val_metrics,
        stopped_early=stopped,
        seconds=time.perf_counter() - started,
        class_weights=weights or [],
        world_size=world,
        weights_sha256=weights_sha256,
    )


def _adamw(
    model: nn.Module, lr: float, weight_decay: float, device: torch.device
) -> torch.optim.AdamW:
    """AdamW; on CUDA its fused kernel (one launch for all parameters)."""
    fused = device.type == "cuda"
    return torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay, fused=fused)


def _predict(
    model: nn.Module,
    x: torch.Tensor,
    normalizer: Normalizer,
    *,
    device: torch.device,
    everywhere: bool,
) -> np.ndarray:
    """:func:`predict_proba`, shared out over the ranks when ``everywhere``."""
    if everywhere:
        return parallel.predict_proba_everywhere(model, x, normalizer, device=device)
    return predict_proba(model, x, normalizer, device=device)


def _threshold(
    spec: str, y: np.ndarray | None, proba: np.ndarray | None, positive: int | None
) -> float:
    fixed = parse_threshold(spec)
    if fixed is not None:
        return fixed
    if positive is None or y is None or proba is None:
        return 0.5
    return choose_threshold(y, proba, positive)
