"""The ``dcgan`` generator: training loop, sampling and state for medaug's contract.

One class, two modes: :class:`DCGAN` (one model per class) and, with
``-O conditional=true``, :class:`ConditionalDCGAN` (one model for all classes, whose
``conditional`` flag tells the engine to train it once with labels). The options
(:mod:`medaug_dcgan.options`) choose between the paper's plain DCGAN and the
data-efficient training: DiffAugment, spectral normalisation, hinge loss, two
time-scale learning rates and an exponential moving average of G's weights.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Any, ClassVar

import torch
from torch import nn

from medaug.contracts.generator import FitCallback, Generator
from medaug.errors import MedaugError
from medaug.plugin_kit import (
    LossLog,
    WeightEMA,
    as_bool,
    check_images,
    check_labels,
    fused_adam,
)
from medaug.precision import autocast, resolve_precision, uses_grad_scaler
from medaug.rng import device_generator
from medaug_dcgan.conditional import ConditionalDCGANGenerator, ProjectionDiscriminator
from medaug_dcgan.diffaugment import DiffAugment
from medaug_dcgan.losses import LOSSES
from medaug_dcgan.networks import DCGANDiscriminator, DCGANGenerator, init_weights
from medaug_dcgan.options import DEFAULTS, PRESETS, check_options

STATE_FORMAT = "medaug-dcgan"
STATE_VERSION = 2  # 1: medaug 0.1.0 (the paper's DCGAN only)
LOSS_NAMES = ("loss_d", "loss_g", "d_x", "d_g_z")
SAMPLE_CHUNK = 256
#: options that change the networks' shapes or the state's contents
ARCHITECTURE = ("nz", "ngf", "ndf", "spectral_norm", "conditional")
#: seed offset of the augmentation RNG when a state moves to another device type
_AUG_RESEED = 2**31

__all__ = ["DCGAN", "DEFAULTS", "ConditionalDCGAN"]


class DCGAN(Generator):
    """Deep convolutional GAN (Radford et al. 2015), one unconditional model per class.

    Built with ``conditional=true`` it is a :class:`ConditionalDCGAN` instead.
    """

    conditional: ClassVar[bool] = False
    supported_sizes: ClassVar[tuple[int, ...]] = (16, 32, 64, 128, 256)

    def __new__(cls, *args: Any, **options: Any) -> DCGAN:
        if cls is DCGAN and as_bool("dcgan", "conditional", options.get("conditional", False)):
            cls = ConditionalDCGAN
        return super().__new__(cls)

    def __init__(
        self,
        image_size: int = 64,
        channels: int = 1,
        device: str | torch.device = "cpu",
        num_classes: int = 1,
        **options: Any,
    ) -> None:
        if image_size not in self.supported_sizes:
            raise MedaugError(
                f"dcgan supports image sizes {', '.join(map(str, self.supported_sizes))}; "
                f"got {image_size}"
            )
        if channels not in (1, 3):
            raise MedaugError(f"dcgan supports 1 or 3 channels, got {channels}")
        if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 1:
            raise MedaugError(f"dcgan needs num_classes >= 1, got {num_classes!r}")
        self.image_size = int(image_size)
        self.channels = int(channels)
        self.num_classes = int(num_classes)
        self.device = torch.device(device)
        self._opts = check_options({**options, "conditional": self.conditional})
        self._cuda = self.device.type == "cuda"
        cl = self._opts["channels_last"]
        # auto: on CUDA and the CPU, but not under torch.compile, which picks layouts
        # itself (channels_last parameters crashed inductor's conv-transpose backward)
        auto = self.device.type in ("cuda", "cpu") and not self._opts["compile"]
        self._channels_last = auto if cl == "auto" else bool(cl)
        self._dtype = resolve_precision(self._opts["precision"], self.device)
        if self._cuda:
            torch.backends.cudnn.benchmark = True

        self.netG, self.netD = self._networks()
        init_weights(self.netG)
        init_weights(self.netD)
        memory_format = torch.channels_last if self._channels_last else torch.contiguous_format
        for net in (self.netG, self.netD):
            net.to(self.device)
            net.to(memory_format=memory_format)
        self._augment = DiffAugment(self._opts["diffaugment"])
        self._loss_d, self._loss_g = LOSSES[self._opts["loss"]]
        self._ema = WeightEMA(self.netG, self._opts["ema"]) if self._opts["ema"] > 0 else None
        self._new_optimizers()
        # batch order and initial weights: CPU draws; per-step draws: on the device
        self._perm_rng = torch.Generator()
        self._noise_rng = device_generator(self.device)
        self._aug_rng = device_generator(self.device)
        self._epochs_done = 0
        self._reseed_device_rngs = False
        self._d_params = list(self.netD.parameters())
        self._stepG: nn.Module = self.netG
        self._stepD: nn.Module = self.netD
        if self._opts["compile"]:
            self._stepG = torch.compile(self.netG)  # type: ignore[assignment]
            self._stepD = torch.compile(self.netD)  # type: ignore[assignment]

    def _networks(self) -> tuple[nn.Module, nn.Module]:
        o, size, ch = self._opts, self.image_size, self.channels
        if self.conditional:
            return (
                ConditionalDCGANGenerator(size, ch, self.num_classes, o["nz"], o["ngf"]),
                ProjectionDiscriminator(
                    size, ch, self.num_classes, o["ndf"], spectral_norm=o["spectral_norm"]
                ),
            )
        return (
            DCGANGenerator(size, ch, o["nz"], o["ngf"]),
            DCGANDiscriminator(size, ch, o["ndf"], spectral_norm=o["spectral_norm"]),
        )

    def _new_optimizers(self) -> None:
        betas = (self._opts["beta1"], self._opts["beta2"])
        self.optG = fused_adam(self.netG.parameters(), self._opts["lr"], betas)
        self.optD = fused_adam(self.netD.parameters(), self._opts["lr_d"], betas)
        self.scaler = torch.amp.GradScaler("cuda", enabled=uses_grad_scaler(self._dtype))

    # -- contract -----------------------------------------------------------------------

    @property
    def epochs_done(self) -> int:
        return self._epochs_done

    def options(self) -> dict[str, Any]:
        return dict(self._opts)

    def _autocast(self) -> contextlib.AbstractContextManager[Any]:
        return autocast(self.device, self._dtype)

    def _check_labels(self, labels: torch.Tensor | None, n: int, what: str) -> torch.Tensor | None:
        """``labels`` as int64 class indices for a conditional model (``None`` otherwise)."""
        if not self.conditional:
            return None
        return check_labels("dcgan", labels, n, self.num_classes, what)

    def _start(self, seed: int) -> None:
        """Fresh weights, optimisers, moving average and RNGs, all from ``seed``."""
        g = torch.Generator().manual_seed(seed)
        init_weights(self.netG, g)
        init_weights(self.netD, g)
        self._new_optimizers()
        self._perm_rng.manual_seed(seed + 1)
        self._noise_rng.manual_seed(seed + 2)
        self._aug_rng.manual_seed(seed + 3)
        if self._ema is not None:
            self._ema.reset(self.netG)

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
        check_images("dcgan", images, self.channels, self.image_size)
        targets = self._check_labels(labels, len(images), "fit")
        if batch_size < 1 or epochs < 0:
            raise MedaugError(f"need batch_size >= 1 and epochs >= 0, got {batch_size}, {epochs}")
        if self._epochs_done >= epochs:
            return
        if self._epochs_done == 0:
            self._start(seed)
        elif self._reseed_device_rngs:
            # the state came from another device type: its RNG states do not fit here
            self._noise_rng.manual_seed(seed + 2 + self._epochs_done)
            self._aug_rng.manual_seed(_AUG_RESEED + seed + self._epochs_done)
        self._reseed_device_rngs = False
        memory_format = torch.channels_last if self._channels_last else torch.contiguous_format
        data = images.to(self.device, dtype=torch.float32).contiguous(memory_format=memory_format)
        y_all = None if targets is None else targets.to(self.device)
        n = len(data)
        bs = min(batch_size, n)
        steps = n // bs
        nz = self._opts["nz"]
        log = LossLog(LOSS_NAMES, callback, sync_every=self._opts["sync_every"], device=self.device)
        self.netG.train()
        self.netD.train()
        for epoch in range(self._epochs_done, epochs):
            perm = torch.randperm(n, generator=self._perm_rng)[: steps * bs].to(self.device)
            log.begin(epoch, steps)
            for step in range(steps):
                index = perm[step * bs : (step + 1) * bs]
                real = data.index_select(0, index)
                if self._channels_last:
                    real = real.contiguous(memory_format=torch.channels_last)
                y = None if y_all is None else y_all.index_select(0, index)
                noise = torch.randn(bs, nz, 1, 1, device=self.device, generator=self._noise_rng)
                log.record(step, self._train_step(real, noise, y))
            self._epochs_done = epoch + 1
            log.end()

    def _freeze_d(self, frozen: bool) -> None:
        for p in self._d_params:
            p.requires_grad_(not frozen)

    def _d(self, x: torch.Tensor, y: torch.Tensor | None) -> torch.Tensor:
        return (self._stepD(x) if y is None else self._stepD(x, y)).float()

    def _g(self, z: torch.Tensor, y: torch.Tensor | None) -> torch.Tensor:
        return self._stepG(z) if y is None else self._stepG(z, y)

    def _seen_by_d(self, x: torch.Tensor) -> torch.Tensor:
        """``x`` as the discriminator sees it: through DiffAugment when it is on."""
        if not self._augment:
            return x
        x = self._augment(x, self._aug_rng)
        return x.contiguous(memory_format=torch.channels_last) if self._channels_last else x

    def _train_step(
        self, real: torch.Tensor, noise: torch.Tensor, y: torch.Tensor | None
    ) -> torch.Tensor:
        """One iteration (D, then G on the same fakes); returns
        ``[loss_d, loss_g, sigmoid(D(x)), sigmoid(D(G(z)))]`` (batch means)."""
        # (1) discriminator; fake images get the real batch's labels when conditional
        self.optD.zero_grad(set_to_none=True)
        with self._autocast():
            out_real = self._d(self._seen_by_d(real), y)
            fake = self._seen_by_d(self._g(noise, y))
            out_fake = self._d(fake.detach(), y)
            loss_d = self._loss_d(out_real, out_fake)
        self.scaler.scale(loss_d).backward()
        self.scaler.step(self.optD)
        # (2) generator; D's weight gradients are not needed here, so not computed
        self.optG.zero_grad(set_to_none=True)
        self._freeze_d(True)
        try:
            with self._autocast():
                loss_g = self._loss_g(self._d(fake, y))
            self.scaler.scale(loss_g).backward()
        finally:
            self._freeze_d(False)
        self.scaler.step(self.optG)
        self.scaler.update()
        if self._ema is not None:
            self._ema.update(self.netG)
        with torch.no_grad():
            return torch.stack(
                [
                    loss_d.detach(),
                    loss_g.detach(),
                    torch.sigmoid(out_real.detach()).mean(),
                    torch.sigmoid(out_fake.detach()).mean(),
                ]
            )

    @torch.no_grad()
    def sample(self, n: int, *, seed: int, labels: torch.Tensor | None = None) -> torch.Tensor:
        if n < 0:
            raise MedaugError(f"cannot sample {n} images")
        y = self._check_labels(labels, n, "sample")
        rng = torch.Generator().manual_seed(seed)
        z = torch.randn(n, self._opts["nz"], 1, 1, generator=rng)
        net = self._ema.model if self._ema is not None else self.netG
        was_training = net.training
        net.eval()
        out = []
        try:
            for start in range(0, n, SAMPLE_CHUNK):
                chunk = z[start : start + SAMPLE_CHUNK].to(self.device)
                with self._autocast():
                    if y is None:
                        img = net(chunk)
                    else:
                        img = net(chunk, y[start : start + SAMPLE_CHUNK].to(self.device))
                out.append(img.float().clamp_(-1, 1).cpu().contiguous())
        finally:
            net.train(was_training)
        if not out:
            return torch.empty(0, self.channels, self.image_size, self.image_size)
        return torch.cat(out)

    def state_dict(self) -> dict[str, Any]:
        return {
            "format": STATE_FORMAT,
            "version": STATE_VERSION,
            "image_size": self.image_size,
            "channels": self.channels,
            "num_classes": self.num_classes,
            "options": self.options(),
            "epochs_done": self._epochs_done,
            "netG": self.netG.state_dict(),
            "netD": self.netD.state_dict(),
            "optG": self.optG.state_dict(),
            "optD": self.optD.state_dict(),
            "scaler": self.scaler.state_dict(),
            "ema": {} if self._ema is None else self._ema.state_dict(),
            "rng": {
                "perm": self._perm_rng.get_state(),
                "noise": self._noise_rng.get_state(),
                "aug": self._aug_rng.get_state(),
                "noise_device": self.device.type,
            },
        }

    def _check_state_fits(self, state: Mapping[str, Any]) -> None:
        if state.get("format") != STATE_FORMAT:
            raise MedaugError("not a dcgan state (wrong 'format')")
        version = state.get("version")
        if version not in (1, STATE_VERSION):
            raise MedaugError(f"unsupported dcgan state version {version!r}")
        if (state["image_size"], state["channels"]) != (self.image_size, self.channels):
            raise MedaugError(
                f"dcgan state is for {state['image_size']} px x {state['channels']} channel(s), "
                f"this model is {self.image_size} px x {self.channels}"
            )
        # a version 1 state is medaug 0.1.0's plain DCGAN: the paper preset
        theirs = {**PRESETS["paper"], "conditional": False, **dict(state.get("options", {}))}
        theirs["ema_on"] = float(theirs.get("ema") or 0) > 0
        mine = {**self._opts, "ema_on": self._ema is not None}
        for key in (*ARCHITECTURE, "ema_on"):
            if theirs.get(key) != mine[key]:
                hint = " (a medaug 0.1.0 state: build with -O preset=paper)" if version == 1 else ""
                name = "ema > 0" if key == "ema_on" else key
                raise MedaugError(
                    f"dcgan state was trained with {name}={theirs.get(key)!r}, this model has "
                    f"{mine[key]!r}{hint}"
                )
        if self.conditional and int(state.get("num_classes", 1)) != self.num_classes:
            raise MedaugError(
                f"conditional dcgan state has {state.get('num_classes')} classes, "
                f"this model {self.num_classes}"
            )

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self._check_state_fits(state)
        try:
            self.netG.load_state_dict(state["netG"])
            self.netD.load_state_dict(state["netD"])
            self.optG.load_state_dict(state["optG"])
            self.optD.load_state_dict(state["optD"])
            if self._ema is not None:
                self._ema.load_state_dict(state["ema"])
        except (RuntimeError, KeyError, ValueError) as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc)
            raise MedaugError(f"dcgan state does not fit this model: {first}") from exc
        if state.get("scaler"):
            self.scaler.load_state_dict(state["scaler"])
        rng = state["rng"]
        self._perm_rng.set_state(rng["perm"])
        if rng.get("noise_device", "cpu") == self.device.type:
            self._noise_rng.set_state(rng["noise"].cpu())
            if "aug" in rng:
                self._aug_rng.set_state(rng["aug"].cpu())
        else:  # e.g. trained on CUDA, sampled or resumed on the CPU
            self._reseed_device_rngs = True
        self._epochs_done = int(state["epochs_done"])

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(image_size={self.image_size}, channels={self.channels}, "
            f"device={self.device}, preset={self._opts['preset']!r}, "
            f"epochs_done={self._epochs_done})"
        )


class ConditionalDCGAN(DCGAN):
    """One DCGAN for all classes: class-conditional BatchNorm in G, a projection
    discriminator (Miyato & Koyama 2018); ``labels`` are required in fit and sample."""

    conditional: ClassVar[bool] = True
