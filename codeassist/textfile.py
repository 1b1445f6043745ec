"""Read one file and decide whether its content is indexable text.

Binary is detected by content (NUL bytes or many control characters), not by extension.
Text must be UTF-8 (a UTF-8 BOM is dropped; UTF-16/32 with a BOM are transcoded). Minified or
generated one-line files are recognised by their line lengths.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass

__all__ = ["ReadResult", "read_text", "classify_bytes"]

_SNIFF = 8192
_CONTROL = bytes(range(0, 32)).replace(b"\t", b"").replace(b"\n", b"").replace(b"\r", b"").replace(
    b"\x0c", b""
).replace(b"\x1b", b"")
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


@dataclass(frozen=True, slots=True)
class ReadResult:
    """Either ``data`` (UTF-8 bytes) or a ``skip`` reason."""

    data: bytes | None
    skip: str | None = None
    #: hash of the raw bytes on disk (hex), set whenever the file could be read
    digest: str | None = None


def classify_bytes(raw: bytes, minified_line_length: int) -> tuple[bytes | None, str | None]:
    """Return (utf8_bytes, None) for indexable text, or (None, reason)."""
    for bom, encoding in _BOMS:
        if raw.startswith(bom):
            try:  # transcode, then judge the text like any other
                raw = raw[len(bom):].decode(encoding).encode("utf-8")
            except UnicodeError:
                return None, "invalid-utf8"
            break
    if raw.startswith(codecs.BOM_UTF8):
        raw = raw[3:]
    head = raw[:_SNIFF]
    if b"\x00" in head:
        return None, "binary"
    if head:
        controls = len(head) - len(head.translate(None, _CONTROL))
        if controls * 10 > len(head):  # more than 10% control characters
            return None, "binary"
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return None, "invalid-utf8"
    if b"\x00" in raw:  # NUL past the sniffed head: still not text we can parse sanely
        return None, "binary"
    if len(raw) > minified_line_length and _looks_minified(raw, minified_line_length):
        return None, "minified"
    return raw, None


def _looks_minified(raw: bytes, limit: int) -> bool:
    """Long lines on average with at least one over ``limit``, or one enormous line carrying
    much of the file. Prose with long paragraphs (no line over ``limit``) is not minified."""
    import numpy as np

    newlines = np.flatnonzero(np.frombuffer(raw, dtype=np.uint8) == 10)
    bounds = np.concatenate(([-1], newlines, [len(raw)]))
    longest = int(np.max(np.diff(bounds))) - 1
    mean = len(raw) / (len(newlines) + 1)
    return (mean > limit / 4 and longest > limit) or (longest > limit * 10 and longest > len(raw) // 2)


def read_text(abspath: str, minified_line_length: int) -> ReadResult:
    """Read and classify ``abspath``; never raises for I/O problems."""
    import hashlib

    try:
        with open(abspath, "rb") as fh:
            raw = fh.read()
    except FileNotFoundError:
        return ReadResult(None, "vanished")
    except PermissionError:
        return ReadResult(None, "permission-denied")
    except IsADirectoryError:
        return ReadResult(None, "not-regular")
    except OSError:
        return ReadResult(None, "permission-denied")
    digest = hashlib.blake2b(raw, digest_size=16).hexdigest()
    data, reason = classify_bytes(raw, minified_line_length)
    return ReadResult(data, reason, digest)
