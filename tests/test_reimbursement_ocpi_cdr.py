"""Business sessions as OCPI 2.2.1 CDRs, checked against the spec's rules."""

from __future__ import annotations

import copy
import dataclasses
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
import json
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import given, strategies as st
import pytest

from custom_components.homecharge.logic.reimbursement.ocpi_cdr import (
    CdrDriver,
    CdrError,
    CdrSite,
    Party,
    build_cdr,
    cdr_due,
    cdr_id,
    credit_cdr,
)
from custom_components.homecharge.logic.reimbursement.ocpi_spec import (
    CDR_FIELDS,
    LOCATION_FIELDS,
    TOKEN_FIELDS,
    StatusClass,
    cdr_problems,
    parse_response,
)
from custom_components.homecharge.logic.reimbursement.tariff import (
    Tariff,
    TariffBasis,
    session_cost,
)
from custom_components.homecharge.logic.sessions.model import (
    Classification,
    Session,
    SlotCost,
)

OSLO = ZoneInfo("Europe/Oslo")
QUARTER = timedelta(minutes=15)
NOW = datetime(2026, 2, 1, 6, tzinfo=UTC)
SENDER = Party("NO", "HCH")
DRIVER = CdrDriver(receiver=Party("NO", "EMP"), contract_id="NO-EMP-C12345678-9")
SITE = CdrSite(
    location_id="home-1",
    address="Storgata 1",
    city="Oslo",
    postal_code="0155",
    country="NOR",
    latitude=59.913868,
    longitude=10.752245,
)
FIXED = Tariff(
    effective_from=date(2026, 1, 1),
    basis=TariffBasis.FIXED,
    name="Fastpris",
    currency="NOK",
    unit_rate=Decimal("2.50"),
    vat_percent=Decimal(25),
)
SLOTS = Tariff(
    effective_from=date(2026, 1, 1),
    basis=TariffBasis.SLOT_COSTS,
    name="Spot",
    currency="NOK",
    vat_percent=Decimal(25),
)
# Monday 5 January 2026, 18:07:30 in Oslo.
STARTED = datetime(2026, 1, 5, 17, 7, 30, tzinfo=UTC)


def _session(
    energies: tuple[int, ...] = (500, 2750, 2750, 1000),
    prices: tuple[float | None, ...] | None = None,
    *,
    charger: str = "CP-1",
    tx: str = "42",
    id_tag: str | None = "04A1B2C3",
) -> Session:
    first = STARTED.replace(minute=0, second=0)
    slots = {first + i * QUARTER: wh for i, wh in enumerate(energies)}
    session = Session(
        charger=charger,
        connector=1,
        transaction_id=tx,
        started=STARTED,
        meter_start_wh=1000,
        id_tag=id_tag,
        stopped=first + len(energies) * QUARTER - timedelta(minutes=3),
        meter_stop_wh=1000 + sum(energies),
        classification=Classification.BUSINESS,
        slots=slots,
    )
    for slot, price in zip(slots, prices or (), strict=False):
        session.costs[slot] = SlotCost(price, 0.0, 25.0, price, 0.5)
    return session


def _cdr(session: Session | None = None, **changes: Any) -> dict[str, Any]:
    arguments: dict[str, Any] = {
        "sender": SENDER,
        "driver": DRIVER,
        "site": SITE,
        "tariffs": (FIXED,),
        "zone": OSLO,
        "now": NOW,
    }
    return build_cdr(session or _session(), **(arguments | changes))


