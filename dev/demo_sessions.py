"""
A month of earlier charging sessions for the demo place of scripts/develop.

So the history (sensors, the sessions calendar, the statistics graph, the
reports) is not empty on a first start: SIM-1 ("Driveway") charged most
evenings of the 30 days before today, and the Cabin renter (his card) two
long weekends at SIM-3 ("Cabin"), each session made through the ledger
itself (homecharge's logic/sessions: start, a reading every 5 minutes,
stop), priced per slot with the demo's sample prices (dev/demo_prices.py's
fixture day) and the demo place's VAT and grid tariff, sealed in the hash
chain, and **marked as demo data** (``demo`` in every export and report).

scripts/develop runs this at every start, before Home Assistant:

    python dev/demo_sessions.py CONFIG_DIR

It writes the sessions storage of the demo place only when there is none
yet: sessions of your own are never touched. Transaction ids are ``demo-N``,
so they never meet a real charger's.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
import json
from pathlib import Path
import random
import sys
from typing import Final

REPO: Final = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from custom_components.homecharge.logic.grid_tariff import (  # noqa: E402
    from_options as tariff_from_options,
)
from custom_components.homecharge.logic.place import PlaceSettings  # noqa: E402
from custom_components.homecharge.logic.sessions.codec import encode  # noqa: E402
from custom_components.homecharge.logic.sessions.costing import (  # noqa: E402
    price_session,
    spot_lookup,
)
from custom_components.homecharge.logic.sessions.ledger import Ledger  # noqa: E402
from custom_components.homecharge.logic.sessions.model import (  # noqa: E402
    QUARTER,
    Reading,
)
from custom_components.homecharge.runtime.session_store import (  # noqa: E402
    SESSIONS_VERSION,
)
from dev.demo_prices import (  # noqa: E402
    DEMO_PLACE,
    EUR_RATES,
    _ha_config,
    fixture_prices,
)

CHARGER: Final = "SIM-1"
CABIN: Final = "SIM-3"
RENTER: Final = "Cabin renter"
RENTER_CARD: Final = "RENTER-01"
DAYS: Final = 30


def _place(config: Path) -> tuple[PlaceSettings, dict[str, object]] | None:
    path = config / ".storage" / "core.config_entries"
    if not path.exists():
        return None
    for entry in json.loads(path.read_text())["data"]["entries"]:
        if entry["entry_id"] == DEMO_PLACE:
            options = entry.get("options", {})
            return PlaceSettings.from_config(entry["data"], options), options
    return None


def make(config: Path, now: datetime | None = None) -> Ledger | None:
    """The demo month through the ledger; None without the demo place."""
    found = _place(config)
    if found is None:
        return None
    place, options = found
    zone, currency = _ha_config(config)
    per_mwh = EUR_RATES.get(currency, 1.0)
    hourly = fixture_prices()
    spot: dict[datetime, float] = {}
    today = (now or datetime.now(UTC)).astimezone(zone).date()
    rng = random.Random(today.toordinal())  # noqa: S311 - demo data
    ledger = Ledger()
    register = 1_000_000
    for back in range(DAYS, 0, -1):
        day = today - timedelta(days=back)
        if rng.random() < 0.2:
            continue  # some evenings the car stays away
        plugged = datetime.combine(day, time(17 + rng.randint(0, 4)), zone)
        plugged += timedelta(minutes=rng.randint(0, 59))
        energy = rng.randint(6_000, 24_000)
        minutes = round(energy / 11_000 * 60)  # about 11 kW
        started = plugged.astimezone(UTC).replace(microsecond=0)
        stopped = started + timedelta(minutes=minutes)
        moment = started.replace(minute=started.minute - started.minute % 15)
        while moment <= stopped:
            local = moment.astimezone(zone)
            spot[moment] = round(hourly[local.hour] * per_mwh / 1000, 5)
            moment += QUARTER
        tid = f"demo-{back}"
        ledger.start(
            charger=CHARGER,
            connector=1,
            transaction_id=tid,
            started=started,
            meter_start_wh=register,
            id_tag="TAG-DEMO",
            now=started,
        )
        steps = max(1, minutes // 5)
        ledger.record(
            charger=CHARGER,
            connector=1,
            transaction_id=tid,
            readings=[
                Reading(
                    started + timedelta(minutes=5 * n), register + energy * n // steps
                )
                for n in range(1, steps)
            ],
            now=stopped,
        )
        register += energy
        ledger.stop(
            charger=CHARGER,
            transaction_id=tid,
            stopped=stopped,
            meter_stop_wh=register,
            reason="EVDisconnected",
            now=stopped,
        )
    # The Cabin renter's long weekends at the Cabin (SIM-3): his card, his name.
    cabin = 500_000
    for back in (12, 11, 5, 4):
        day = today - timedelta(days=back)
        started = datetime.combine(day, time(18, 30), zone).astimezone(UTC)
        energy = rng.randint(5_000, 12_000)
        stopped = started + timedelta(minutes=round(energy / 3_600 * 60))  # 1-phase
        moment = started
        while moment <= stopped:
            spot[moment] = round(
                hourly[moment.astimezone(zone).hour] * per_mwh / 1000, 5
            )
            moment += QUARTER
        tid = f"demo-cabin-{back}"
        session = ledger.start(
            charger=CABIN,
            connector=1,
            transaction_id=tid,
            started=started,
            meter_start_wh=cabin,
            id_tag=RENTER_CARD,
            now=started,
        )
        ledger.amend(session.key, by=None, now=started, person=RENTER)
        cabin += energy
        ledger.stop(
            charger=CABIN,
            transaction_id=tid,
            stopped=stopped,
            meter_stop_wh=cabin,
            reason="EVDisconnected",
            now=stopped,
        )
    price_of = spot_lookup(spot, place, tariff_from_options(options), zone)
    for session in ledger:
        session.demo = True
        price_session(session, price_of)
    return ledger


def write(config: Path, now: datetime | None = None) -> int:
    """Write the demo month unless the place has sessions; how many were written."""
    storage = config / ".storage"
    key = f"homecharge.{DEMO_PLACE}.sessions"
    if (storage / key).exists():
        return 0
    ledger = make(config, now)
    if ledger is None or not len(ledger):
        return 0
    zone, _currency = _ha_config(config)
    months: dict[str, list[dict[str, object]]] = {}
    for session in sorted(ledger, key=lambda s: s.started):
        month = session.started.astimezone(zone).strftime("%Y-%m")
        months.setdefault(month, []).append(encode(session))
    storage.mkdir(parents=True, exist_ok=True)
    for month, sessions in months.items():
        (storage / f"{key}.{month}").write_text(
            json.dumps(
                {
                    "version": SESSIONS_VERSION,
                    "minor_version": 1,
                    "key": f"{key}.{month}",
                    "data": {"sessions": sessions},
                }
            )
        )
    index = {
        "months": sorted(months),
        "running": [],
        "seq": ledger.seq,
        "last_hash": ledger.last_hash,
        "statistics": {},
    }
    (storage / key).write_text(
        json.dumps(
            {"version": SESSIONS_VERSION, "minor_version": 1, "key": key, "data": index}
        )
    )
    return len(ledger)


def main(argv: list[str]) -> int:
    """Seed the config folder named on the command line."""
    if len(argv) != 1:
        sys.stderr.write("usage: python dev/demo_sessions.py CONFIG_DIR\n")
        return 2
    written = write(Path(argv[0]))
    if written:
        sys.stdout.write(f"seeded {written} demo sessions (marked as demo data)\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
