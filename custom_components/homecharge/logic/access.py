"""Who may charge where and when: people, their cards and access windows.

A charger is *open* (anyone starts a session) or *restricted* (only a person
allowed on it, inside his access window). A person (family, a guest, a cabin
renter) has the chargers he may use, a window — forever, or from–to as
date and time in the place's time zone —, and cards (RFID id tags), each
with an optional expiry. These are the decisions only: the OCPP answer to a
card (``authorize``), what a charger's local authorization list holds
(``local_list``), and when the next access begins or ends (``next_change``),
so the runtime knows when to send the lists again.

Local times are read DST-safe: where the clocks change, a time that happens
twice (autumn) or not at all (spring) is read the way that gives the shorter
window — a start at its latest meaning, an end at its earliest — so nobody
is ever let in outside the window he was given.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from enum import StrEnum
import re
from typing import Any, Final

from .allocation import Priority, priority_of
from .proximity import CONF_PHONE, CONF_PHONE_ENTITY, PhoneId, parse_phone
from .vehicles import MAX_ID_TAG, parse_id_tags

CONF_ACCESS_MODE: Final = "access_mode"
CONF_CHARGERS: Final = "chargers"
CONF_WINDOW_START: Final = "window_start"
CONF_WINDOW_END: Final = "window_end"
CONF_CARDS: Final = "cards"
CONF_CARD_EXPIRY: Final = "card_expiry"
CONF_NAME: Final = "name"
CONF_MOBILE: Final = "mobile"
CONF_EMAIL: Final = "email"
CONF_USER: Final = "user"
CONF_PRIORITY: Final = "priority"
# How a local date and time is kept (as HA's date-time selector gives it).
LOCAL_FORMAT: Final = "%Y-%m-%d %H:%M:%S"
# Tags Home Assistant starts sessions with: "HC-" and a person's key's end
# (20 characters, OCPP 1.6's limit), or the one for an admin's start.
_PERSON_TAG_PREFIX: Final = "HC-"

# E.164: a plus, a country code and up to 15 digits in all.
_E164: Final = re.compile(r"\+[1-9]\d{6,14}")
_EMAIL: Final = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


class AccessMode(StrEnum):
    """Who may start a session at a charger."""

    OPEN = "open"
    RESTRICTED = "restricted"

    @classmethod
    def of(cls, value: object) -> AccessMode:
        """A stored mode: open unless set; a mode not known is the safe side."""
        return cls.OPEN if value in (None, cls.OPEN) else cls.RESTRICTED


class AuthorizationStatus(StrEnum):
    """The answer to a card, as OCPP 1.6 names it (2.0.1 maps the same)."""

    ACCEPTED = "Accepted"
    # Known, but not here or not now (another charger, a window to come).
    BLOCKED = "Blocked"
    # The card's expiry or the person's window has passed.
    EXPIRED = "Expired"
    # Nobody's card.
    INVALID = "Invalid"


@dataclass(frozen=True, slots=True)
class AccessWindow:
    """From when to when a person has access; None is an open end."""

    start: datetime | None = None
    end: datetime | None = None

    def contains(self, moment: datetime) -> bool:
        """Whether a moment is inside the window (start included, end not)."""
        return (self.start is None or self.start <= moment) and (
            self.end is None or moment < self.end
        )

    def ended(self, moment: datetime) -> bool:
        """Whether the window is over at a moment."""
        return self.end is not None and moment >= self.end

    @property
    def forever(self) -> bool:
        """Access without a start or an end (family)."""
        return self.start is None and self.end is None


@dataclass(frozen=True, slots=True)
class Card:
    """An RFID card (id tag) and when it stops working, if ever."""

    tag: str
    expires: datetime | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class Person:
    """Someone who may charge: the chargers, the window and the cards."""

    key: str
    name: str
    chargers: frozenset[str] = frozenset()
    window: AccessWindow = field(default_factory=AccessWindow)
    cards: tuple[Card, ...] = ()
    # The phone that unlocks by being near (a Bluetooth identity), or a
    # presence entity that says so; the Home Assistant user who is this person.
    phone: PhoneId | None = None
    phone_entity: str | None = None
    user: str | None = None
    # Load balancing while his session runs: guests yield first by default.
    priority: Priority = Priority.LOW

    @property
    def tag(self) -> str:
        """The id tag Home Assistant starts this person's sessions with."""
        return person_tag(self.key)

    def may_charge(self, charger: str, moment: datetime) -> bool:
        """Whether the person may start a session at a charger now."""
        return charger in self.chargers and self.window.contains(moment)


