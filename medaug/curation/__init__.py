"""Curation of synthetic images (``--filter``): draw more than needed, keep the ones the
audit's criteria accept.

- :mod:`~medaug.curation.policy`: :class:`CurationPolicy` (which filter, how many
  candidates per kept image), light enough for the CLI to read at start-up;
- :mod:`~medaug.curation.curator`: :class:`Curator` (the filters, on the audit's
  features) and :class:`Curation` (what it kept of one class).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from medaug.lazy import lazy_exports

_EXPORTS: dict[str, str] = {
    "DEFAULT_DRAWS": "policy",
    "DEFAULT_THRESHOLD": "policy",
    "FILTERS": "policy",
    "Curation": "curator",
    "CurationPolicy": "policy",
    "Curator": "curator",
}

__all__ = sorted(_EXPORTS)

__getattr__ = lazy_exports(__name__, _EXPORTS, globals())

if TYPE_CHECKING:
    from medaug.curation.curator import Curation as Curation
    from medaug.curation.curator import Curator as Curator
    from medaug.curation.policy import DEFAULT_DRAWS as DEFAULT_DRAWS
    from medaug.curation.policy import DEFAULT_THRESHOLD as DEFAULT_THRESHOLD
    from medaug.curation.policy import FILTERS as FILTERS
    from medaug.curation.policy import CurationPolicy as CurationPolicy