def test_a_cdr_for_a_fixed_rate_session_has_what_the_spec_requires() -> None:
    cdr = _cdr()
    assert cdr_problems(cdr) == []
    assert json.loads(json.dumps(cdr)) == cdr
    assert (cdr["country_code"], cdr["party_id"]) == ("NO", "HCH")
    assert cdr["start_date_time"] == "2026-01-05T17:07:30Z"
    assert cdr["end_date_time"] == "2026-01-05T17:57:00Z"
    assert cdr["cdr_token"] == {
        "country_code": "NO",
        "party_id": "EMP",
        "uid": "04A1B2C3",
        "type": "RFID",
        "contract_id": "NO-EMP-C12345678-9",
    }
    assert cdr["auth_method"] == "WHITELIST"
    assert cdr["home_charging_compensation"] is True
    assert "credit" not in cdr
    assert cdr["currency"] == "NOK"
    assert cdr["total_energy"] == 7.0
    assert cdr["total_time"] == pytest.approx(49.5 / 60, abs=1e-4)
    # 7 kWh at 2.50 with 25 % VAT in it.
    assert cdr["total_cost"] == {"excl_vat": 14.0, "incl_vat": 17.5}
    assert cdr["last_updated"] == "2026-02-01T06:00:00Z"
    location = cdr["cdr_location"]
    assert (location["address"], location["city"], location["country"]) == (
        "Storgata 1",
        "Oslo",
        "NOR",
    )
    assert location["coordinates"] == {
        "latitude": "59.913868",
        "longitude": "10.752245",
    }
    assert location["evse_id"] == "NO*HCH*ECP1"


def test_one_period_per_slot_with_its_energy_the_first_from_the_start() -> None:
    cdr = _cdr()
    periods = cdr["charging_periods"]
    assert [p["start_date_time"] for p in periods] == [
        "2026-01-05T17:07:30Z",
        "2026-01-05T17:15:00Z",
        "2026-01-05T17:30:00Z",
        "2026-01-05T17:45:00Z",
    ]
    assert [p["dimensions"] for p in periods] == [
        [{"type": "ENERGY", "volume": kwh}] for kwh in (0.5, 2.75, 2.75, 1.0)
    ]
    (tariff,) = cdr["tariffs"]
    assert {p["tariff_id"] for p in periods} == {tariff["id"]}
    # OCPI prices are without VAT; the VAT beside them.
    (component,) = tariff["elements"][0]["price_components"]
    assert component == {"type": "ENERGY", "price": 2.0, "vat": 25.0, "step_size": 1}
    assert (tariff["country_code"], tariff["party_id"]) == ("NO", "HCH")


def test_slot_costs_give_each_period_its_own_price() -> None:
    session = _session(prices=(1.0, 1.0, 2.0, 0.5))
    cdr = _cdr(session, tariffs=(SLOTS,))
    assert cdr_problems(cdr) == []
    prices = {
        t["id"]: t["elements"][0]["price_components"][0]["price"]
        for t in cdr["tariffs"]
    }
    # Three distinct all-in prices: 1.5, 2.5 and 1.0 with VAT.
    assert sorted(prices.values()) == [0.8, 1.2, 2.0]
    # The receiver can check the total from the periods.
    incl = sum(
        p["dimensions"][0]["volume"] * prices[p["tariff_id"]] * 1.25
        for p in cdr["charging_periods"]
    )
    assert incl == pytest.approx(cdr["total_cost"]["incl_vat"], abs=0.01)
    assert cdr["total_cost"]["incl_vat"] == float(
        session_cost(session, (SLOTS,), OSLO).amount or 0
    )


def test_the_id_is_the_same_for_every_resend_and_differs_per_session() -> None:
    first = _cdr()
    again = _cdr(now=NOW + timedelta(days=3))
    assert first["id"] == again["id"]
    assert len(first["id"]) <= 36
    assert _cdr(_session(tx="43"))["id"] != first["id"]
    assert _cdr(_session(charger="CP-2"))["id"] != first["id"]
    assert _cdr(sender=Party("NO", "HC2"))["id"] != first["id"]
    assert _cdr(revision=1)["id"] != first["id"]
    assert cdr_id(SENDER, SITE, _session(), 0) == first["id"]
    # The same transaction id again (a charger reset, a restored backup) at
    # another start is another session: another CDR, never a "duplicate".
    later = dataclasses.replace(_session(), started=STARTED + timedelta(days=30))
    assert cdr_id(SENDER, SITE, later, 0) != first["id"]


