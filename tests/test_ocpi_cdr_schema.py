"""Our CDRs against a JSON Schema written from the OCPI 2.2.1 specification.

``tests/schemas/ocpi_2_2_1_cdr.schema.json`` is written from the spec's
tables (ocpi/ocpi tag 2.2.1), independently of ``ocpi_spec``'s validator;
``docs/receiver-openapi.yaml`` carries the same schemas and the webhook's.
"""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
import json
from pathlib import Path
from typing import Any

from hypothesis import given, settings, strategies as st
import jsonschema  # type: ignore[import-untyped]
from openapi_spec_validator import validate  # type: ignore[import-untyped]
from openapi_spec_validator.validation.exceptions import (  # type: ignore[import-untyped]
    OpenAPIValidationError,
)
import pytest
import yaml  # type: ignore[import-untyped]

from custom_components.homecharge.logic.reimbursement.month import Month
from custom_components.homecharge.logic.reimbursement.ocpi_cdr import (
    CdrDriver,
    CdrSite,
    Party,
    build_cdr,
    credit_cdr,
)
from custom_components.homecharge.logic.reimbursement.ocpi_spec import cdr_problems
from custom_components.homecharge.logic.reimbursement.statement import (
    build_statement,
)
from custom_components.homecharge.logic.reimbursement.tariff import (
    Tariff,
    TariffBasis,
)
from custom_components.homecharge.logic.reimbursement.webhook import (
    session_message,
    statement_message,
)
from custom_components.homecharge.logic.sessions.model import (
    Classification,
    Session,
    SlotCost,
)
from tests.test_reimbursement_ocpi_cdr import FIXED, NOW, OSLO, _cdr, _session

ROOT = Path(__file__).parent.parent
SCHEMA = json.loads(
    (Path(__file__).parent / "schemas" / "ocpi_2_2_1_cdr.schema.json").read_text()
)
OPENAPI = yaml.safe_load((ROOT / "docs" / "receiver-openapi.yaml").read_text())
CDR_VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)
QUARTER = timedelta(minutes=15)


def _openapi_validator(name: str) -> Any:
    """A validator of one of the OpenAPI file's schemas (3.1 is 2020-12)."""
    root = {
        "$ref": f"#/components/schemas/{name}",
        "components": OPENAPI["components"],
    }
    return jsonschema.Draft202012Validator(root)


def _errors(validator: Any, instance: object) -> list[str]:
    return [
        f"{'.'.join(map(str, error.absolute_path))}: {error.message}"
        for error in validator.iter_errors(instance)
    ]


def _numbers(value: object) -> list[float]:
    if isinstance(value, dict):
        return [n for item in value.values() for n in _numbers(item)]
    if isinstance(value, list):
        return [n for item in value for n in _numbers(item)]
    if isinstance(value, float | int) and not isinstance(value, bool):
        return [float(value)]
    return []


def test_the_contract_is_a_valid_openapi_document() -> None:
    """Checked by openapi-spec-validator (3.1, its schemas 2020-12)."""
    validate(OPENAPI)
    broken = copy.deepcopy(OPENAPI)
    # A parameter must say where it is (path, query, header or cookie).
    del broken["components"]["parameters"]["IdempotencyKey"]["in"]
    with pytest.raises(OpenAPIValidationError):
        validate(broken)


def test_the_schemas_are_schemas() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    assert OPENAPI["openapi"].startswith("3.1")
    for name in OPENAPI["components"]["schemas"]:
        jsonschema.Draft202012Validator.check_schema(
            {"$ref": f"#/components/schemas/{name}", **OPENAPI}
        )


def _as_components(node: Any) -> Any:
    if isinstance(node, dict):
        return {
            key: value.replace("#/$defs/", "#/components/schemas/")
            if key == "$ref"
            else _as_components(value)
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_as_components(item) for item in node]
    return node


def test_the_openapi_file_carries_the_same_ocpi_schemas() -> None:
    components = OPENAPI["components"]["schemas"]
    for name, schema in SCHEMA["$defs"].items():
        assert components[name] == _as_components(schema), name


def test_the_cdr_endpoint_takes_the_cdr_schema() -> None:
    post = OPENAPI["paths"]["/ocpi/2.2.1/cdrs"]["post"]
    body = post["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/CDR"}
    headers = {
        OPENAPI["components"]["parameters"][p["$ref"].rsplit("/", 1)[1]]["name"]
        for p in post["parameters"]
    }
    assert headers == {
        "X-Request-ID",
        "X-Correlation-ID",
        "OCPI-from-country-code",
        "OCPI-from-party-id",
        "OCPI-to-country-code",
        "OCPI-to-party-id",
    }


