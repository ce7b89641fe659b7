"""The cloud outbox's decisions: what to send next, when, and what an answer means.

CDRs go out one at a time, strictly in the order they were queued (head of
line): a receiver sees a driver's sessions in order, and a later CDR never
overtakes one still failing. A failed send waits with exponential backoff
and full jitter (capped at an hour, so a receiver back from a week's outage
gets everything within the hour). The CDR's id is deterministic, so a send
whose answer was lost is repeated as the same CDR, which the receiver
recognises. What each answer means:

- HTTP 2xx with OCPI 1xxx: delivered.
- HTTP 401/403: our token is no longer accepted. Sending stops until the
  user re-authenticates (a repair issue); the entry stays at the head.
- Another 4xx (not 408/429), or OCPI 2xxx: the receiver refuses the CDR
  itself. Retrying cannot help: it is set aside for the user to see, and
  the queue goes on.
- 5xx, 408, 429, timeouts, dropped connections, an answer that is no OCPI
  envelope, OCPI 3xxx/4xxx: retried.

Storage is the runtime's; the outbox is plain JSON-able dicts to it. Each
entry's CDR is kept packed (compact JSON, deflated, base64): a week's
outage of thousands of CDRs then loads as a few megabytes of strings, not
tens of megabytes of nested objects, and is unpacked only when it is sent.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
import json
import random
from typing import Any, Final
import zlib

from .ocpi_spec import StatusClass, parse_response

BASE_DELAY: Final = timedelta(seconds=10)
MAX_DELAY: Final = timedelta(hours=1)
STORE_VERSION: Final = 1
# The stored data's own format: 1 kept each CDR as an object, 2 packs it.
FORMAT: Final = 2
_RETRY_4XX: Final = frozenset({408, 429})


class Outcome(StrEnum):
    """What to do with the entry after an answer (or none)."""

    DELIVERED = "delivered"
    RETRY = "retry"
    REAUTH = "reauth"
    REJECTED = "rejected"


@dataclass(frozen=True, slots=True)
class Verdict:
    """An answer's outcome and, unless delivered, why (shown to the user)."""

    outcome: Outcome
    reason: str = ""


def outcome(http_status: int | None, body: bytes | str | None = None) -> Verdict:
    """What an answer means; ``http_status`` None: a timeout or no connection."""
    if http_status is None:
        return Verdict(Outcome.RETRY, "no answer")
    if http_status in (401, 403):
        return Verdict(Outcome.REAUTH, f"HTTP {http_status}")
    response = parse_response(body or b"")
    said = f" ({response.message})" if response.message else ""
    if 400 <= http_status < 500 and http_status not in _RETRY_4XX:
        return Verdict(Outcome.REJECTED, f"HTTP {http_status}{said}")
    if not 200 <= http_status < 300:
        return Verdict(Outcome.RETRY, f"HTTP {http_status}")
    if response.status is StatusClass.SUCCESS:
        return Verdict(Outcome.DELIVERED)
    if response.status is StatusClass.CLIENT_ERROR:
        return Verdict(Outcome.REJECTED, f"OCPI {response.status_code}{said}")
    if response.status is StatusClass.INVALID:
        return Verdict(Outcome.RETRY, "not an OCPI answer")
    return Verdict(Outcome.RETRY, f"OCPI {response.status_code}{said}")


def next_delay(attempts: int, rng: random.Random) -> timedelta:
    """How long to wait after the nth failed attempt: full jitter, capped."""
    ceiling = min(MAX_DELAY, BASE_DELAY * (1 << min(attempts, 32)))
    return ceiling * rng.random()


def pack(payload: Mapping[str, Any]) -> str:
    """A CDR as one compact string (see the module's docstring)."""
    text = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
    return base64.b64encode(zlib.compress(text.encode())).decode("ascii")


def unpack(body: str) -> dict[str, Any]:
    """The CDR ``pack`` made."""
    payload: dict[str, Any] = json.loads(zlib.decompress(base64.b64decode(body)))
    return payload


