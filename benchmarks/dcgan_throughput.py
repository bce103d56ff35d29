"""DCGAN training throughput: medaug's ``dcgan`` plugin vs a plain PyTorch loop.

The reference is the pytorch/examples ``dcgan/main.py`` loop, same architecture (64 px,
nz 100, ngf = ndf = 64, Sigmoid + BCELoss, separate real / fake backward passes, default
Adam), fed from an in-memory ``TensorDataset`` through a ``DataLoader`` and reading
``.item()`` every step as the example does when it prints. The plugin is timed as the
paper's DCGAN (``-O preset=paper``, the same maths as the plain loop), with each
data-efficient option added alone, and with every other preset (``compact``,
``small-data``). All are measured in the same process, interleaved (plain, medaug
paper, medaug +option..., plain, ...) so machine load hits them alike; medians over
``--rounds``; ``--clock cpu`` counts the process's CPU time (fairest on a shared machine).

Then the end-to-end ``medaug balance`` wall time (decode, train, sample, write, report)
with the paper preset is compared with the plain loop's time for the same number of
training steps.

    python benchmarks/dcgan_throughput.py                 # CPU, batch 64, 64 px, 1 channel
    python benchmarks/dcgan_throughput.py --device cuda --steps 50
    python benchmarks/dcgan_throughput.py --compile --json out.json
    python benchmarks/dcgan_throughput.py --threads 1 --clock cpu   # on a shared machine

Prints one JSON object (img/s and ms/step per variant, ratios, end-to-end times).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image
from torch import nn

#: what the step timings count: wall-clock time, or this process's CPU time (``--clock``)
clock: Callable[[], float] = time.perf_counter

# -- the plain reference loop (pytorch/examples dcgan/main.py) --------------------------------


class PlainG(nn.Module):
    def __init__(self, nc: int = 1, nz: int = 100, ngf: int = 64) -> None:
        super().__init__()
        self.main = nn.Sequential(
            nn.ConvTranspose2d(nz, ngf * 8, 4, 1, 0, bias=False),
            nn.BatchNorm2d(ngf * 8),
            nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 8, ngf * 4, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ngf * 4),
            nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 4, ngf * 2, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ngf * 2),
            nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 2, ngf, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ngf),
            nn.ReLU(True),
            nn.ConvTranspose2d(ngf, nc, 4, 2, 1, bias=False),
            nn.Tanh(),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.main(x)


class PlainD(nn.Module):
    def __init__(self, nc: int = 1, ndf: int = 64) -> None:
        super().__init__()
        self.main = nn.Sequential(
            nn.Conv2d(nc, ndf, 4, 2, 1, bias=False),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf, ndf * 2, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ndf * 2),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf * 2, ndf * 4, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ndf * 4),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf * 4, ndf * 8, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ndf * 8),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf * 8, 1, 4, 1, 0, bias=False),
            nn.Sigmoid(),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.main(x).view(-1, 1).squeeze(1)


def _weights_init(m: nn.Module) -> None:
    name = m.__class__.__name__
    if name.find("Conv") != -1:
        nn.init.normal_(m.weight, 0.0, 0.02)
    elif name.find("BatchNorm") != -1:
        nn.init.normal_(m.weight, 1.0, 0.02)
        nn.init.zeros_(m.bias)


class PlainLoop:
    """The example's training loop, runnable for a given number of steps.

    ``dtype`` bfloat16 (or float16 on CUDA) runs the forward passes and losses under
    :func:`torch.autocast` (``benchmarks/cpu_precision.py``); float32 is the example."""

    def __init__(
        self, device: torch.device, nc: int = 1, nz: int = 100, dtype: torch.dtype = torch.float32
    ) -> None:
        self.device, self.nz = device, nz
        self.amp = torch.autocast(device.type, dtype=dtype, enabled=dtype != torch.float32)
        self.netG = PlainG(nc, nz).to(device)
        self.netD = PlainD(nc).to(device)
        self.netG.apply(_weights_init)
        self.netD.apply(_weights_init)
        self.criterion = nn.BCELoss()
        self.optD = torch.optim.Adam(self.netD.parameters(), lr=2e-4, betas=(0.5, 0.999))
        self.optG = torch.optim.Adam(self.netG.parameters(), lr=2e-4, betas=(0.5, 0.999))

    def run(self, data: torch.Tensor, batch_size: int, steps: int) -> float:
        loader = torch.utils.data.DataLoader(
            torch.utils.data.TensorDataset(data),
            batch_size=batch_size,
            shuffle=True,
            drop_last=True,
        )
        done = 0
        t0 = clock()
        while done < steps:
            for (real_cpu,) in loader:
                real = real_cpu.to(self.device)
                b = real.size(0)
                # (1) D: maximize log(D(x)) + log(1 - D(G(z)))
                self.netD.zero_grad()
                label = torch.full((b,), 1.0, device=self.device)
                with self.amp:
                    output = self.netD(real)
                    err_real = self.criterion(output, label)
                err_real.backward()
                d_x = output.mean().item()
                noise = torch.randn(b, self.nz, 1, 1, device=self.device)
                with self.amp:
                    fake = self.netG(noise)
                    label.fill_(0.0)
                    output = self.netD(fake.detach())
                    err_fake = self.criterion(output, label)
                err_fake.backward()
                d_g_z1 = output.mean().item()
                err_d = err_real + err_fake
                self.optD.step()
                # (2) G: maximize log(D(G(z)))
                self.netG.zero_grad()
                label.fill_(1.0)
                with self.amp:
                    output = self.netD(fake)
                    err_g = self.criterion(output, label)
                err_g.backward()
                d_g_z2 = output.mean().item()
                self.optG.step()
                _ = (err_d.item(), err_g.item(), d_x, d_g_z1, d_g_z2)  # the example prints these
                done += 1
                if done >= steps:
                    break
        if self.device.type == "cuda":
            torch.cuda.synchronize()
        return clock() - t0


# -- medaug ---------------------------------------------------------------------------------


def medaug_run(gen: Any, data: torch.Tensor, batch_size: int, steps: int) -> float:
    """Train one more epoch of exactly ``steps`` steps; return seconds."""
    subset = data[: steps * batch_size]
    labels = torch.arange(len(subset)) % 2 if gen.conditional else None
    t0 = clock()
    gen.fit(subset, epochs=gen.epochs_done + 1, batch_size=batch_size, seed=0, labels=labels)
    if gen.device.type == "cuda":
        torch.cuda.synchronize()
    return clock() - t0


def option_variants() -> dict[str, dict[str, Any]]:
    """The paper preset with each option alone (``OPTION_TRIALS``), then every other preset
    and the default's conditional form (2 classes)."""
    from medaug_dcgan.options import DEFAULT_PRESET, OPTION_TRIALS, PRESETS

    out: dict[str, dict[str, Any]] = {
        f"medaug paper +{name}": {"preset": "paper", **values}
        for name, values in OPTION_TRIALS.items()
    }
    out.update({f"medaug {name}": {"preset": name} for name in PRESETS if name != "paper"})
    out[f"medaug {DEFAULT_PRESET} conditional"] = {"conditional": True}
    return out