def test_a_cdr_and_its_credit_are_valid() -> None:
    cdr = _cdr()
    assert _errors(CDR_VALIDATOR, cdr) == []
    assert _errors(CDR_VALIDATOR, credit_cdr(cdr, now=NOW)) == []


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"id": "X" * 37}, "id"),
        ({"credit": True}, ""),
        ({"credit_reference_id": "ABC"}, ""),
        ({"auth_method": "RFID"}, "auth_method"),
        ({"home_charging_compensation": "true"}, "home_charging_compensation"),
        ({"start_date_time": "2026-01-05T18:07:30+01:00"}, "start_date_time"),
        ({"total_cost": {"incl_vat": 1.0}}, "total_cost"),
        ({"currency": "kr"}, "currency"),
        ({"charging_periods": []}, "charging_periods"),
        ({"unknown": 1}, ""),
    ],
)
def test_the_schema_refuses_what_the_spec_does(
    change: dict[str, Any], path: str
) -> None:
    errors = _errors(CDR_VALIDATOR, _cdr() | change)
    assert errors
    assert any(error.startswith(f"{path}:") for error in errors), errors


@pytest.mark.parametrize(
    ("where", "value"),
    [
        (("cdr_token", "uid"), "kort-ø"),
        (("cdr_token", "contract_id"), "C" * 37),
        (("cdr_location", "country"), "NO"),
        (("cdr_location", "address"), "A" * 46),
        (("cdr_location", "city"), "Oslo\nNorway"),
        (("cdr_location", "connector_standard"), "TYPE2"),
        (("cdr_location", "coordinates"), {"latitude": "59.91", "longitude": "10.75"}),
        (("charging_periods", 0, "dimensions", 0, "type"), "STATE_OF_CHARGE"),
        (("tariffs", 0, "elements", 0, "price_components", 0, "step_size"), 1.5),
        (("tariffs", 0, "elements", 0, "price_components", 0, "type"), "KWH"),
    ],
)
def test_the_schema_refuses_nested_breaches(
    where: tuple[str | int, ...], value: object
) -> None:
    cdr = _cdr()
    target: Any = cdr
    for key in where[:-1]:
        target = target[key]
    target[where[-1]] = value
    assert _errors(CDR_VALIDATOR, cdr)
    assert cdr_problems(cdr)


def test_a_pantograph_is_a_connector_type_of_2_2_1() -> None:
    """mod_locations.asciidoc lists PANTOGRAPH_BOTTOM_UP and _TOP_DOWN."""
    for standard in ("PANTOGRAPH_BOTTOM_UP", "PANTOGRAPH_TOP_DOWN"):
        cdr = _cdr()
        cdr["cdr_location"]["connector_standard"] = standard
        assert _errors(CDR_VALIDATOR, cdr) == []
        assert cdr_problems(cdr) == []


_PRINTABLE = st.characters(min_codepoint=0x20, max_codepoint=0x7E) | st.sampled_from(
    "æøåÆØÅäöüß"
)


def _text(size: int) -> st.SearchStrategy[str]:
    return st.text(_PRINTABLE, min_size=1, max_size=size)


@st.composite
def _sessions(draw: st.DrawFn) -> Session:
    started = draw(
        st.datetimes(
            min_value=datetime(2026, 1, 1),  # noqa: DTZ001 - hypothesis wants naive
            max_value=datetime(2027, 12, 31),  # noqa: DTZ001
            timezones=st.just(UTC),
        )
    )
    energies = draw(st.lists(st.integers(0, 5000), min_size=0, max_size=30))
    first = started.replace(minute=started.minute - started.minute % 15, second=0)
    first = first.replace(microsecond=0)
    slots = {first + i * QUARTER: wh for i, wh in enumerate(energies)}
    stopped = (
        started + draw(st.integers(0, 900)) * timedelta(seconds=1)
        if not energies
        else first
        + len(energies) * QUARTER
        - timedelta(seconds=draw(st.integers(1, 899)))
    )
    session = Session(
        charger=draw(st.text(min_size=1, max_size=60)),
        connector=draw(st.integers(0, 99)),
        transaction_id=draw(st.text(min_size=1, max_size=60)),
        started=started,
        meter_start_wh=0,
        id_tag=draw(st.none() | st.text(min_size=1, max_size=40)),
        stopped=max(stopped, started),
        meter_stop_wh=sum(energies),
        classification=Classification.BUSINESS,
        slots=slots,
    )
    for slot in slots:
        spot = draw(st.floats(-2, 20).map(lambda p: round(p, 5)))
        grid = draw(st.floats(0, 1).map(lambda p: round(p, 4)))
        session.costs[slot] = SlotCost(spot, 0.0, 25.0, spot, grid)
    return session


