"""The driver's mobile number, kept in E.164 for the confirmation messages.

People type numbers the way their country prints them: with spaces,
dashes, parentheses, an international ``00`` instead of ``+``, and in the
Netherlands (and Germany, Belgium…) a trunk ``(0)`` after the country code
that must go, or the number gets one digit too many. A number without its
country code is refused: which country it belongs to is a guess.
"""

from __future__ import annotations

import re
from typing import Final

from ..access import mobile_number
from .errors import InputError

# E.164 allows up to 15 digits; 8 is the shortest a mobile is anywhere we
# serve (+47 and +45 numbers have 10).
MIN_DIGITS: Final = 8
MAX_DIGITS: Final = 15
# A trunk prefix written after the country code: "+31 (0)6 …".
_TRUNK: Final = re.compile(r"^(\+\d{1,3})\s*\(0\)")


class PhoneError(InputError):
    """Not a mobile number in international form: ``phone_format``."""


def normalise_mobile(text: str) -> str:
    """The number as "+" and its digits, or a PhoneError."""
    value = text.strip()
    if value.startswith("00"):
        value = "+" + value[2:]
    value = _TRUNK.sub(r"\1", value)
    number = mobile_number(value)
    if number is None or not MIN_DIGITS <= len(number) - 1 <= MAX_DIGITS:
        raise PhoneError("phone_format", "a mobile number with its country code")
    return number
