"""
OCPP-J frames before the ``ocpp`` package sees them: what they are, or why not.

Pure. Every frame a charger sends is sorted here: a CALL (which must get
exactly one CALLRESULT or CALLERROR), an answer to one of our calls, or a
violation — with the message id when one can be read, so that even a broken
CALL is answered. Nesting is bounded before the JSON is parsed (a deeply
nested frame would otherwise raise RecursionError out of the parser).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum, StrEnum
import json
import re
from typing import Final

from .profile import OcppVersion

# No OCPP message nests deeper than ~8 (a 2.0.1 charging profile); 32 leaves room.
MAX_DEPTH: Final = 32
# OCPP-J: the message id is a string of at most 36 characters.
MAX_ID_LENGTH: Final = 36
_LEADING_ID: Final = re.compile(
    rf'^\s*\[\s*(\d+)\s*,\s*"([^"\\]{{1,{MAX_ID_LENGTH}}})"'
)
_STRING: Final = re.compile(r'"(?:[^"\\]|\\.)*"')
_BRACKET: Final = re.compile(r"[\[\]{}]")


class MessageType(IntEnum):
    """OCPP-J message type ids."""

    CALL = 2
    CALL_RESULT = 3
    CALL_ERROR = 4


class Violation(StrEnum):
    """What is wrong with a frame; the CALLERROR code depends on the version."""

    FORMAT = "format"  # not JSON, or nested too deep
    PROTOCOL = "protocol"  # JSON, but not an OCPP-J array
    MESSAGE_TYPE = "message_type"  # an unknown message type id
    FLOOD = "flood"  # a CALL over the rate limit


# OCPP 1.6J §4.2.3 spells it "FormationViolation"; 2.0.1 has its own RPC codes.
_CODES: Final[dict[OcppVersion, dict[Violation, str]]] = {
    OcppVersion.V16: {
        Violation.FORMAT: "FormationViolation",
        Violation.PROTOCOL: "ProtocolError",
        Violation.MESSAGE_TYPE: "ProtocolError",
        Violation.FLOOD: "GenericError",
    },
    OcppVersion.V201: {
        Violation.FORMAT: "FormatViolation",
        Violation.PROTOCOL: "RpcFrameworkError",
        Violation.MESSAGE_TYPE: "MessageTypeNotSupported",
        Violation.FLOOD: "GenericError",
    },
}
_DESCRIPTIONS: Final[dict[Violation, str]] = {
    Violation.FORMAT: "Not valid JSON, or nested too deep",
    Violation.PROTOCOL: "Not an OCPP-J message array",
    Violation.MESSAGE_TYPE: "Unknown message type id",
    Violation.FLOOD: "Too many messages; send it again later",
}


@dataclass(frozen=True, slots=True)
class Frame:
    """A well-formed OCPP-J frame (its payload is the ``ocpp`` package's to check)."""

    message_type: MessageType
    message_id: str


@dataclass(frozen=True, slots=True)
class BadFrame:
    """A frame we cannot route; answered when its message id can be read."""

    violation: Violation
    message_id: str | None


def too_deep(text: str) -> bool:
    """Whether arrays and objects nest deeper than ``MAX_DEPTH`` (strings skipped).

    Counted without parsing; a frame with few brackets cannot be too deep.
    """
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return False
    depth = 0
    for bracket in _BRACKET.findall(_STRING.sub('""', text)):
        depth += 1 if bracket in "[{" else -1
        if depth > MAX_DEPTH:
            return True
    return False


def _leading_id(text: str) -> str | None:
    """The message id of a CALL, read from the text alone (for broken frames)."""
    match = _LEADING_ID.match(text)
    if match is None or int(match.group(1)) != MessageType.CALL:
        return None
    return match.group(2)


def inspect_frame(text: str) -> Frame | BadFrame:
    """Sort a frame: a call or answer we can route, or what is wrong with it."""
    if too_deep(text):
        return BadFrame(Violation.FORMAT, _leading_id(text))
    try:
        message = json.loads(text)
    except ValueError:
        return BadFrame(Violation.FORMAT, _leading_id(text))
    if not (
        isinstance(message, list)
        and len(message) >= 3
        and isinstance(message[1], str)
        and 0 < len(message[1]) <= MAX_ID_LENGTH
    ):
        return BadFrame(Violation.PROTOCOL, _call_id(message))
    if message[0] not in tuple(MessageType) or isinstance(message[0], bool):
        return BadFrame(Violation.MESSAGE_TYPE, message[1])
    kind = MessageType(message[0])
    expected = {
        MessageType.CALL: 4,
        MessageType.CALL_RESULT: 3,
        MessageType.CALL_ERROR: 5,
    }
    if len(message) != expected[kind] or (
        kind is MessageType.CALL and not isinstance(message[2], str)
    ):
        return BadFrame(
            Violation.PROTOCOL, message[1] if kind is MessageType.CALL else None
        )
    return Frame(kind, message[1])


def _call_id(message: object) -> str | None:
    """A CALL's id from a malformed array, when it has one."""
    if (
        isinstance(message, list)
        and len(message) >= 2
        and message[0] == MessageType.CALL
        and isinstance(message[1], str)
        and 0 < len(message[1]) <= MAX_ID_LENGTH
    ):
        return message[1]
    return None


def call_error(version: OcppVersion, message_id: str, violation: Violation) -> str:
    """The CALLERROR frame that answers a bad or refused CALL."""
    return json.dumps(
        [
            MessageType.CALL_ERROR,
            message_id,
            _CODES[version][violation],
            _DESCRIPTIONS[violation],
            {},
        ],
        separators=(",", ":"),
    )
