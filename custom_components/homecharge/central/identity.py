"""
Charge point identities: the one rule for every way an id reaches us.

Pure. A charger names itself in the last segment of the URL it connects to;
a user types an id in the add form; a discovery carries it. All three pass
``valid_charge_point_id``, so an id accepted one way is accepted every way.
"""

from __future__ import annotations

from typing import Final
from urllib.parse import unquote

# OCPP 1.6 security whitepaper: identities are at most 48 printable characters.
MAX_ID_LENGTH: Final = 48
# Never part of an id: path separators, and what would read as a path.
_FORBIDDEN: Final = frozenset("/\\")
_DOT_SEGMENTS: Final = frozenset({".", ".."})


def valid_charge_point_id(identity: str) -> bool:
    """1–48 printable characters, no slash or backslash, not "." or ".."."""
    return (
        0 < len(identity) <= MAX_ID_LENGTH
        and identity.isprintable()
        and identity == identity.strip()
        and not _FORBIDDEN.intersection(identity)
        and identity not in _DOT_SEGMENTS
    )


def charge_point_id_from_path(raw_path: str) -> str | None:
    """
    The charger's identity from the raw (still percent-encoded) URL path.

    The last segment, decoded once; chargers that want a base URL append
    their id to it (``/ocpp/CP-1``). None when the id is not valid, or when
    the path holds a dot segment anywhere (``/ocpp/../../etc/passwd``).
    """
    segments = raw_path.split("?", 1)[0].rstrip("/").split("/")
    if any(unquote(segment) in _DOT_SEGMENTS for segment in segments):
        return None
    identity = unquote(segments[-1])
    return identity if valid_charge_point_id(identity) else None