def test_a_credit_cdr_is_the_same_with_its_total_negated() -> None:
    original = _cdr()
    credit = credit_cdr(original, now=NOW + timedelta(days=40))
    assert cdr_problems(credit) == []
    assert credit["id"] == original["id"] + "-C"
    assert len(credit["id"]) <= 39
    assert credit["credit"] is True
    assert credit["credit_reference_id"] == original["id"]
    assert credit["total_cost"] == {"excl_vat": -14.0, "incl_vat": -17.5}
    assert credit["last_updated"] == "2026-03-13T06:00:00Z"
    same = {"id", "credit", "credit_reference_id", "total_cost", "last_updated"}
    assert {k: v for k, v in credit.items() if k not in same} == {
        k: v for k, v in original.items() if k not in same
    }
    # The original is untouched; a credit is never credited.
    assert original["total_cost"]["incl_vat"] == 17.5
    with pytest.raises(CdrError):
        credit_cdr(credit, now=NOW)


def test_a_session_without_a_cost_or_a_stop_is_no_cdr() -> None:
    with pytest.raises(CdrError, match="missing"):
        _cdr(_session(prices=(1.0, None, 1.0, 1.0)), tariffs=(SLOTS,))
    with pytest.raises(CdrError, match="missing"):
        _cdr(tariffs=())
    running = _session()
    running.stopped = None
    with pytest.raises(CdrError, match="ended"):
        _cdr(running)
    backwards = _session()
    backwards.stopped = STARTED - timedelta(seconds=1)
    with pytest.raises(CdrError, match="before it starts"):
        _cdr(backwards)


def test_ids_too_long_or_not_ascii_become_digests() -> None:
    session = _session(
        charger="Garasje-ladar på nordsida av huset, nr. 1 av 2", id_tag=None
    )
    cdr = _cdr(session)
    assert cdr_problems(cdr) == []
    assert len(cdr["cdr_location"]["evse_uid"]) <= 36
    # No card: the driver's contract is the token.
    assert cdr["cdr_token"]["uid"] == DRIVER.contract_id
    assert cdr["cdr_token"]["type"] == "OTHER"


def test_an_address_longer_than_ocpi_allows_is_refused_before_sending() -> None:
    site = CdrSite(
        **{
            **_site_fields(),
            "address": "Kong Haakon den syvendes gate 122, oppgang B, 3. etasje",
        }
    )
    with pytest.raises(CdrError, match=r"cdr_location\.address: longer than 45"):
        _cdr(site=site)


def _site_fields() -> dict[str, Any]:
    return {name: getattr(SITE, name) for name in SITE.__dataclass_fields__}


# The validator: each rule of the spec fails a CDR that breaks it.


def _required(fields: tuple[tuple[str, str, bool, int | None], ...]) -> list[str]:
    return [name for name, _kind, required, _length in fields if required]


@pytest.mark.parametrize("name", _required(CDR_FIELDS))
def test_every_required_field_is_required(name: str) -> None:
    cdr = _cdr()
    del cdr[name]
    assert f"{name}: required" in cdr_problems(cdr)


@pytest.mark.parametrize(
    ("part", "name"),
    [("cdr_token", n) for n in _required(TOKEN_FIELDS)]
    + [("cdr_location", n) for n in _required(LOCATION_FIELDS)],
)
def test_every_required_nested_field_is_required(part: str, name: str) -> None:
    cdr = _cdr()
    del cdr[part][name]
    assert f"{part}.{name}: required" in cdr_problems(cdr)


def _broken(path: str, value: Any) -> dict[str, Any]:
    cdr = copy.deepcopy(_cdr())
    *parents, last = path.split(".")
    target: Any = cdr
    for key in parents:
        target = target[int(key)] if key.isdigit() else target[key]
    target[int(last) if last.isdigit() else last] = value
    return cdr