@st.composite
def _tariffs(draw: st.DrawFn) -> Tariff:
    basis = draw(st.sampled_from(TariffBasis))
    return Tariff(
        effective_from=date(2025, 1, 1),
        basis=basis,
        name=draw(_text(20).filter(str.strip)),
        currency=draw(st.sampled_from(["NOK", "SEK", "DKK", "EUR"])),
        vat_percent=draw(st.sampled_from([Decimal(0), Decimal(25), Decimal("12.5")])),
        unit_rate=draw(st.decimals("0.01", "9.99", places=4))
        if basis is TariffBasis.FIXED
        else None,
    )


_TARIFFS = _tariffs()
_SITES = st.builds(
    CdrSite,
    location_id=st.text(_PRINTABLE, min_size=1, max_size=36).filter(str.isascii),
    address=_text(45),
    city=_text(45),
    postal_code=st.none() | _text(10),
    country=st.sampled_from(["NOR", "DNK", "SWE", "NLD"]),
    latitude=st.floats(-89.9999, 89.9999),
    longitude=st.floats(-179.9999, 179.9999),
    name=st.none() | _text(255),
    connector_standard=st.sampled_from(["IEC_62196_T2", "IEC_62196_T1", "DOMESTIC_F"]),
    connector_format=st.sampled_from(["SOCKET", "CABLE"]),
    power_type=st.sampled_from(["AC_1_PHASE", "AC_3_PHASE", "AC_2_PHASE_SPLIT"]),
)


@settings(max_examples=300, deadline=None)
@given(
    _sessions(),
    _TARIFFS,
    _SITES,
    st.integers(0, 5),
    st.sampled_from(["AB1", "HCH", "X2Z"]),
)
def test_every_cdr_we_build_and_its_credit_meet_the_spec(
    session: Session, tariff: Tariff, site: CdrSite, revision: int, party: str
) -> None:
    cdr = build_cdr(
        session,
        sender=Party("NO", party),
        driver=CdrDriver(receiver=Party("NO", "EMP"), contract_id="NO-EMP-C1"),
        site=site,
        tariffs=(tariff,),
        zone=OSLO,
        now=NOW,
        revision=revision,
    )
    credit = credit_cdr(cdr, now=NOW + timedelta(days=3))
    for made in (cdr, credit):
        assert _errors(CDR_VALIDATOR, made) == []
        # types.asciidoc: numbers use 4 decimals.
        assert all(round(n, 4) == n for n in _numbers(made))


def _message(**changes: Any) -> dict[str, Any]:
    arguments: dict[str, Any] = {
        "tariffs": (FIXED,),
        "zone": OSLO,
        "now": NOW,
        "reimbursement_id": "r-1",
        "driver_name": "Kari Nordmann",
    }
    return session_message(changes.pop("session", _session()), **(arguments | changes))


def _properties(name: str) -> set[str]:
    return set(OPENAPI["components"]["schemas"][name]["properties"])


def test_the_webhook_session_message_meets_the_contract() -> None:
    validator = _openapi_validator("SessionMessage")
    for message in (_message(), _message(credit=True), _message(revision=2)):
        assert _errors(validator, message) == []
        # Nothing sent that the contract does not describe.
        assert set(message) <= _properties("SessionMessage")
        for row in message["slots"]:
            assert set(row) == _properties("SessionSlot")
        assert set(message["tariff"]) == _properties("WebhookTariff")
    credit = _message(credit=True)
    assert _errors(validator, credit | {"classification": "business"})
    assert _errors(validator, {k: v for k, v in credit.items() if k != "type"})
    assert _errors(validator, _message() | {"credit_reference_id": "0" * 32})


@settings(max_examples=50, deadline=None)
@given(_sessions(), _TARIFFS, st.booleans())
def test_every_session_message_meets_the_contract(
    session: Session, tariff: Tariff, credit: bool
) -> None:
    message = _message(session=session, tariffs=(tariff,), credit=credit)
    assert _errors(_openapi_validator("SessionMessage"), message) == []


def test_the_webhook_statement_message_meets_the_contract() -> None:
    validator = _openapi_validator("StatementMessage")
    for sessions in ([], [_session(), _session(tx="7")]):
        statement = build_statement(
            Month(2026, 1), "Kari Nordmann", sessions, (FIXED,), OSLO
        )
        message = statement_message(statement, zone=OSLO, reimbursement_id="r", now=NOW)
        assert _errors(validator, message) == []
        assert set(message) == _properties("StatementMessage")