def _folder(root: Path, counts: dict[str, int], size: int) -> Path:
    rng = np.random.default_rng(0)
    for cls, n in counts.items():
        (root / cls).mkdir(parents=True)
        for i in range(n):
            arr = rng.integers(0, 256, (size, size), dtype=np.uint8)
            Image.fromarray(arr, mode="L").save(root / cls / f"{cls}_{i:05d}.png")
    return root


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--steps", type=int, default=10, help="timed steps per round")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument(
        "--clock",
        choices=("wall", "cpu"),
        default="wall",
        help="time steps by wall clock or by this process's CPU time (fair under load)",
    )
    parser.add_argument("--compile", action="store_true", help="also time -O compile=true")
    parser.add_argument(
        "--no-options", action="store_true", help="skip the data-efficient option variants"
    )
    parser.add_argument("--e2e-epochs", type=int, default=2, help="0 skips the balance run")
    parser.add_argument("--json", type=Path, help="also write the result here")
    args = parser.parse_args()
    global clock
    if args.clock == "cpu":
        clock = time.process_time
    if args.threads:
        torch.set_num_threads(args.threads)
    import medaug
    from medaug.runtime import resolve_device

    device = resolve_device(args.device)
    bs, size, steps = args.batch_size, args.image_size, args.steps
    data = torch.rand(bs * max(steps, args.warmup), 1, size, size) * 2 - 1

    # "medaug paper" is the plain loop's maths (channels_last on); the contiguous variant
    # shows what the memory format alone is worth; then each option alone, then the default
    variants: dict[str, dict[str, Any]] = {
        "medaug paper": {"preset": "paper"},
        "medaug paper contiguous": {"preset": "paper", "channels_last": False},
    }
    if not args.no_options:
        variants.update(option_variants())
    if args.compile:
        variants["medaug paper compile"] = {"preset": "paper", "compile": True}
    plain = PlainLoop(device)
    plain.run(data, bs, args.warmup)
    gens = {}
    for name, opts in variants.items():
        gen = medaug.create_generator(
            "dcgan", image_size=size, channels=1, device=device, num_classes=2, **opts
        )
        medaug_run(gen, data, bs, args.warmup)
        gens[name] = gen
    times: dict[str, list[float]] = {"plain": [], **{k: [] for k in variants}}
    for _ in range(args.rounds):
        times["plain"].append(plain.run(data, bs, steps))
        for name, gen in gens.items():
            times[name].append(medaug_run(gen, data, bs, steps))
    ips = {k: bs * steps / statistics.median(v) for k, v in times.items()}
    paper = ips["medaug paper"]
    result: dict[str, Any] = {
        "device": str(device),
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "cpu": platform.processor() or platform.machine(),
        "batch_size": bs,
        "image_size": size,
        "channels": 1,
        "steps_per_round": steps,
        "clock": args.clock,
        "rounds": args.rounds,
        "load_avg": [round(x, 2) for x in os.getloadavg()],
        "img_per_s": {k: round(v, 1) for k, v in ips.items()},
        "ms_per_step": {k: round(1000 * bs / v, 1) for k, v in ips.items()},
        "speedup_vs_plain": {k: round(v / ips["plain"], 3) for k, v in ips.items() if k != "plain"},
        "time_vs_paper": {k: round(paper / v, 3) for k, v in ips.items() if k != "plain"},
        "goal_paper_time_vs_plain_max": 1.10,
    }
    if args.e2e_epochs > 0:
        result["end_to_end"] = _end_to_end(args, device, ips["plain"])
    text = json.dumps(result, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")


def _end_to_end(args: argparse.Namespace, device: torch.device, plain_ips: float) -> dict[str, Any]:
    """``balance`` on a fresh folder vs the plain loop's time for the same steps."""
    from medaug.balancing import BalanceConfig, balance
    from medaug.data.options import DataOptions

    bs, size, epochs = args.batch_size, args.image_size, args.e2e_epochs
    steps_per_epoch = args.steps
    minority = bs * steps_per_epoch
    with tempfile.TemporaryDirectory() as tmp:
        root = _folder(Path(tmp) / "data", {"rare": minority, "common": minority + 2 * bs}, size)
        t0 = clock()
        result = balance(
            BalanceConfig(
                out=Path(tmp) / "out",
                data=root,
                image_size=size,
                channels=1,
                epochs=epochs,
                batch_size=bs,
                device=device,
                options=DataOptions(cache_dir=Path(tmp) / "cache"),
                progress=False,
                generator_options={"preset": "paper"},
                audit=False,  # the audit's own cost is not the engine's overhead
            )
        )
        wall = clock() - t0  # wall-clock or CPU seconds, as --clock says
    steps = epochs * steps_per_epoch
    loop_time = steps * bs / plain_ips
    return {
        "train_steps": steps,
        "synthetic_images": result.summary["added"]["rare"],
        "balance_s": round(wall, 2),
        "balance_train_s": round(result.summary["seconds"]["classes"]["rare"]["train"], 2),
        "plain_loop_s_same_steps": round(loop_time, 2),
        "ratio_balance_to_loop": round(wall / loop_time, 3),
        "goal_ratio_max": 1.10,
    }


if __name__ == "__main__":
    main()
