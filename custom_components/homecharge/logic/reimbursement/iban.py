"""Bank account numbers for a payout: an IBAN, normalised and checked.

ISO 13616: two letters of a country, two check digits, then the country's
account number (BBAN) to a length fixed per country. The check digits make
the whole number ≡ 1 mod 97 (letters read as 10–35, the first four
characters moved to the end), which catches every single wrong character
and nearly every swap. Only the SEPA countries are known: the payout is a
SEPA transfer, so an account elsewhere cannot be paid anyway.
"""

from __future__ import annotations

import re
from typing import Final

from .errors import InputError

# Total IBAN length per country (SWIFT's IBAN registry), the SEPA area.
LENGTHS: Final[dict[str, int]] = {
    "AD": 24, "AT": 20, "BE": 16, "BG": 22, "CH": 21, "CY": 28, "CZ": 24,
    "DE": 22, "DK": 18, "EE": 20, "ES": 24, "FI": 18, "FO": 18, "FR": 27,
    "GB": 22, "GI": 23, "GL": 18, "GR": 27, "HR": 21, "HU": 28, "IE": 22,
    "IS": 26, "IT": 27, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "MC": 27,
    "MT": 31, "NL": 18, "NO": 15, "PL": 28, "PT": 25, "RO": 24, "SE": 24,
    "SI": 19, "SK": 24, "SM": 27, "VA": 22,
}  # fmt: skip

# What a user may type around the number: spaces of any kind.
_SPACES: Final = re.compile(r"\s+")
_SHAPE: Final = re.compile(r"[A-Z0-9]+")


class IbanError(InputError):
    """Not a usable IBAN; its code is one of the four below.

    ``iban_characters``, ``iban_country``, ``iban_length``, ``iban_checksum``.
    """


def normalise_iban(text: str) -> str:
    """The IBAN as it is kept (no spaces, upper case), or an IbanError.

    A leading "IBAN" (as printed on bills and statements) is dropped.
    """
    value = _SPACES.sub("", text).upper()
    value = value.removeprefix("IBAN")
    if not value:
        raise IbanError("iban_length", "empty")
    if not _SHAPE.fullmatch(value):
        raise IbanError("iban_characters", "only letters and digits")
    country = value[:2]
    if country not in LENGTHS:
        raise IbanError("iban_country", f"country {country!r} is not in SEPA")
    if len(value) != LENGTHS[country]:
        raise IbanError(
            "iban_length", f"{country} IBANs have {LENGTHS[country]} characters"
        )
    check = value[2:4]
    # Check digits are 02–98: 00, 01 and 99 pass the sum by accident only.
    if not check.isdigit() or not 2 <= int(check) <= 98 or mod97(value) != 1:
        raise IbanError("iban_checksum", "check digits do not match")
    return value


def mod97(iban: str) -> int:
    """The IBAN's remainder mod 97 (1 for a valid one)."""
    moved = iban[4:] + iban[:4]
    return int("".join(str(int(char, 36)) for char in moved)) % 97


def check_digits(country: str, bban: str) -> str:
    """The two check digits that make ``country`` + them + ``bban`` valid."""
    return f"{98 - mod97(country + '00' + bban):02d}"


def format_iban(iban: str) -> str:
    """In groups of four, as printed ("NO93 8601 1117 947")."""
    value = _SPACES.sub("", iban).upper()
    return " ".join(value[i : i + 4] for i in range(0, len(value), 4))
