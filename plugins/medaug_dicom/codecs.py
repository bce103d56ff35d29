"""Which package decodes which transfer syntax, for errors that say what to install."""

from __future__ import annotations

from pydicom.uid import UID

#: transfer-syntax UID prefix/value -> the pip package medaug relies on for it
_PACKAGES: dict[str, str] = {
    "1.2.840.10008.1.2.4.50": "pylibjpeg-libjpeg",  # JPEG Baseline
    "1.2.840.10008.1.2.4.51": "pylibjpeg-libjpeg",  # JPEG Extended
    "1.2.840.10008.1.2.4.57": "pylibjpeg-libjpeg",  # JPEG Lossless
    "1.2.840.10008.1.2.4.70": "pylibjpeg-libjpeg",  # JPEG Lossless SV1
    "1.2.840.10008.1.2.4.80": "pylibjpeg-libjpeg",  # JPEG-LS Lossless
    "1.2.840.10008.1.2.4.81": "pylibjpeg-libjpeg",  # JPEG-LS Near-lossless
    "1.2.840.10008.1.2.4.90": "pylibjpeg-openjpeg",  # JPEG 2000 Lossless
    "1.2.840.10008.1.2.4.91": "pylibjpeg-openjpeg",  # JPEG 2000
    "1.2.840.10008.1.2.4.201": "pylibjpeg-openjpeg",  # HTJ2K Lossless
    "1.2.840.10008.1.2.4.202": "pylibjpeg-openjpeg",  # HTJ2K Lossless RPCL
    "1.2.840.10008.1.2.4.203": "pylibjpeg-openjpeg",  # HTJ2K
    "1.2.840.10008.1.2.5": "pylibjpeg-rle",  # RLE Lossless
}


def package_for(uid: str) -> str:
    """The package to install to decode ``uid`` (a generic hint when unknown)."""
    return _PACKAGES.get(str(uid), "pylibjpeg pylibjpeg-libjpeg pylibjpeg-openjpeg")


def decoder_problem(uid: str) -> str | None:
    """Why pixel data in transfer syntax ``uid`` cannot be decoded here, or ``None``."""
    from pydicom.pixels import get_decoder

    ts = UID(uid)
    try:
        if not ts.is_compressed:
            return None
    except ValueError:  # not a known transfer syntax: let get_decoder say so
        pass
    try:
        decoder = get_decoder(ts)
    except NotImplementedError:
        return f"unsupported transfer syntax {ts.name or uid}: no pixel decoder exists for it"
    if decoder.is_available:
        return None
    pkg = package_for(uid)
    return f"no decoder for {ts.name or uid}: install {pkg} (pip install {pkg})"
