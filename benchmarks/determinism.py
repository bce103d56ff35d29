"""What is bit-for-bit reproducible on a device: the same seed, twice, in one process.

For the ``dcgan`` generator (default preset) and the ``simple-cnn`` classifier, trains
twice with one seed and compares the results byte for byte, and samples one trained
generator twice with one seed. Prints one JSON object: for each check whether the bytes
are identical and the largest absolute difference. docs/scaling.md ("What is
reproducible") quotes it for the CPU and CUDA::

    python benchmarks/determinism.py --device cuda
    python benchmarks/determinism.py --device cpu --steps 20
"""

from __future__ import annotations

import argparse
import json

import torch

import medaug
from medaug.training import (
    ModelSpec,
    Placement,
    Recipe,
    RunData,
    TensorData,
    TrainConfig,
    fit,
    load_pipeline,
)


def _compare(a: torch.Tensor, b: torch.Tensor) -> dict[str, object]:
    return {"identical": bool(torch.equal(a, b)), "max_abs_diff": float((a - b).abs().max())}


def _images(n: int, size: int) -> torch.Tensor:
    return torch.rand(n, 1, size, size, generator=torch.Generator().manual_seed(0)) * 2 - 1


def generator_checks(device: str, steps: int, size: int) -> dict[str, object]:
    """Train the default dcgan twice from one seed; sample one of them twice."""
    data = _images(64 * steps, size)
    runs = []
    for _ in range(2):
        gen = medaug.create_generator("dcgan", image_size=size, device=device)
        gen.fit(data, epochs=1, batch_size=64, seed=0)
        runs.append(gen)
    return {
        "train_twice_then_sample": _compare(runs[0].sample(64, seed=1), runs[1].sample(64, seed=1)),
        "sample_twice": _compare(runs[0].sample(64, seed=1), runs[0].sample(64, seed=1)),
    }


def classifier_checks(device: str, epochs: int, size: int) -> dict[str, object]:
    """Train simple-cnn twice from one seed (standard augmentation); compare the weights."""
    g = torch.Generator().manual_seed(1)
    x = torch.rand(512, 1, size, size, generator=g)
    data = TensorData(x, (x.mean(dim=(1, 2, 3)) > 0.5).long(), ["NORMAL", "PNEUMONIA"])
    weights = []
    for _ in range(2):
        result = fit(
            Recipe(
                ModelSpec("simple-cnn"),
                TrainConfig(epochs=epochs, batch_size=64),
                load_pipeline("standard"),
            ),
            RunData(data, positive=1),
            placement=Placement(torch.device(device)),
        )
        weights.append(
            torch.cat([p.detach().float().flatten().cpu() for p in result.model.parameters()])
        )
    return {"train_twice": _compare(weights[0], weights[1])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--steps", type=int, default=100, help="dcgan steps (batch 64)")
    parser.add_argument("--epochs", type=int, default=2, help="simple-cnn epochs")
    parser.add_argument("--image-size", type=int, default=64)
    args = parser.parse_args()
    device = str(medaug.resolve_device(args.device))
    out = {
        "device": torch.cuda.get_device_name() if device.startswith("cuda") else "cpu",
        "torch": torch.__version__,
        "dcgan": generator_checks(device, args.steps, args.image_size),
        "simple_cnn": classifier_checks(device, args.epochs, args.image_size),
    }
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
