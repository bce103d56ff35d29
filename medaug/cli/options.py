"""Click options shared by several commands, so they read the same everywhere."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from medaug.runtime import DEVICE_CHOICES

F = TypeVar("F", bound=Callable[..., Any])


def device_option(f: F) -> F:
    """``--device auto|cpu|cuda|cuda:N`` (resolve with :func:`medaug.resolve_device`)."""
    return click.option(
        "--device",
        default="auto",
        show_default=True,
        metavar=DEVICE_CHOICES.upper(),
        help="Where to compute: auto picks CUDA when present, else the CPU.",
    )(f)


def channels_option(f: F) -> F:
    """``--channels auto|1|3`` (a string, as :func:`medaug.data.load_dataset` accepts it)."""
    return click.option(
        "--channels",
        type=click.Choice(["auto", "1", "3"]),
        default="auto",
        show_default=True,
        help="Decode to 1 (grayscale) or 3 (RGB) channels; auto = 1 when every image is gray.",
    )(f)


def seed_option(f: F) -> F:
    """``--seed N``."""
    return click.option(
        "--seed", type=click.IntRange(min=0), default=0, show_default=True, help="Random seed."
    )(f)


def json_option(f: F) -> F:
    """``--json``: machine-readable output on stdout."""
    return click.option(
        "--json", "as_json", is_flag=True, help="Print machine-readable JSON on stdout."
    )(f)


def parse_key_values(pairs: tuple[str, ...] | list[str], what: str = "--option") -> dict[str, Any]:
    """Turn ``key=value`` strings into a dict; values are parsed as JSON when they can be
    (``lr=0.001`` -> float, ``flag=true`` -> bool), else kept as strings."""
    import json

    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        key = key.strip().replace("-", "_")
        if not sep or not key:
            raise click.BadParameter(f"expected key=value, got {pair!r}", param_hint=what)
        try:
            out[key] = json.loads(raw)
        except ValueError:
            out[key] = raw
    return out


#: the parameter names :func:`dataset_options` adds, in ``--help`` order
DATASET_OPTION_NAMES: tuple[str, ...] = (
    "labels",
    "label_tag",
    "id_column",
    "label_column",
    "reader",
    "patient_regex",
    "cache_dir",
    "workers",
)


def dataset_options(f: F) -> F:
    """How a dataset is read, the same for every command that reads one: ``--labels``,
    ``--label-tag``, ``--id-column``, ``--label-column``, ``--reader``,
    ``--patient-regex``, ``--cache-dir`` and ``--workers``.

    Turn the parsed values into ``load_dataset``/``scan_dataset`` keyword arguments
    with :func:`dataset_kwargs`.
    """
    opts = [
        click.option(
            "--labels",
            type=click.Path(path_type=str),
            default=None,
            metavar="FILE",
            help="CSV with a file/id column and a label column (DICOM files without "
            "class folders).",
        ),
        click.option(
            "--label-tag",
            default=None,
            metavar="TAG",
            help="Label DICOM files by this attribute, e.g. StudyDescription.",
        ),
        click.option(
            "--id-column", default=None, help="Column of --labels holding the file name or id."
        ),
        click.option("--label-column", default=None, help="Column of --labels holding the class."),
        click.option(
            "--reader",
            default="auto",
            show_default=True,
            metavar="NAME",
            help="Reader name (see 'medaug plugins').",
        ),
        click.option(
            "--patient-regex",
            default=None,
            help="Regex over file names giving the patient id (a 'patient' group or group 1).",
        ),
        click.option(
            "--cache-dir",
            type=click.Path(path_type=str),
            default=None,
            help="Decode cache folder (default: $MEDAUG_CACHE_DIR or the user cache dir).",
        ),
        click.option(
            "--workers",
            type=click.IntRange(min=1),
            default=None,
            help="Decode processes (default: all CPUs).",
        ),
    ]
    for opt in reversed(opts):
        f = opt(f)
    return f


def dataset_kwargs(values: dict[str, Any], *, scan: bool = False) -> dict[str, Any]:
    """Pop the :func:`dataset_options` values out of ``values`` (a command's keyword
    arguments) and return them as keyword arguments of :func:`medaug.data.load_dataset`
    (``scan=True``: of :func:`medaug.data.scan_dataset`, which takes no ``workers``).

    ``id_column``/``label_column`` become reader options, passed only when given.
    """
    opts = {name: values.pop(name, None) for name in DATASET_OPTION_NAMES}
    out: dict[str, Any] = {
        "reader": opts["reader"] or "auto",
        "labels": opts["labels"],
        "label_tag": opts["label_tag"],
        "patient_regex": opts["patient_regex"],
        "cache_dir": opts["cache_dir"],
    }
    if not scan:
        out["workers"] = opts["workers"]
    for name in ("id_column", "label_column"):
        if opts[name] is not None:
            out[name] = opts[name]
    return out