@pytest.mark.parametrize(
    ("path", "value", "problem"),
    [
        ("id", "X" * 37, "id: longer than 36"),
        ("id", "X" * 40, "id: longer than 39"),
        ("country_code", "NOR", "country_code: longer than 2"),
        ("party_id", "HOME", "party_id: longer than 3"),
        ("session_id", "S" * 37, "session_id: longer than 36"),
        ("cdr_token.uid", "U" * 37, "cdr_token.uid: longer than 36"),
        ("cdr_token.uid", "kort-ø", "cdr_token.uid: not printable ASCII"),
        ("cdr_token.type", "CARD", "cdr_token.type: 'CARD' is not allowed"),
        ("auth_method", "RFID", "auth_method: 'RFID' is not allowed"),
        ("start_date_time", "2026-01-05T18:07:30+01:00", "not an OCPI DateTime"),
        ("last_updated", "5 Jan 2026", "last_updated: not an OCPI DateTime"),
        ("currency", "kr", "currency: not an ISO 4217 code"),
        ("cdr_location.country", "NO", "not an ISO 3166-1 alpha-3 code"),
        ("cdr_location.city", "Oslo\nNorway", "cdr_location.city: not printable"),
        ("cdr_location.postal_code", "01550155015", "postal_code: longer than 10"),
        ("cdr_location.evse_id", "E" * 49, "evse_id: longer than 48"),
        ("cdr_location.coordinates.latitude", "59.91", "not in decimal degrees"),
        ("cdr_location.connector_standard", "TYPE2", "'TYPE2' is not allowed"),
        ("cdr_location.connector_format", "PLUG", "'PLUG' is not allowed"),
        ("cdr_location.connector_power_type", "AC", "'AC' is not allowed"),
        ("total_energy", "7.0", "total_energy: not a number"),
        ("total_time", True, "total_time: not a number"),
        ("total_cost", {"incl_vat": 17.5}, "total_cost.excl_vat: required"),
        ("home_charging_compensation", "true", "not a boolean"),
        ("charging_periods", [], "charging_periods: at least one"),
        ("charging_periods.0.dimensions", [], "dimensions: at least one"),
        (
            "charging_periods.0.dimensions.0.type",
            "STATE_OF_CHARGE",
            "'STATE_OF_CHARGE' is not allowed",
        ),
        ("charging_periods.0.tariff_id", "nope", "tariff_id: no such tariff"),
        ("tariffs.0.elements", [], "tariffs[0].elements: at least one"),
        (
            "tariffs.0.elements.0.price_components.0.step_size",
            1.5,
            "step_size: not a number",
        ),
        (
            "tariffs.0.elements.0.price_components.0.type",
            "KWH",
            "'KWH' is not allowed",
        ),
        ("credit_reference_id", "ABC", "credit_reference_id: only for a credit CDR"),
        ("credit", True, "credit_reference_id: required for a credit CDR"),
    ],
)
def test_a_cdr_that_breaks_a_rule_is_refused(
    path: str, value: Any, problem: str
) -> None:
    problems = cdr_problems(_broken(path, value))
    assert any(problem in text for text in problems), problems


def test_a_credit_id_may_have_39_characters_a_cdr_only_36() -> None:
    credit = credit_cdr(_cdr(), now=NOW)
    credit["id"] = "C" * 39
    assert cdr_problems(credit) == []
    assert cdr_problems(_broken("id", "C" * 36)) == []


def test_something_that_is_not_a_cdr_at_all() -> None:
    assert cdr_problems([]) == ["CDR: not an object"]
    assert "cdr_token: not an object" in cdr_problems(_broken("cdr_token", "04A1"))


@given(
    st.lists(
        st.tuples(
            st.integers(0, 3000), st.floats(0.01, 9.99).map(lambda p: round(p, 4))
        ),
        min_size=1,
        max_size=40,
    ),
    st.text(min_size=1, max_size=60),
    st.sampled_from([FIXED, SLOTS]),
)
def test_every_cdr_built_and_its_credit_pass_the_spec(
    slots: list[tuple[int, float]], charger: str, tariff: Tariff
) -> None:
    session = _session(
        tuple(wh for wh, _ in slots), tuple(p for _, p in slots), charger=charger
    )
    cdr = _cdr(session, tariffs=(tariff,))
    assert cdr_problems(cdr) == []
    assert cdr_problems(credit_cdr(cdr, now=NOW)) == []
    assert len(cdr["charging_periods"]) == len(slots)
    assert sum(
        p["dimensions"][0]["volume"] for p in cdr["charging_periods"]
    ) == pytest.approx(cdr["total_energy"])
    assert _cdr(session, tariffs=(tariff,))["id"] == cdr["id"]