@dataclass(frozen=True, slots=True)
class Authorization:
    """The answer to a card at a charger, and whose card it is."""

    status: AuthorizationStatus
    person: Person | None = None
    # When the answer stops holding (the card's expiry or the window's end).
    expires: datetime | None = None


def local_instants(value: str | datetime, zone: tzinfo) -> tuple[datetime, datetime]:
    """
    The earliest and latest moment (UTC) a local date and time can mean.

    They differ only around a change of the clocks: a time the autumn repeats
    happens twice, and a time in the spring gap is read with either offset.
    An aware value is taken as it is.
    """
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    if moment.tzinfo is not None:
        exact = moment.astimezone(UTC)
        return exact, exact
    first, second = (
        moment.replace(tzinfo=zone, fold=fold).astimezone(UTC) for fold in (0, 1)
    )
    return min(first, second), max(first, second)


def window_from(
    start: str | datetime | None, end: str | datetime | None, zone: tzinfo
) -> AccessWindow:
    """
    A window from local dates and times (None: open at that end).

    Where the clocks change, a time is read the way that gives the shorter
    window: a start at its latest meaning, an end at its earliest.
    """
    return AccessWindow(
        start=local_instants(start, zone)[1] if start else None,
        end=local_instants(end, zone)[0] if end else None,
    )


def mobile_number(value: object) -> str | None:
    """A mobile number in E.164 (spaces and dashes dropped), or None if it is not one."""
    number = re.sub(r"[\s\-()]", "", str(value or ""))
    return number if _E164.fullmatch(number) else None


def person_errors(
    data: Mapping[str, Any],
    *,
    others: Iterable[Person],
    key: str | None,
    zone: tzinfo,
    now: datetime,
) -> dict[str, str]:
    """Each bad field of a person's form with its error (a translation key).

    ``others`` are the place's people (``key``: the one being changed).
    """
    errors: dict[str, str] = {}
    others = tuple(others)
    if not str(data.get(CONF_NAME, "")).strip():
        errors[CONF_NAME] = "name_empty"
    if data.get(CONF_PHONE) and parse_phone(data.get(CONF_PHONE)) is None:
        errors[CONF_PHONE] = "invalid_phone"
    if mobile_number(data.get(CONF_MOBILE)) is None:
        errors[CONF_MOBILE] = "invalid_mobile"
    email = str(data.get(CONF_EMAIL) or "").strip()
    if email and not _EMAIL.fullmatch(email):
        errors[CONF_EMAIL] = "invalid_email"
    if not data.get(CONF_CHARGERS):
        errors[CONF_CHARGERS] = "no_chargers"
    window = window_from(data.get(CONF_WINDOW_START), data.get(CONF_WINDOW_END), zone)
    if problem := window_error(window, now):
        errors[CONF_WINDOW_END] = problem
    expiry = data.get(CONF_CARD_EXPIRY)
    if expiry and local_instants(expiry, zone)[0] <= now:
        errors[CONF_CARD_EXPIRY] = "card_expired"
    user = data.get(CONF_USER)
    if user and any(p.user == user for p in others if p.key != key):
        errors[CONF_USER] = "user_taken"
    tags = parse_id_tags(data.get(CONF_CARDS, ()))
    if any(len(tag) > MAX_ID_TAG for tag in tags):
        errors[CONF_CARDS] = "id_tag_too_long"
    elif taken_cards(tags, others, except_key=key):
        errors[CONF_CARDS] = "card_taken"
    return errors


def window_error(window: AccessWindow, now: datetime) -> str | None:
    """Why a window cannot be given (a translation key), or None."""
    if window.start and window.end and window.end <= window.start:
        return "window_reversed"
    if window.ended(now):
        return "window_ended"
    return None


