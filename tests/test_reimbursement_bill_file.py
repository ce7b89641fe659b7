"""The energy bill is recognised by its content, and kept within a size."""

from __future__ import annotations

import struct
import zlib

from hypothesis import given, strategies as st
import pytest

from custom_components.homecharge.logic.reimbursement.bill_file import (
    HEAD_BYTES,
    MAX_BILL_BYTES,
    BillError,
    BillKind,
    recognise_bill,
)

# A one-page PDF as a PDF writer lays it out (header, objects, xref, trailer).
PDF = b"""%PDF-1.4
%\xe2\xe3\xcf\xd3
1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj
2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj
3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >> endobj
trailer << /Root 1 0 R >>
%%EOF
"""


def _png(width: int = 2, height: int = 1) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    rows = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


# The start of a JPEG from a phone camera (SOI, then an APP1/Exif segment),
# and of one from a scanner (SOI, APP0/JFIF).
JPEG_EXIF = b"\xff\xd8\xff\xe1\x00\x18Exif\x00\x00MM\x00*" + b"\x00" * 64
JPEG_JFIF = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01" + b"\x00" * 64


@pytest.mark.parametrize(
    ("content", "kind", "mime", "extension"),
    [
        (PDF, BillKind.PDF, "application/pdf", "pdf"),
        (_png(), BillKind.PNG, "image/png", "png"),
        (JPEG_EXIF, BillKind.JPEG, "image/jpeg", "jpg"),
        (JPEG_JFIF, BillKind.JPEG, "image/jpeg", "jpg"),
    ],
)
def test_a_bill_is_known_by_its_first_bytes(
    content: bytes, kind: BillKind, mime: str, extension: str
) -> None:
    assert recognise_bill(content) is kind
    assert (kind.mime, kind.extension) == (mime, extension)
    # The first HEAD_BYTES are enough, with the whole size told.
    assert recognise_bill(content[:HEAD_BYTES], size=len(content)) is kind


@pytest.mark.parametrize(
    "content",
    [
        b"<!DOCTYPE html><html><body>Faktura</body></html>",
        b"GIF89a\x01\x00\x01\x00\x00\x00\x00;",
        b"PK\x03\x04\x14\x00\x06\x00",  # a .docx (a zip)
        b"II*\x00\x08\x00\x00\x00",  # a TIFF scan
        b"RIFF\x00\x00\x00\x00WEBPVP8 ",
        b"\x00\x00\x00\x18ftypheic",  # an iPhone photo
        b"Strom-Rechnung.pdf",
        b" %PDF-1.4",  # not at the start
        b"\x89PNG\r\n",  # the PNG signature cut short
        b"\xff\xd8",  # the JPEG marker cut short
        b"%PDF",
    ],
)
def test_anything_else_is_refused_whatever_its_name(content: bytes) -> None:
    with pytest.raises(BillError) as caught:
        recognise_bill(content)
    assert caught.value.code == "bill_type"


def test_an_empty_file_is_refused() -> None:
    with pytest.raises(BillError) as caught:
        recognise_bill(b"")
    assert caught.value.code == "bill_empty"
    with pytest.raises(BillError) as caught:
        recognise_bill(b"", size=0)
    assert caught.value.code == "bill_empty"


def test_the_size_limit_is_ten_mebibytes_inclusive() -> None:
    assert MAX_BILL_BYTES == 10 * 1024 * 1024
    assert recognise_bill(PDF, size=MAX_BILL_BYTES) is BillKind.PDF
    with pytest.raises(BillError) as caught:
        recognise_bill(PDF, size=MAX_BILL_BYTES + 1)
    assert caught.value.code == "bill_too_large"
    # Too large is said before the type: there is no use in a better file name.
    with pytest.raises(BillError) as caught:
        recognise_bill(b"garbage!", size=MAX_BILL_BYTES + 1)
    assert caught.value.code == "bill_too_large"


def test_a_whole_large_file_is_judged_by_its_length() -> None:
    big = PDF + b"\x00" * MAX_BILL_BYTES
    with pytest.raises(BillError) as caught:
        recognise_bill(big)
    assert caught.value.code == "bill_too_large"


@given(st.sampled_from(list(BillKind)), st.binary(max_size=64))
def test_any_content_after_the_magic_is_that_kind(kind: BillKind, rest: bytes) -> None:
    assert recognise_bill(kind.magic + rest) is kind


@given(st.binary(min_size=1, max_size=64))
def test_content_without_a_known_start_is_refused(content: bytes) -> None:
    if any(content.startswith(kind.magic) for kind in BillKind):
        return
    with pytest.raises(BillError):
        recognise_bill(content)
