"""The code as a QR image: PNG or SVG, error correction M, never past version 7.

Rendering costs milliseconds where signing costs microseconds, so ``codes.service`` caches the
bytes per code in Redis and a refresh storm renders each code once.
"""
from __future__ import annotations

import io

import segno

ERROR_CORRECTION = "m"
MAX_VERSION = 7
SCALE = 6  # pixels a module in the PNG: about 330 px square at version 7
BORDER = 4  # the quiet zone the QR standard asks for
MEDIA_TYPES = {"png": "image/png", "svg": "image/svg+xml"}


def make_qr(text: str) -> segno.QRCode:
    """The QR code for a code text: ECC M exactly (no boost), no micro QR."""
    return segno.make(text, error=ERROR_CORRECTION, boost_error=False, micro=False)


def render(text: str, kind: str) -> bytes:
    """The QR image of ``text`` as ``kind`` ("png" or "svg") bytes."""
    if kind not in MEDIA_TYPES:
        raise ValueError(f"unknown image kind {kind!r}")
    out = io.BytesIO()
    qr = make_qr(text)
    if kind == "png":
        qr.save(out, kind="png", scale=SCALE, border=BORDER)
    else:
        qr.save(out, kind="svg", scale=SCALE, border=BORDER, xmldecl=False, svgns=True,
                title="OneCode", nl=False)
    return out.getvalue()
