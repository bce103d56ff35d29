"""The ``dcgan`` generator: training loop, sampling and state for medaug's contract."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from typing import Any, ClassVar

import torch
from torch import nn

from medaug.contracts.generator import FitCallback, Generator
from medaug.errors import MedaugError
from medaug_dcgan.networks import DCGANDiscriminator, DCGANGenerator, init_weights

STATE_FORMAT = "medaug-dcgan"
STATE_VERSION = 1
LOSS_NAMES = ("loss_d", "loss_g", "d_x", "d_g_z")
SAMPLE_CHUNK = 256

#: plugin options (``--option key=value``) and their defaults
DEFAULTS: dict[str, Any] = {
    "nz": 100,
    "ngf": 64,
    "ndf": 64,
    "lr": 2e-4,
    "beta1": 0.5,
    "beta2": 0.999,
    "amp": True,  # CUDA only: bf16 where supported, else fp16 with a grad scaler
    "channels_last": "auto",  # auto = on CUDA and CPU (measured ~1.1x on CPU); true/false forces it
    "compile": False,  # torch.compile the networks (slow start, faster steps)
    "sync_every": 16,  # steps between host syncs for loss reporting
}


def _as_bool(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise MedaugError(f"dcgan option {name!r} must be true or false, got {value!r}")


def _check_options(options: Mapping[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(options) - set(DEFAULTS))
    if unknown:
        raise MedaugError(
            f"unknown dcgan option {unknown[0]!r}; valid options: {', '.join(DEFAULTS)}"
        )
    opts = {**DEFAULTS, **options}
    for key in ("nz", "ngf", "ndf", "sync_every"):
        value = opts[key]
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise MedaugError(f"dcgan option {key!r} must be a positive integer, got {value!r}")
    for key in ("lr", "beta1", "beta2"):
        value = opts[key]
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise MedaugError(f"dcgan option {key!r} must be a number, got {value!r}")
        opts[key] = float(value)
    if not opts["lr"] > 0 or not (0 <= opts["beta1"] < 1 and 0 <= opts["beta2"] < 1):
        raise MedaugError("dcgan options need lr > 0 and 0 <= beta1, beta2 < 1")
    opts["amp"] = _as_bool("amp", opts["amp"])
    opts["compile"] = _as_bool("compile", opts["compile"])
    if str(opts["channels_last"]).lower() != "auto":
        opts["channels_last"] = _as_bool("channels_last", opts["channels_last"])
    else:
        opts["channels_last"] = "auto"
    return opts


def _adam(
    parameters: Iterator[nn.Parameter], lr: float, betas: tuple[float, float]
) -> torch.optim.Adam:
    """Adam with the fused kernel where this build has one, else the foreach one."""
    params = list(parameters)
    try:
        return torch.optim.Adam(params, lr=lr, betas=betas, fused=True)
    except (RuntimeError, TypeError):
        return torch.optim.Adam(params, lr=lr, betas=betas, foreach=True)


class DCGAN(Generator):
    """Deep convolutional GAN, one unconditional model per class."""

    conditional: ClassVar[bool] = False
    supported_sizes: ClassVar[tuple[int, ...]] = (16, 32, 64, 128, 256)

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
        self.image_size = int(image_size)
        self.channels = int(channels)
        self.device = torch.device(device)
        self._opts = _check_options(options)
        self._cuda = self.device.type == "cuda"
        cl = self._opts["channels_last"]
        self._channels_last = self.device.type in ("cuda", "cpu") if cl == "auto" else bool(cl)
        self._amp_dtype: torch.dtype | None = None
        if self._cuda and self._opts["amp"]:
            bf16 = torch.cuda.is_bf16_supported()
            self._amp_dtype = torch.bfloat16 if bf16 else torch.float16
        if self._cuda:
            torch.backends.cudnn.benchmark = True

        self.netG = DCGANGenerator(
            self.image_size, self.channels, self._opts["nz"], self._opts["ngf"]
        )
        self.netD = DCGANDiscriminator(self.image_size, self.channels, self._opts["ndf"])
        init_weights(self.netG)
        init_weights(self.netD)
        memory_format = torch.channels_last if self._channels_last else torch.contiguous_format
        for net in (self.netG, self.netD):
            net.to(self.device)
            net.to(memory_format=memory_format)
        self._new_optimizers()
        self._perm_rng = torch.Generator()
        self._noise_rng = torch.Generator(device=self.device)
        self._epochs_done = 0
        self._reseed_noise = False
        self._d_params = list(self.netD.parameters())
        self._stepG: nn.Module = self.netG
        self._stepD: nn.Module = self.netD
        if self._opts["compile"]:
            self._stepG = torch.compile(self.netG)  # type: ignore[assignment]
            self._stepD = torch.compile(self.netD)  # type: ignore[assignment]

    def _new_optimizers(self) -> None:
        betas = (self._opts["beta1"], self._opts["beta2"])
        self.optG = _adam(self.netG.parameters(), self._opts["lr"], betas)
        self.optD = _adam(self.netD.parameters(), self._opts["lr"], betas)
        use_scaler = self._amp_dtype == torch.float16
        self.scaler = torch.amp.GradScaler("cuda", enabled=use_scaler)

    # -- contract -----------------------------------------------------------------------

    @property
    def epochs_done(self) -> int:
        return self._epochs_done

    def options(self) -> dict[str, Any]:
        return dict(self._opts)

    def _autocast(self) -> contextlib.AbstractContextManager[Any]:
        if self._amp_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast("cuda", dtype=self._amp_dtype)

    def _check_images(self, images: torch.Tensor) -> None:
        want = (self.channels, self.image_size, self.image_size)
        if images.ndim != 4 or tuple(images.shape[1:]) != want or len(images) == 0:
            raise MedaugError(
                f"dcgan expects images of shape (N>0, {want[0]}, {want[1]}, {want[2]}), "
                f"got {tuple(images.shape)}"
            )
        if not images.is_floating_point():
            raise MedaugError(f"dcgan expects float images in [-1, 1], got {images.dtype}")

    def _start(self, seed: int) -> None:
        """Fresh weights, optimisers and RNGs, all from ``seed``."""
        g = torch.Generator().manual_seed(seed)
        init_weights(self.netG, g)
        init_weights(self.netD, g)
        self._new_optimizers()
        self._perm_rng.manual_seed(seed + 1)
        self._noise_rng.manual_seed(seed + 2)

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
        self._check_images(images)
        if batch_size < 1 or epochs < 0:
            raise MedaugError(f"need batch_size >= 1 and epochs >= 0, got {batch_size}, {epochs}")
        if self._epochs_done >= epochs:
            return
        if self._epochs_done == 0:
            self._start(seed)
        elif self._reseed_noise:
            # the state came from another device type: its noise RNG state does not fit here
            self._noise_rng.manual_seed(seed + 2 + self._epochs_done)
        self._reseed_noise = False
        memory_format = torch.channels_last if self._channels_last else torch.contiguous_format
        data = images.to(self.device, dtype=torch.float32).contiguous(memory_format=memory_format)
        n = len(data)
        bs = min(batch_size, n)
        steps = n // bs
        nz = self._opts["nz"]
        sync_every = self._opts["sync_every"]
        ones = torch.ones(bs, device=self.device)
        zeros = torch.zeros(bs, device=self.device)
        bce = nn.BCEWithLogitsLoss()
        self.netG.train()
        self.netD.train()
        for epoch in range(self._epochs_done, epochs):
            perm = torch.randperm(n, generator=self._perm_rng)[: steps * bs].to(self.device)
            log = torch.empty(steps, len(LOSS_NAMES), device=self.device)
            reported = 0
            for step in range(steps):
                real = data.index_select(0, perm[step * bs : (step + 1) * bs])
                if self._channels_last:
                    real = real.contiguous(memory_format=torch.channels_last)
                noise = torch.randn(bs, nz, 1, 1, device=self.device, generator=self._noise_rng)
                log[step] = self._train_step(real, noise, ones, zeros, bce)
                if callback is not None and ((step + 1) % sync_every == 0 or step == steps - 1):
                    for offset, row in enumerate(log[reported : step + 1].tolist()):
                        callback.on_step(
                            epoch, reported + offset, steps, dict(zip(LOSS_NAMES, row, strict=True))
                        )
                    reported = step + 1
            self._epochs_done = epoch + 1
            if callback is not None:
                means = log.mean(0).tolist()
                callback.on_epoch_end(epoch, dict(zip(LOSS_NAMES, means, strict=True)))

    def _freeze_d(self, frozen: bool) -> None:
        for p in self._d_params:
            p.requires_grad_(not frozen)

    def _train_step(
        self,
        real: torch.Tensor,
        noise: torch.Tensor,
        ones: torch.Tensor,
        zeros: torch.Tensor,
        bce: nn.Module,
    ) -> torch.Tensor:
        """One pytorch/examples iteration; returns ``[loss_d, loss_g, D(x), D(G(z))]``."""
        # (1) discriminator: maximise log D(x) + log(1 - D(G(z)))
        self.optD.zero_grad(set_to_none=True)
        with self._autocast():
            out_real = self._stepD(real).float()
            fake = self._stepG(noise)
            out_fake = self._stepD(fake.detach()).float()
            loss_d = bce(out_real, ones) + bce(out_fake, zeros)
        self.scaler.scale(loss_d).backward()
        self.scaler.step(self.optD)
        # (2) generator: maximise log D(G(z)) (non-saturating); D's weight gradients are
        # not needed here, so they are not computed (the example computes, then drops them)
        self.optG.zero_grad(set_to_none=True)
        self._freeze_d(True)
        try:
            with self._autocast():
                loss_g = bce(self._stepD(fake).float(), ones)
            self.scaler.scale(loss_g).backward()
        finally:
            self._freeze_d(False)
        self.scaler.step(self.optG)
        self.scaler.update()
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
        rng = torch.Generator().manual_seed(seed)
        z = torch.randn(n, self._opts["nz"], 1, 1, generator=rng)
        was_training = self.netG.training
        self.netG.eval()
        out = []
        try:
            for chunk in z.split(SAMPLE_CHUNK):
                with self._autocast():
                    img = self.netG(chunk.to(self.device))
                out.append(img.float().clamp_(-1, 1).cpu().contiguous())
        finally:
            self.netG.train(was_training)
        if not out:
            return torch.empty(0, self.channels, self.image_size, self.image_size)
        return torch.cat(out)

    def state_dict(self) -> dict[str, Any]:
        return {
            "format": STATE_FORMAT,
            "version": STATE_VERSION,
            "image_size": self.image_size,
            "channels": self.channels,
            "options": self.options(),
            "epochs_done": self._epochs_done,
            "netG": self.netG.state_dict(),
            "netD": self.netD.state_dict(),
            "optG": self.optG.state_dict(),
            "optD": self.optD.state_dict(),
            "scaler": self.scaler.state_dict(),
            "rng": {
                "perm": self._perm_rng.get_state(),
                "noise": self._noise_rng.get_state(),
                "noise_device": self.device.type,
            },
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        if state.get("format") != STATE_FORMAT:
            raise MedaugError("not a dcgan state (wrong 'format')")
        if state.get("version") != STATE_VERSION:
            raise MedaugError(f"unsupported dcgan state version {state.get('version')!r}")
        if (state["image_size"], state["channels"]) != (self.image_size, self.channels):
            raise MedaugError(
                f"dcgan state is for {state['image_size']} px x {state['channels']} channel(s), "
                f"this model is {self.image_size} px x {self.channels}"
            )
        self.netG.load_state_dict(state["netG"])
        self.netD.load_state_dict(state["netD"])
        self.optG.load_state_dict(state["optG"])
        self.optD.load_state_dict(state["optD"])
        if state.get("scaler"):
            self.scaler.load_state_dict(state["scaler"])
        self._perm_rng.set_state(state["rng"]["perm"])
        if state["rng"].get("noise_device", "cpu") == self.device.type:
            self._noise_rng.set_state(state["rng"]["noise"].cpu())
        else:  # e.g. trained on CUDA, sampled or resumed on the CPU
            self._reseed_noise = True
        self._epochs_done = int(state["epochs_done"])

    def __repr__(self) -> str:
        return (
            f"DCGAN(image_size={self.image_size}, channels={self.channels}, "
            f"device={self.device}, epochs_done={self._epochs_done})"
        )
