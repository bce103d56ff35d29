"""Sampling a trained generator into files with deterministic names and seeds.

Image ``i`` of class ``c`` for run seed ``s`` is ``synthetic_<s>_<i:05d>.<ext>``; images
are drawn in chunks of :data:`CHUNK` whose noise seed is derived from ``(s, c, chunk)``.
A chunk is always computed whole (a short last chunk is cut afterwards), so the numbers
do not depend on how many images are asked for: a resumed run re-creates only the missing
files and ``medaug generate`` with the same checkpoint and seed reproduces ``medaug
balance``'s files bit for bit (on the same device).

A curated job (:mod:`medaug.curation`) keeps a selection of that stream: image ``i`` is
the stream's image ``stream[i]``, recorded as ``medaug:index`` in its provenance.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from medaug._version import __version__
from medaug.contracts.generator import Generator
from medaug.generation.writer import Series, to_pixels
from medaug.output.manifest import ManifestRow
from medaug.plugins import file_format

CHUNK = 64


def chunk_seed(seed: int, class_name: str, chunk: int) -> int:
    """Noise seed of one chunk, stable across runs, platforms and Python versions."""
    digest = hashlib.sha256(f"{seed}\x00{class_name}\x00{chunk}".encode()).digest()
    return int.from_bytes(digest[:8], "little") & (2**63 - 1)


def synthetic_name(seed: int, index: int, output_format: str) -> str:
    """File name of synthetic image ``index``."""
    return f"synthetic_{seed}_{index:05d}{file_format(output_format).suffix}"


@dataclass
class SampleJob:
    """What to sample for one class and how to label it."""

    class_name: str
    class_index: int
    n: int
    seed: int
    out_dir: Path  # the class folder
    root: Path  # the output root (manifest paths are relative to it)
    generator_name: str
    generator_options: Mapping[str, Any]
    checkpoint_sha256: str
    output_format: str = "png"
    bit_depth: int = 8
    series: Series | None = None
    #: the stream images kept by curation, in order (empty: images ``0 .. n - 1``)
    stream: tuple[int, ...] = ()
    #: stream images drawn as candidates by curation (the next fresh one is after them)
    drawn: int = 0
    #: the curation policy, as the manifest records it (empty: none)
    curation: str = ""

    def stream_index(self, image: int) -> int:
        """The stream image that image ``image`` of the job is."""
        return self.stream[image] if self.stream else image

    @property
    def first_fresh(self) -> int:
        """The first stream image neither written nor drawn as a candidate."""
        return max(self.n, self.drawn, max(self.stream, default=-1) + 1)


def sample_chunk(
    generator: Generator, class_name: str, class_index: int, seed: int, chunk: int
) -> torch.Tensor:
    """Chunk ``chunk`` (:data:`CHUNK` images, ``[-1, 1]``) of class ``class_name`` for run
    seed ``seed``: images ``chunk * CHUNK ...`` of what :func:`sample_to_files` writes."""
    labels = torch.full((CHUNK,), class_index, dtype=torch.long) if generator.conditional else None
    out: torch.Tensor = generator.sample(
        CHUNK, seed=chunk_seed(seed, class_name, chunk), labels=labels
    )
    return out


def stream_images(
    generator: Generator, class_name: str, class_index: int, seed: int, stream: Sequence[int]
) -> torch.Tensor:
    """The stream images ``stream`` (indices) of class ``class_name`` for run seed
    ``seed``, ``(len(stream), C, H, W)`` in ``[-1, 1]``: the pixels :func:`sample_to_files`
    writes for them (before quantisation)."""
    chunks = {
        c: sample_chunk(generator, class_name, class_index, seed, c)
        for c in sorted({i // CHUNK for i in stream})
    }
    if not chunks:
        return torch.empty(0)
    return torch.stack([chunks[i // CHUNK][i % CHUNK] for i in stream])


def sample_images(
    generator: Generator, class_name: str, class_index: int, n: int, seed: int
) -> torch.Tensor:
    """``n`` images ``(n, C, H, W)`` in ``[-1, 1]``, the same pixels :func:`sample_to_files`
    writes for this class and seed (before quantisation)."""
    return stream_images(generator, class_name, class_index, seed, range(n))


def expected_paths(job: SampleJob) -> list[Path]:
    """Every file the job produces."""
    return [job.out_dir / synthetic_name(job.seed, i, job.output_format) for i in range(job.n)]


def _provenance(job: SampleJob, index: int) -> dict[str, str]:
    return {
        "medaug:synthetic": "true",
        "medaug:generator": job.generator_name,
        "medaug:generator_options": json.dumps(dict(job.generator_options), sort_keys=True),
        "medaug:seed": str(job.seed),
        "medaug:index": str(index),
        "medaug:class": job.class_name,
        "medaug:checkpoint_sha256": job.checkpoint_sha256,
        "medaug:version": __version__,
        "Software": f"medaug {__version__}",
    }


def sample_to_files(
    generator: Generator,
    job: SampleJob,
    *,
    on_written: Callable[[int], None] | None = None,
) -> list[ManifestRow]:
    """Write the job's missing files (existing ones are complete: writes are atomic).

    Returns one manifest row per file of the job, in index order; ``created`` is the
    file's modification time.
    """
    paths = expected_paths(job)
    by_chunk: dict[int, list[int]] = {}
    for i in range(job.n):
        by_chunk.setdefault(job.stream_index(i) // CHUNK, []).append(i)
    for chunk, idx in sorted(by_chunk.items()):
        missing = [i for i in idx if not paths[i].exists()]
        if missing:
            images = sample_chunk(generator, job.class_name, job.class_index, job.seed, chunk)
            pixels = to_pixels(images, job.bit_depth)
            for i in missing:
                _write_one(job, i, pixels[job.stream_index(i) - chunk * CHUNK])
        if on_written is not None:
            on_written(len(idx))
    return [_row(job, i, p) for i, p in enumerate(paths)]


def replace_images(
    generator: Generator,
    job: SampleJob,
    flagged: Sequence[int],
    is_copy: Callable[[torch.Tensor], Sequence[bool]],
    *,
    max_candidates: int = 4096,
) -> dict[int, int]:
    """Overwrite the job's images ``flagged`` (indices) with fresh samples that
    ``is_copy`` accepts (``False``), drawn in order from the stream images after the
    job's own and its curation candidates (:attr:`SampleJob.first_fresh`) of the same
    deterministic stream. Returns ``{image: stream index}``; an image stays flagged when
    ``max_candidates`` draws found no replacement."""
    todo = sorted(flagged)
    done: dict[int, int] = {}
    first = start = job.first_fresh  # the next unused index of the stream
    while todo and first < start + max_candidates:
        chunk = first // CHUNK
        images = sample_chunk(generator, job.class_name, job.class_index, job.seed, chunk)
        images = images[first - chunk * CHUNK :]
        pixels = to_pixels(images, job.bit_depth)
        for offset, copy in enumerate(is_copy(images)):
            if not todo:
                break
            if not copy:
                image = todo.pop(0)
                done[image] = first + offset
                _write_one(job, image, pixels[offset], stream_index=done[image], replaces=True)
        first = (chunk + 1) * CHUNK
    return done


def _write_one(
    job: SampleJob,
    index: int,
    pixels: Any,
    *,
    stream_index: int | None = None,
    replaces: bool = False,
) -> None:
    path = job.out_dir / synthetic_name(job.seed, index, job.output_format)
    prov = _provenance(job, job.stream_index(index) if stream_index is None else stream_index)
    if job.curation:
        prov["medaug:curation"] = job.curation
    if replaces:
        prov["medaug:replaces_flagged_copy"] = "true"
    file_format(job.output_format).write(
        path,
        pixels,
        series=job.series or Series(job.class_name, "", ""),
        instance_number=index + 1,
        provenance=prov,
        bit_depth=job.bit_depth,
    )


def _row(job: SampleJob, index: int, path: Path) -> ManifestRow:
    mtime = path.stat().st_mtime
    return ManifestRow(
        path=path.relative_to(job.root).as_posix(),
        label=job.class_name,
        source="synthetic",
        generator=job.generator_name,
        generator_options=json.dumps(dict(job.generator_options), sort_keys=True),
        seed=str(job.seed),
        checkpoint_sha256=job.checkpoint_sha256,
        medaug_version=__version__,
        curation=job.curation,
        created=_dt.datetime.fromtimestamp(mtime, _dt.UTC).isoformat(timespec="seconds"),
    )
