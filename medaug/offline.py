"""No network: what medaug sets before any of its dependencies is imported.

medaug never contacts the network, but some of its dependencies would, at import:
albumentations 2.x asks PyPI for a newer version (a DNS lookup and an HTTPS request in
every ``train``, ``evaluate`` and ``experiment``). Importing :mod:`medaug` (the first
thing ``python -m medaug`` and the ``medaug`` script do) sets the variables below, so
that such checks and usage reports are off in this process and in every process it
starts. Downloads of weights are refused elsewhere (``--pretrained`` reads only the
local cache).
"""

from __future__ import annotations

import os

#: environment variables that switch off update checks and telemetry
OFFLINE_ENVIRONMENT = {
    "NO_ALBUMENTATIONS_UPDATE": "1",  # albumentations' version check at import
    "HF_HUB_DISABLE_TELEMETRY": "1",  # huggingface_hub (timm's hub) usage reports
    "DO_NOT_TRACK": "1",  # the shared opt-out other libraries honour
}

os.environ.update(OFFLINE_ENVIRONMENT)

__all__ = ["OFFLINE_ENVIRONMENT"]