@dataclass(frozen=True, kw_only=True, slots=True)
class Entry:
    """One CDR waiting to go out, packed."""

    cdr_id: str
    body: str
    created: datetime
    next_attempt: datetime
    attempts: int = 0
    last_error: str | None = None

    @property
    def payload(self) -> dict[str, Any]:
        """The CDR to send."""
        return unpack(self.body)

    def as_dict(self) -> dict[str, Any]:
        """As stored."""
        return {
            "cdr_id": self.cdr_id,
            "body": self.body,
            "created": self.created.isoformat(),
            "next_attempt": self.next_attempt.isoformat(),
            "attempts": self.attempts,
            "last_error": self.last_error,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Entry:
        """From what ``as_dict`` stored."""
        # Format 1 kept the CDR itself.
        body = data["body"] if "body" in data else pack(data["payload"])
        return cls(
            cdr_id=data["cdr_id"],
            body=body,
            created=datetime.fromisoformat(data["created"]),
            next_attempt=datetime.fromisoformat(data["next_attempt"]),
            attempts=data["attempts"],
            last_error=data["last_error"],
        )


@dataclass(slots=True)
class Outbox:
    """The queue, the entries set aside, and what was delivered."""

    queue: list[Entry] = field(default_factory=list)
    rejected: list[Entry] = field(default_factory=list)
    delivered: set[str] = field(default_factory=set)
    # Why sending stopped until the user re-authenticates (None: it goes).
    paused: str | None = None
    # Every id queued, set aside or delivered: asked for each session at
    # each change of the ledger, against thousands of entries.
    _known: set[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        """Index what was given."""
        self._known = {
            *self.delivered,
            *(entry.cdr_id for entry in (*self.queue, *self.rejected)),
        }

    def knows(self, cdr_id: str) -> bool:
        """Whether a CDR is queued, set aside or delivered already."""
        return cdr_id in self._known

    def add(self, cdr_id: str, payload: dict[str, Any], now: datetime) -> bool:
        """Queue a CDR; False if it is queued, set aside or delivered already."""
        if self.knows(cdr_id):
            return False
        self.queue.append(
            Entry(cdr_id=cdr_id, body=pack(payload), created=now, next_attempt=now)
        )
        self._known.add(cdr_id)
        return True

    def due(self, now: datetime) -> Entry | None:
        """The entry to send now: the head, when its time has come."""
        if self.paused is not None or not self.queue:
            return None
        head = self.queue[0]
        return head if head.next_attempt <= now else None

    def wake_at(self) -> datetime | None:
        """When the head is due (None: nothing to send, or paused)."""
        if self.paused is not None or not self.queue:
            return None
        return self.queue[0].next_attempt

    def record(self, verdict: Verdict, now: datetime, rng: random.Random) -> Entry:
        """Apply the answer to the head (the entry ``due`` gave); it is returned."""
        head = self.queue[0]
        if verdict.outcome is Outcome.DELIVERED:
            self.queue.pop(0)
            self.delivered.add(head.cdr_id)
            return head
        if verdict.outcome is Outcome.REJECTED:
            self.queue.pop(0)
            head = replace(head, attempts=head.attempts + 1, last_error=verdict.reason)
            self.rejected.append(head)
            return head
        if verdict.outcome is Outcome.REAUTH:
            self.paused = verdict.reason
            head = replace(head, last_error=verdict.reason)
        else:
            head = replace(
                head,
                attempts=head.attempts + 1,
                next_attempt=now + next_delay(head.attempts, rng),
                last_error=verdict.reason,
            )
        self.queue[0] = head
        return head

    def resume(self, now: datetime) -> None:
        """Sending goes on (new credentials): the head is due at once."""
        self.paused = None
        if self.queue:
            self.queue[0] = replace(self.queue[0], next_attempt=now)

    def retry_rejected(self, cdr_id: str, now: datetime) -> bool:
        """Queue a set-aside entry again (the user fixed the cause)."""
        for entry in self.rejected:
            if entry.cdr_id == cdr_id:
                self.rejected.remove(entry)
                self.queue.append(replace(entry, attempts=0, next_attempt=now))
                return True
        return False

    def as_dict(self) -> dict[str, Any]:
        """As stored (plain JSON types)."""
        return {
            "version": FORMAT,
            "queue": [entry.as_dict() for entry in self.queue],
            "rejected": [entry.as_dict() for entry in self.rejected],
            "delivered": sorted(self.delivered),
            "paused": self.paused,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Outbox:
        """From what ``as_dict`` stored; a ValueError for an unknown format."""
        if data.get("version") not in (1, FORMAT):
            raise ValueError(f"outbox version {data.get('version')!r}")
        return cls(
            queue=[Entry.from_dict(entry) for entry in data["queue"]],
            rejected=[Entry.from_dict(entry) for entry in data["rejected"]],
            delivered=set(data["delivered"]),
            paused=data["paused"],
        )