# The response envelope


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (
            b'{"status_code": 1000, "timestamp": "2026-02-01T06:00:00Z"}',
            StatusClass.SUCCESS,
            1000,
        ),
        (
            b'{"status_code": 2001, "status_message": "missing field"}',
            StatusClass.CLIENT_ERROR,
            2001,
        ),
        (b'{"status_code": 3000}', StatusClass.SERVER_ERROR, 3000),
        (b'{"status_code": 4003}', StatusClass.HUB_ERROR, 4003),
        (b"<html><body>502 Bad Gateway</body></html>", StatusClass.INVALID, None),
        (b"", StatusClass.INVALID, None),
        (b"\xff\xfe", StatusClass.INVALID, None),
        (b'{"data": []}', StatusClass.INVALID, None),
        (b'{"status_code": "1000"}', StatusClass.INVALID, None),
        (b'{"status_code": true}', StatusClass.INVALID, None),
        (b'{"status_code": 200}', StatusClass.INVALID, None),
        (b"[1000]", StatusClass.INVALID, None),
    ],
)
def test_the_response_envelope_is_read_by_its_status_code(
    body: bytes, status: StatusClass, code: int | None
) -> None:
    response = parse_response(body)
    assert (response.status, response.status_code) == (status, code)


def test_the_envelope_keeps_its_message_and_data() -> None:
    response = parse_response(
        '{"status_code": 2001, "status_message": "total_cost missing", "data": null}'
    )
    assert response.message == "total_cost missing"
    assert response.data is None


def test_a_session_without_energy_has_one_period_and_an_unpriced_empty_slot_no_tariff() -> (
    None
):
    nothing = _session(())
    nothing.stopped = STARTED + timedelta(minutes=2)
    empty = _cdr(nothing)
    assert cdr_problems(empty) == []
    assert empty["total_time"] == pytest.approx(2 / 60, abs=1e-4)
    assert empty["charging_periods"] == [
        {
            "start_date_time": "2026-01-05T17:07:30Z",
            "dimensions": [{"type": "ENERGY", "volume": 0}],
        }
    ]
    assert empty["total_cost"] == {"excl_vat": 0.0, "incl_vat": 0.0}
    # The car was full in the last slot, whose price never came: no tariff there.
    session = _session((1000, 0), (1.0, None))
    del session.costs[max(session.costs)]
    cdr = _cdr(session, tariffs=(SLOTS,))
    assert cdr_problems(cdr) == []
    assert "tariff_id" in cdr["charging_periods"][0]
    assert "tariff_id" not in cdr["charging_periods"][1]


@pytest.mark.parametrize(
    ("path", "value", "problem"),
    [
        ("remark", 42, "remark: not a string"),
        ("cdr_location.coordinates", "59.9,10.7", "coordinates: not an object"),
        ("tariffs", {"id": "T"}, "tariffs: not a list"),
        ("charging_periods.0", "P", "charging_periods[0]: not an object"),
    ],
)
def test_a_cdr_with_the_wrong_shapes_is_refused(
    path: str, value: Any, problem: str
) -> None:
    problems = cdr_problems(_broken(path, value))
    assert any(problem in text for text in problems), problems


@pytest.mark.parametrize(
    ("business", "known", "due"),
    [
        (True, set(), (0, False)),  # business, nothing sent: its CDR
        (False, set(), None),  # personal, nothing sent: nothing
        (True, {"r0"}, None),  # business, CDR sent: nothing more
        (False, {"r0"}, (0, True)),  # withdrawn: the credit
        (False, {"r0", "r0-C"}, None),  # credited: nothing more
        (True, {"r0", "r0-C"}, (1, False)),  # business again: a new revision
        (False, {"r0", "r0-C", "r1"}, (1, True)),  # and withdrawn again
    ],
)
def test_what_a_sessions_history_needs_sent(
    business: bool, known: set[str], due: tuple[int, bool] | None
) -> None:
    """A CDR, its credit, or a new revision: each once."""
    assert cdr_due(business, known.__contains__, lambda r: f"r{r}") == due
