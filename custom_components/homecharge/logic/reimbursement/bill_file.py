"""The energy bill a driver uploads: a PDF, PNG or JPEG, known by its content.

A name says nothing (``bill.pdf`` may be a web page saved by a browser), so
the first bytes decide. The bill is kept in Home Assistant's storage for
the receiver to see, so a size limit keeps a phone's 50 MB photo burst out.
"""

from __future__ import annotations

from enum import Enum
from typing import Final

from .errors import InputError

# A bill is one or two pages: a scan at 300 dpi fits well under this.
MAX_BILL_BYTES: Final = 10 * 1024 * 1024
# How many leading bytes recognising a file needs (the PNG signature's).
HEAD_BYTES: Final = 8


class BillKind(Enum):
    """A kind of bill file: its MIME type, extension and magic bytes."""

    PDF = ("application/pdf", "pdf", b"%PDF-")
    PNG = ("image/png", "png", b"\x89PNG\r\n\x1a\n")
    JPEG = ("image/jpeg", "jpg", b"\xff\xd8\xff")

    def __init__(self, mime: str, extension: str, magic: bytes) -> None:
        """Keep each part under its name."""
        self.mime = mime
        self.extension = extension
        self.magic = magic


class BillError(InputError):
    """Not a usable bill: ``bill_empty``, ``bill_too_large`` or ``bill_type``."""


def recognise_bill(head: bytes, size: int | None = None) -> BillKind:
    """The bill's kind from its first bytes, or a BillError.

    ``head`` is the file, or at least its first HEAD_BYTES; ``size`` is the
    whole file's (the head's length when not given), so a large upload is
    judged without reading it.
    """
    size = len(head) if size is None else size
    if size <= 0:
        raise BillError("bill_empty", "the file is empty")
    if size > MAX_BILL_BYTES:
        raise BillError("bill_too_large", f"{size} bytes, at most {MAX_BILL_BYTES}")
    for kind in BillKind:
        if head.startswith(kind.magic):
            return kind
    raise BillError("bill_type", "not a PDF, PNG or JPEG by its content")