def person_from(key: str, name: str, data: Mapping[str, Any], zone: tzinfo) -> Person:
    """Read a person's subentry data (cards share the one expiry, if given)."""
    expiry = data.get(CONF_CARD_EXPIRY)
    expires = local_instants(expiry, zone)[0] if expiry else None
    return Person(
        key=key,
        name=name,
        chargers=frozenset(data.get(CONF_CHARGERS) or ()),
        window=window_from(
            data.get(CONF_WINDOW_START), data.get(CONF_WINDOW_END), zone
        ),
        cards=tuple(Card(tag, expires) for tag in parse_id_tags(data.get(CONF_CARDS))),
        phone=parse_phone(data.get(CONF_PHONE)),
        phone_entity=data.get(CONF_PHONE_ENTITY) or None,
        user=data.get(CONF_USER) or None,
        priority=priority_of(data.get(CONF_PRIORITY), Priority.LOW),
    )


def session_priority(
    charger: Priority, people: Iterable[Person], person: str | None
) -> Priority:
    """Who yields first while a session runs: its person's priority, else the charger's."""
    found = next((p for p in people if p.name == person), None) if person else None
    return found.priority if found is not None else charger


def revoked(data: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    """A person's data with all access ended at ``now`` (local, as the form keeps it).

    A start still to come goes too: the window is over, not reversed.
    """
    end = now.replace(microsecond=0, tzinfo=None)
    start = data.get(CONF_WINDOW_START)
    keep_start = start and datetime.fromisoformat(str(start)).replace(tzinfo=None) < end
    return {
        **data,
        CONF_WINDOW_START: start if keep_start else None,
        CONF_WINDOW_END: end.strftime(LOCAL_FORMAT),
    }


def person_tag(key: str) -> str:
    """The id tag Home Assistant starts a person's sessions with."""
    return f"{_PERSON_TAG_PREFIX}{key[-17:]}".upper()


def card_owners(people: Iterable[Person]) -> dict[str, list[Person]]:
    """Each card's people (more than one is refused by the forms)."""
    owners: dict[str, list[Person]] = {}
    for person in people:
        for card in person.cards:
            owners.setdefault(_tag_key(card.tag), []).append(person)
    return owners


def card_holder(people: Iterable[Person], tag: str | None) -> Person | None:
    """Whose card this is (None: nobody's, or, never through the forms, two people's)."""
    if not tag:
        return None
    people = tuple(people)
    if by_tag := [p for p in people if _tag_key(p.tag) == _tag_key(tag)]:
        return by_tag[0]
    holders = card_owners(people).get(_tag_key(tag), [])
    return holders[0] if len(holders) == 1 else None


def taken_cards(
    tags: Iterable[str], people: Iterable[Person], *, except_key: str | None = None
) -> list[str]:
    """The tags that already are another person's card."""
    owners = card_owners(p for p in people if p.key != except_key)
    return [tag for tag in tags if _tag_key(tag) in owners]


def _tag_key(tag: str) -> str:
    # OCPP compares id tags case-insensitively (1.6 CiString).
    return tag.strip().casefold()


def authorize(
    people: Iterable[Person],
    *,
    charger: str,
    tag: str,
    now: datetime,
    mode: AccessMode | str = AccessMode.RESTRICTED,
) -> Authorization:
    """
    The answer to a card shown at a charger now.

    At an open charger every card is accepted (the person is named when the
    card is known). At a restricted one — and under any mode not known, the
    safe side — only a person allowed on the charger, inside his window, with
    an unexpired card.
    """
    key = _tag_key(tag)
    found = [
        (person, card)
        for person in people
        for card in person.cards
        if _tag_key(card.tag) == key
    ]
    if AccessMode.of(mode) is AccessMode.OPEN:
        person = found[0][0] if len(found) == 1 else None
        return Authorization(AuthorizationStatus.ACCEPTED, person)
    if len(found) != 1:
        # Unknown, or (never through the forms) on two people: nobody's.
        return Authorization(AuthorizationStatus.INVALID)
    person, card = found[0]
    if card.expires is not None and now >= card.expires:
        return Authorization(AuthorizationStatus.EXPIRED, person)
    if person.window.ended(now):
        return Authorization(AuthorizationStatus.EXPIRED, person)
    if not person.may_charge(charger, now):
        return Authorization(AuthorizationStatus.BLOCKED, person)
    return Authorization(
        AuthorizationStatus.ACCEPTED, person, _earliest(card.expires, person.window.end)
    )


def local_list(
    people: Iterable[Person],
    *,
    charger: str,
    now: datetime,
    mode: AccessMode | str = AccessMode.RESTRICTED,
) -> dict[str, datetime | None]:
    """
    The cards a restricted charger may accept by itself: tag → expiry.

    Only cards that work there now: a window that has not begun is left out
    (OCPP's list knows an expiry, not a start), and each expiry is the
    earlier of the card's and the window's end, so the charger turns a card
    away on time even while Home Assistant is down. An open charger's list
    is empty: its own cache may not limit anyone.
    """
    if AccessMode.of(mode) is AccessMode.OPEN:
        return {}
    people = tuple(people)
    cards: dict[str, datetime | None] = {}
    duplicated = {key for key, owners in card_owners(people).items() if len(owners) > 1}
    for person in people:
        if not person.may_charge(charger, now):
            continue
        for card in person.cards:
            if _tag_key(card.tag) in duplicated:
                continue
            if card.expires is not None and now >= card.expires:
                continue
            cards[card.tag] = _earliest(card.expires, person.window.end)
    return dict(sorted(cards.items()))


def next_change(people: Iterable[Person], now: datetime) -> datetime | None:
    """The next moment someone's access begins or ends (a window or a card)."""
    moments = [
        moment
        for person in people
        for moment in (
            person.window.start,
            person.window.end,
            *(card.expires for card in person.cards),
        )
        if moment is not None and moment > now
    ]
    return min(moments, default=None)


def person_of_user(people: Iterable[Person], user_id: str | None) -> Person | None:
    """The person a Home Assistant user is, if any."""
    if user_id is None:
        return None
    return next((person for person in people if person.user == user_id), None)


def who_unlocks(
    people: Iterable[Person], near: Iterable[str], *, charger: str, now: datetime
) -> Person | None:
    """
    Whose phone near a restricted charger lets the next car charge.

    Only a person allowed there now; among several, the first by name (the
    session is theirs: one person, however many phones are near).
    """
    present = set(near)
    allowed = [
        person
        for person in people
        if person.key in present and person.may_charge(charger, now)
    ]
    return min(allowed, key=lambda person: (person.name, person.key), default=None)


def cable_moved(
    *, mode: AccessMode, running: bool, previous: str | None, status: str
) -> bool:
    """
    Whether a restricted charger's running session must stop: its cable came out.

    A charger that keeps the transaction over an unplug reports the connector
    Available (1.6; 2.0.1's Available maps the same) while it still runs; the
    next car plugged in would charge on the first one's authorisation.
    """
    return (
        mode is AccessMode.RESTRICTED
        and running
        and status == "Available"
        and previous != "Available"
    )


class Right(StrEnum):
    """What a Home Assistant user asks to do."""

    # Start or stop charging.
    CHARGE = "charge"
    # Smart charging on or off.
    SMART_CHARGING = "smart_charging"
    # Anything else: settings of a charger or a place, sessions' details.
    SETTINGS = "settings"


# What a person's (non-admin) user may do, on his chargers, inside his window.
GUEST_RIGHTS: Final = frozenset({Right.CHARGE, Right.SMART_CHARGING})


def refusal(
    person: Person, right: Right, *, charger: str | None, now: datetime
) -> str | None:
    """Why a person's user may not do this (a translation key), or None if he may."""
    if right not in GUEST_RIGHTS or charger is None:
        return "guest_not_allowed"
    if charger not in person.chargers:
        return "guest_not_here"
    if not person.window.contains(now):
        return "guest_outside_window"
    return None


def _earliest(*moments: datetime | None) -> datetime | None:
    known = [moment for moment in moments if moment is not None]
    return min(known, default=None)
