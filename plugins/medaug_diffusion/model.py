"""The ``ddpm`` generator: DDPM training, DDIM sampling and state for medaug's contract.

Training (Ho et al. 2020): a uniform timestep ``t``, ``x_t = sqrt(a_t) x_0 +
sqrt(1 - a_t) eps`` (MONAI's ``DDPMScheduler.add_noise`` through ``DiffusionInferer``),
mean squared error between ``eps`` and the UNet's prediction, Adam with gradient
clipping, an EMA of the weights. Sampling: MONAI's ``DDIMScheduler`` (eta 0, so the
result depends only on the starting noise) driven by ``DiffusionInferer.sample`` on the
EMA weights, in batches of :data:`SAMPLE_CHUNK`, under ``torch.inference_mode``.

Class-conditional models add a class embedding to the timestep embedding (MONAI's
``num_class_embeds``) with one extra "no class" label; training replaces the label by
it with probability ``cond_drop``, and sampling mixes both predictions as
``eps_uncond + guidance * (eps_cond - eps_uncond)`` (Ho & Salimans 2022, whose ``w`` is
``guidance - 1``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from functools import partial
from typing import Any, ClassVar, cast

import torch
from monai.inferers import DiffusionInferer
from monai.networks.nets import DiffusionModelUNet
from monai.networks.schedulers import DDIMScheduler, DDPMScheduler
from torch import nn

from medaug.contracts.generator import FitCallback, Generator
from medaug.errors import MedaugError
from medaug.plugin_kit import LossLog, WeightEMA, check_images, check_labels, fused_adam
from medaug.precision import autocast, resolve_precision, uses_grad_scaler
from medaug.rng import device_generator
from medaug_diffusion.options import SUPPORTED_SIZES, check_options
from medaug_diffusion.unet import UNetLayout, build_unet

STATE_FORMAT = "medaug-ddpm"
STATE_VERSION = 1
SAMPLE_CHUNK = 64
#: options that change the network or the noise schedule: a state must match them
ARCHITECTURE = ("width", "res_blocks", "attention_res", "timesteps", "schedule")


class DDPM(Generator):
    """Denoising diffusion probabilistic model (Ho et al. 2020), one model per class."""

    conditional: ClassVar[bool] = False
    supported_sizes: ClassVar[tuple[int, ...]] = SUPPORTED_SIZES

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
                f"ddpm supports image sizes {', '.join(map(str, self.supported_sizes))}; "
                f"got {image_size}"
            )
        if channels not in (1, 3):
            raise MedaugError(f"ddpm supports 1 or 3 channels, got {channels}")
        if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 1:
            raise MedaugError(f"ddpm needs num_classes >= 1, got {num_classes!r}")
        self._opts = check_options({"conditional": self.conditional, **options})
        if self._opts["conditional"] != self.conditional:
            right = "ConditionalDDPM" if self._opts["conditional"] else "DDPM"
            raise MedaugError(
                f"{type(self).__name__} got conditional={options['conditional']}; use {right}"
            )
        self.image_size = int(image_size)
        self.channels = int(channels)
        self.num_classes = num_classes
        self.device = torch.device(device)
        self._cuda = self.device.type == "cuda"
        cl = self._opts["channels_last"]
        self._channels_last = self._cuda if cl == "auto" else bool(cl)
        self._dtype = resolve_precision(self._opts["precision"], self.device)
        if self._cuda:
            torch.backends.cudnn.benchmark = True
        # the "no class" label of classifier-free guidance
        self._null_label = num_classes
        self._train_scheduler = DDPMScheduler(
            num_train_timesteps=self._opts["timesteps"], schedule=self._opts["schedule"]
        )
        self._inferer = DiffusionInferer(self._train_scheduler)
        self._sampler = DDIMScheduler(
            num_train_timesteps=self._opts["timesteps"], schedule=self._opts["schedule"]
        )
        self._sampler.set_timesteps(self._opts["sample_steps"])
        self._perm_rng = torch.Generator()
        self._noise_rng = device_generator(self.device)  # per-step draws stay on the device
        self._epochs_done = 0
        self._reseed_noise = False
        self._new_model(seed=0)

    # -- building -----------------------------------------------------------------------

    def _new_model(self, seed: int) -> None:
        """Fresh UNet (weights from ``seed``), EMA copy, optimiser and grad scaler."""
        layout = UNetLayout(
            width=self._opts["width"],
            res_blocks=self._opts["res_blocks"],
            attention_res=self._opts["attention_res"],
        )
        net = build_unet(
            self.image_size,
            self.channels,
            layout,
            num_class_embeds=self.num_classes + 1 if self.conditional else None,
            seed=seed,
        )
        memory_format = torch.channels_last if self._channels_last else torch.contiguous_format
        self.unet = net.to(self.device).to(memory_format=memory_format)
        self.ema = WeightEMA(self.unet, self._opts["ema_decay"])
        self.opt = fused_adam(self.unet.parameters(), self._opts["lr"])
        self.scaler = torch.amp.GradScaler("cuda", enabled=uses_grad_scaler(self._dtype))

    def _start(self, seed: int) -> None:
        """Fresh weights, optimiser and RNGs, all from ``seed``."""
        self._new_model(seed)
        self._perm_rng.manual_seed(seed + 1)
        self._noise_rng.manual_seed(seed + 2)

    # -- contract -----------------------------------------------------------------------

    @property
    def epochs_done(self) -> int:
        return self._epochs_done

    def options(self) -> dict[str, Any]:
        return dict(self._opts)

    def _autocast(self) -> contextlib.AbstractContextManager[Any]:
        return autocast(self.device, self._dtype)

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
        check_images("ddpm", images, self.channels, self.image_size)
        if batch_size < 1 or epochs < 0:
            raise MedaugError(f"need batch_size >= 1 and epochs >= 0, got {batch_size}, {epochs}")
        targets = None
        if self.conditional:
            targets = check_labels("ddpm", labels, len(images), self.num_classes, "fit")
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
        ys = targets.to(self.device) if targets is not None else None
        n = len(data)
        bs = min(batch_size, n)
        steps = n // bs
        log = LossLog(("loss",), callback, sync_every=self._opts["sync_every"], device=self.device)
        self.unet.train()
        for epoch in range(self._epochs_done, epochs):
            perm = torch.randperm(n, generator=self._perm_rng)[: steps * bs].to(self.device)
            log.begin(epoch, steps)
            for step in range(steps):
                idx = perm[step * bs : (step + 1) * bs]
                x0 = data.index_select(0, idx)
                y = ys.index_select(0, idx) if ys is not None else None
                log.record(step, self._train_step(x0, y))
            self._epochs_done = epoch + 1
            log.end()

    def _train_step(self, x0: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        """One DDPM step on clean images ``x0``; returns the (device) loss."""
        bs = len(x0)
        noise = torch.randn(x0.shape, device=self.device, generator=self._noise_rng)
        t = torch.randint(
            0, self._opts["timesteps"], (bs,), device=self.device, generator=self._noise_rng
        )
        if labels is not None:
            drop = torch.rand(bs, device=self.device, generator=self._noise_rng)
            labels = labels.masked_fill(drop < self._opts["cond_drop"], self._null_label)
        net = cast(DiffusionModelUNet, partial(self.unet, class_labels=labels))
        self.opt.zero_grad(set_to_none=True)
        with self._autocast():
            pred = self._inferer(inputs=x0, diffusion_model=net, noise=noise, timesteps=t)
        loss = nn.functional.mse_loss(pred.float(), noise)
        self.scaler.scale(loss).backward()
        if self._opts["grad_clip"] > 0:
            self.scaler.unscale_(self.opt)
            nn.utils.clip_grad_norm_(self.unet.parameters(), self._opts["grad_clip"], foreach=True)
        self.scaler.step(self.opt)
        self.scaler.update()
        self.ema.update(self.unet)
        return loss.detach()

    def _sample_labels(self, labels: torch.Tensor | None, n: int) -> torch.Tensor | None:
        """Class labels for sampling: ``None`` (no class: the unconditional model or the
        class mixture of a conditional one) or ``(n,)`` indices."""
        if not self.conditional or labels is None:
            return None
        return check_labels("ddpm", labels, n, self.num_classes, "sample")

    def _denoise(self, noise: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        """DDIM from ``noise`` (on the device) to images, with the EMA weights."""
        guidance: float | None = None
        class_labels: torch.Tensor | None = None
        if self.conditional:
            null = torch.full((len(noise),), self._null_label, device=self.device)
            if labels is None:
                class_labels = null
            elif self._opts["guidance"] == 1.0:
                class_labels = labels.to(self.device)
            else:
                # DiffusionInferer.sample runs [unconditional; conditional] in one batch
                guidance = self._opts["guidance"]
                class_labels = torch.cat([null, labels.to(self.device)])
        net = cast(DiffusionModelUNet, partial(self.ema.model, class_labels=class_labels))
        with self._autocast():
            out = self._inferer.sample(
                input_noise=noise,
                diffusion_model=net,
                scheduler=self._sampler,
                verbose=False,
                cfg=guidance,
            )
        return cast(torch.Tensor, out)

    def sample(self, n: int, *, seed: int, labels: torch.Tensor | None = None) -> torch.Tensor:
        if n < 0:
            raise MedaugError(f"cannot sample {n} images")
        targets = self._sample_labels(labels, n)
        rng = torch.Generator().manual_seed(seed)
        noise = torch.randn(n, self.channels, self.image_size, self.image_size, generator=rng)
        memory_format = torch.channels_last if self._channels_last else torch.contiguous_format
        chunks = []
        with torch.inference_mode():
            for start in range(0, n, SAMPLE_CHUNK):
                x = noise[start : start + SAMPLE_CHUNK].to(self.device)
                y = targets[start : start + SAMPLE_CHUNK] if targets is not None else None
                img = self._denoise(x.contiguous(memory_format=memory_format), y)
                chunks.append(img.float().clamp_(-1, 1).cpu())
        if not chunks:
            return torch.empty(0, self.channels, self.image_size, self.image_size)
        # outside inference mode: a normal tensor callers may use with autograd
        return torch.cat(chunks).contiguous().clone()

    def state_dict(self) -> dict[str, Any]:
        return {
            "format": STATE_FORMAT,
            "version": STATE_VERSION,
            "image_size": self.image_size,
            "channels": self.channels,
            "conditional": self.conditional,
            "num_classes": self.num_classes,
            "options": self.options(),
            "epochs_done": self._epochs_done,
            "unet": self.unet.state_dict(),
            "ema": self.ema.state_dict(),
            "opt": self.opt.state_dict(),
            "scaler": self.scaler.state_dict(),
            "rng": {
                "perm": self._perm_rng.get_state(),
                "noise": self._noise_rng.get_state(),
                "noise_device": self.device.type,
            },
        }

    def _check_state(self, state: Mapping[str, Any]) -> None:
        if state.get("format") != STATE_FORMAT:
            raise MedaugError("not a ddpm state (wrong 'format')")
        if state.get("version") != STATE_VERSION:
            raise MedaugError(f"unsupported ddpm state version {state.get('version')!r}")
        if (state["image_size"], state["channels"]) != (self.image_size, self.channels):
            raise MedaugError(
                f"ddpm state is for {state['image_size']} px x {state['channels']} channel(s), "
                f"this model is {self.image_size} px x {self.channels}"
            )
        if bool(state["conditional"]) != self.conditional:
            kind = "conditional" if state["conditional"] else "unconditional"
            raise MedaugError(f"ddpm state is {kind}, this model is not")
        if self.conditional and state["num_classes"] != self.num_classes:
            raise MedaugError(
                f"ddpm state is for {state['num_classes']} classes, "
                f"this model for {self.num_classes}"
            )
        saved = state["options"]
        for key in ARCHITECTURE:
            if saved.get(key) != self._opts[key]:
                raise MedaugError(
                    f"ddpm state was made with {key}={saved.get(key)!r}, "
                    f"this model has {key}={self._opts[key]!r}"
                )

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self._check_state(state)
        self.unet.load_state_dict(state["unet"])
        self.ema.load_state_dict(state["ema"])
        self.opt.load_state_dict(state["opt"])
        if state.get("scaler"):
            self.scaler.load_state_dict(state["scaler"])
        self._perm_rng.set_state(state["rng"]["perm"])
        if state["rng"].get("noise_device", "cpu") == self.device.type:
            self._noise_rng.set_state(state["rng"]["noise"])
            self._reseed_noise = False
        else:
            self._reseed_noise = True
        self._epochs_done = int(state["epochs_done"])


class ConditionalDDPM(DDPM):
    """One class-conditional DDPM for all classes, with classifier-free guidance."""

    conditional: ClassVar[bool] = True
