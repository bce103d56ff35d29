"""Hook specifications: the whole contract between medaug and its plugins.

A plugin is a module (or object) with functions marked ``@medaug.hookimpl`` whose
names match the specs below. It is found through the ``medaug`` entry-point group::

    # pyproject.toml of a third-party plugin
    [project.entry-points.medaug]
    wgan = "medaug_wgan"

Every ``register_*`` hook receives a ``register`` callback rather than returning
values (as simonw/llm does): call it once per thing you provide. medaug calls hooks
through pluggy with keyword arguments, so an implementation may accept fewer arguments
than its spec names: a spec can grow (with a default) without breaking plugins.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

import pluggy

if TYPE_CHECKING:
    import click

PROJECT_NAME = "medaug"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


class Register(Protocol):
    """The callback handed to every ``register_*`` hook.

    ``name`` is the public name users type (``--generator NAME``). ``factory`` is a
    class or function building the object from keyword options, or its
    ``"package.module:Attr"`` reference, imported on first use (so registering does not
    import torch and ``medaug plugins`` stays fast). ``description`` is shown by
    ``medaug plugins``; it defaults to the first docstring line of the factory (give it
    with a string factory, or listing imports the module to read the docstring).
    ``variants=True`` makes the name a family: ``NAME:VARIANT`` resolves to this factory
    called with ``variant="VARIANT"`` (the ``timm:resnet18`` form).
    """

    def __call__(
        self,
        name: str,
        factory: Callable[..., Any] | str,
        *,
        description: str | None = None,
        variants: bool = False,
    ) -> None: ...


# --------------------------------------------------------------------------------------
# Models
# --------------------------------------------------------------------------------------


@hookspec
def register_generators(register: Register) -> None:
    """Register generative models (GANs...) that synthesise images of a class.

    ``factory(image_size=..., channels=..., device=..., num_classes=..., **options)``
    must return an object implementing :class:`medaug.contracts.generator.Generator`.
    """


@hookspec
def register_classifiers(register: Register) -> None:
    """Register image classifiers (CNN backbones...).

    ``factory(num_classes=..., in_chans=..., image_size=..., pretrained=..., **options)``
    must return a :class:`torch.nn.Module` as described by
    :class:`medaug.contracts.classifier.ClassifierFactory`.
    """


@hookspec
def register_feature_extractors(register: Register) -> None:
    """Register image feature extractors used by ``medaug audit`` (FID, KID, precision /
    recall, memorization screen).

    ``factory(image_size=..., channels=..., device=..., **options)`` must return an
    object implementing :class:`medaug.contracts.features.FeatureExtractor`. Nothing may
    be downloaded: weights come from local files only.
    """


# --------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------


@hookspec
def register_readers(register: Register) -> None:
    """Register dataset readers (folder layouts, DICOM...).

    ``factory(**options)`` must return an object implementing
    :class:`medaug.contracts.reader.Reader`.
    """


@hookspec
def register_formats(register: Register) -> None:
    """Register file formats that synthetic images are written in and output files are
    read back from (``png``, ``dicom``...).

    ``factory()`` must return an object implementing
    :class:`medaug.contracts.fileformat.FileFormat`; the name is the format a dataset's
    reader reports (``png`` for image folders, ``dicom`` for DICOM data).
    """


# --------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------


@hookspec
def register_commands(cli: click.Group) -> None:
    """Add Click commands to the ``medaug`` command group (``cli.add_command(cmd)``)."""
