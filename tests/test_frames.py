"""OCPP-J frames sorted before the ocpp package sees them (pure)."""

from __future__ import annotations

import json

from hypothesis import given, strategies as st
import pytest

from custom_components.homecharge.central.frames import (
    MAX_DEPTH,
    BadFrame,
    Frame,
    MessageType,
    Violation,
    call_error,
    inspect_frame,
    too_deep,
)
from custom_components.homecharge.central.profile import OcppVersion


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[2,"a","Heartbeat",{}]', Frame(MessageType.CALL, "a")),
        ('[3,"a",{}]', Frame(MessageType.CALL_RESULT, "a")),
        ('[4,"a","GenericError","",{}]', Frame(MessageType.CALL_ERROR, "a")),
        ("not json", BadFrame(Violation.FORMAT, None)),
        ('[2,"a","Heartbeat",', BadFrame(Violation.FORMAT, "a")),
        ("[]", BadFrame(Violation.PROTOCOL, None)),
        ("{}", BadFrame(Violation.PROTOCOL, None)),
        ('[2,"a"]', BadFrame(Violation.PROTOCOL, "a")),
        ('[2,"a","Heartbeat"]', BadFrame(Violation.PROTOCOL, "a")),
        ('[2,"a",5,{}]', BadFrame(Violation.PROTOCOL, "a")),
        ('[3,"a"]', BadFrame(Violation.PROTOCOL, None)),
        ('[9,"a",{}]', BadFrame(Violation.MESSAGE_TYPE, "a")),
        ('[true,"a",{}]', BadFrame(Violation.MESSAGE_TYPE, "a")),
        ('[2,"' + "x" * 37 + '","Heartbeat",{}]', BadFrame(Violation.PROTOCOL, None)),
        ('[2,"","Heartbeat",{}]', BadFrame(Violation.PROTOCOL, None)),
    ],
)
def test_inspect_frame(text: str, expected: Frame | BadFrame) -> None:
    """Calls, answers, and each kind of broken frame, with its id when readable."""
    assert inspect_frame(text) == expected


def test_nesting_is_bounded_before_parsing() -> None:
    """A frame nested past the bound is refused without the JSON parser."""
    deep = '[2,"d","Heartbeat",' + "[" * 100_000 + "]" * 100_000 + "]"
    assert inspect_frame(deep) == BadFrame(Violation.FORMAT, "d")
    # Brackets inside strings do not nest.
    assert not too_deep('["' + "[" * 100 + '"]')
    assert not too_deep("[" * MAX_DEPTH + "]" * MAX_DEPTH)
    assert too_deep("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1))
    # Many brackets side by side are wide, not deep.
    assert not too_deep("[" + "[]," * 100 + "[]]")


@pytest.mark.parametrize(
    ("version", "violation", "code"),
    [
        (OcppVersion.V16, Violation.FORMAT, "FormationViolation"),
        (OcppVersion.V16, Violation.PROTOCOL, "ProtocolError"),
        (OcppVersion.V16, Violation.FLOOD, "GenericError"),
        (OcppVersion.V201, Violation.FORMAT, "FormatViolation"),
        (OcppVersion.V201, Violation.PROTOCOL, "RpcFrameworkError"),
        (OcppVersion.V201, Violation.MESSAGE_TYPE, "MessageTypeNotSupported"),
    ],
)
def test_call_error_codes(
    version: OcppVersion, violation: Violation, code: str
) -> None:
    """The CALLERROR frame uses each version's own error code."""
    frame = json.loads(call_error(version, "m-1", violation))
    assert frame[:3] == [4, "m-1", code]
    assert isinstance(frame[3], str)
    assert frame[4] == {}


@given(st.text(max_size=200))
def test_any_text_is_sorted(text: str) -> None:
    """Whatever arrives, inspecting it never raises."""
    result = inspect_frame(text)
    assert isinstance(result, Frame | BadFrame)
