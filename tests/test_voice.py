"""Voice: homecharge's intents, spoken through Home Assistant's conversation agent.

The sentences shipped in ``sentences/<lang>/`` reach Assist the way a user
gets them: a repair issue whose fix flow copies them into the config folder
(never over a file of the user's), then every sentence is sent as text
through ``conversation.async_converse`` in English, Norwegian, Danish and
Dutch, and its effect (the ready-by time, smart charging off, a session
started or stopped on a simulated charger) or its answer (the plan's time,
the month's cost, whether the car charges and how fast) is checked.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import time, timedelta
from pathlib import Path
from typing import Any

import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator
import yaml

from custom_components.homecharge.central.server import CENTRAL
from custom_components.homecharge.const import DOMAIN
from custom_components.homecharge.intents import (
    INTENT_CHARGE_BY,
    INTENT_CHARGE_FULL_NOW,
    INTENT_COST_THIS_MONTH,
    INTENT_IS_CHARGING,
    INTENT_START_CHARGING,
    INTENT_STOP_CHARGING,
    INTENT_WHEN_READY,
)
from custom_components.homecharge.logic.limited_by import LimitedBy
from custom_components.homecharge.logic.planner.problem import ChargerPlan, PlanStatus
from custom_components.homecharge.logic.voice import (
    SlotError,
    charging_answer,
    decimal,
    name_matches,
    readiness,
    spoken_time,
    start_answer,
)
from custom_components.homecharge.repairs import async_create_fix_flow
from custom_components.homecharge.runtime.charger import ChargerCoordinator
from custom_components.homecharge.runtime.sentences import (
    SENTENCES_ISSUE,
    Installed,
    async_check,
    install,
    marked,
    shipped,
    state_of,
)
from homeassistant.components.conversation import ConversationResult, async_converse
from homeassistant.components.homeassistant.exposed_entities import (
    async_expose_entity,
)
from homeassistant.config_entries import ConfigSubentry
from homeassistant.core import Context, HomeAssistant
from homeassistant.helpers import (
    area_registry as ar,
    device_registry as dr,
    intent,
    issue_registry as ir,
    llm,
)
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util

from .simulators.raw import RawCharger
from .test_access_runtime import _local
from .test_central import PASSWORD
from .test_sessions_runtime import (
    GRID,
    SPOT,
    _flat_prices,
    _meter,
    _start,
    _status,
    _stop,
    _until,
)
from .test_smart_charging import (
    CHEAP_FROM_H,
    hour_start,
    price_list,
    set_prices,
    smart_place,
)

LANGUAGES = ("en", "nb", "da", "nl")
AREA = "Garasje"


@pytest.fixture
async def config_dir(hass: HomeAssistant, tmp_path: Path) -> Path:
    """A config folder of the test's own, with Assist (and repairs) set up."""
    hass.config.config_dir = str(tmp_path)
    (tmp_path / "configuration.yaml").write_text("", encoding="utf-8")
    hass.config.currency = "NOK"
    for component in ("homeassistant", "conversation", "intent", "repairs"):
        assert await async_setup_component(hass, component, {})
    return tmp_path


async def _place(hass: HomeAssistant, *people: ConfigSubentry) -> MockConfigEntry:
    set_prices(hass, _flat_prices())
    entry = smart_place(grid_day_price=GRID, grid_night_price=GRID)
    entry.add_to_hass(hass)
    for person in people:
        hass.config_entries.async_add_subentry(entry, person)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


async def _fix(hass: HomeAssistant, client_of: ClientSessionGenerator) -> Any:
    """Open the sentences issue's fix flow, as the repairs panel does."""
    client = await client_of()
    answer = await client.post(
        "/api/repairs/issues/fix", json={"handler": DOMAIN, "issue_id": SENTENCES_ISSUE}
    )
    form = await answer.json()
    if form.get("type") == "form":
        form["submit"] = lambda: client.post(
            f"/api/repairs/issues/fix/{form['flow_id']}", json={}
        )
    return form


@pytest.fixture
def people() -> tuple[ConfigSubentry, ...]:
    """The place's people (none unless a test says)."""
    return ()


@pytest.fixture
async def place(
    hass: HomeAssistant,
    config_dir: Path,
    hass_client: ClientSessionGenerator,
    people: tuple[ConfigSubentry, ...],
) -> MockConfigEntry:
    """The place with Garage (in the area Garasje), sentences copied by the fix flow."""
    entry = await _place(hass, *people)
    await _until(
        hass,
        lambda: ir.async_get(hass).async_get_issue(DOMAIN, SENTENCES_ISSUE) is not None,
    )
    form = await _fix(hass, hass_client)
    answer = await form["submit"]()
    assert (await answer.json())["type"] == "create_entry"
    area = ar.async_get(hass).async_create(AREA)
    registry = dr.async_get(hass)
    device = registry.async_get_device(identifiers={(DOMAIN, "CP-1")})
    assert device is not None
    registry.async_update_device(device.id, area_id=area.id)
    return entry


@pytest.fixture
async def raw(hass: HomeAssistant, place: MockConfigEntry) -> AsyncIterator[RawCharger]:
    """CP-1 connected and booted."""
    charger = RawCharger(f"ws://127.0.0.1:{hass.data[CENTRAL].port}", "CP-1", PASSWORD)
    await charger.connect()
    await charger.boot()
    yield charger
    await charger.close()


def _state(hass: HomeAssistant, entity_id: str) -> str | None:
    state = hass.states.get(entity_id)
    return state.state if state is not None else None


def _charger(place: MockConfigEntry) -> ChargerCoordinator:
    charger: ChargerCoordinator = next(iter(place.runtime_data.chargers.values()))
    return charger


async def _say(hass: HomeAssistant, text: str, language: str) -> tuple[str, str]:
    """The intent a sentence was understood as, and the spoken answer."""
    result: ConversationResult = await async_converse(
        hass, text, None, Context(), language=language
    )
    response = result.response
    speech = response.speech["plain"]["speech"]
    assert response.response_type is not intent.IntentResponseType.ERROR, speech
    assert response.intent is not None
    return response.intent.intent_type, speech


# The sentences, shipped and copied


def test_every_language_is_shipped() -> None:
    """en, nb, da and nl (the seeds' languages) have their sentences."""
    assert set(LANGUAGES) <= set(shipped())


def test_a_file_is_ours_only_while_unedited() -> None:
    """Ours: our header and an unchanged text. Edited or foreign: the user's."""
    body = "language: en\n"
    assert state_of(None, body) is Installed.MISSING
    assert state_of(marked(body), body) is Installed.CURRENT
    assert state_of(marked("language: en\nold: 1\n"), body) is Installed.OUTDATED
    assert state_of(marked(body) + "# mine\n", body) is Installed.USERS
    assert state_of(body, body) is Installed.USERS
    assert state_of("", body) is Installed.USERS


def test_install_writes_ours_and_keeps_the_users(tmp_path: Path) -> None:
    """Missing and outdated files are written; a user's file is left byte for byte."""
    folder = tmp_path / "custom_sentences"
    (folder / "da").mkdir(parents=True)
    (folder / "nl").mkdir(parents=True)
    mine = "language: da\nintents: {}\n"
    (folder / "da" / "homecharge.yaml").write_text(mine, encoding="utf-8")
    (folder / "nl" / "homecharge.yaml").write_text(
        marked("language: nl\n"), encoding="utf-8"
    )
    found = install(tmp_path)
    assert found["da"] is Installed.USERS
    assert found["nl"] is Installed.OUTDATED
    assert found["en"] is Installed.MISSING
    assert (folder / "da" / "homecharge.yaml").read_text(encoding="utf-8") == mine
    for language, body in shipped().items():
        if language != "da":
            text = (folder / language / "homecharge.yaml").read_text(encoding="utf-8")
            assert state_of(text, body) is Installed.CURRENT, language
    assert set(install(tmp_path).values()) == {Installed.CURRENT, Installed.USERS}


async def test_the_fix_flow_copies_with_consent_and_never_over_a_users_file(
    hass: HomeAssistant, config_dir: Path, hass_client: ClientSessionGenerator
) -> None:
    """A repair issue offers the sentences; nothing is written before the user says yes."""
    own = config_dir / "custom_sentences" / "nb" / "homecharge.yaml"
    own.parent.mkdir(parents=True)
    mine = "language: nb\nintents:\n  MinLading:\n    data: []\n"
    own.write_text(mine, encoding="utf-8")
    await _place(hass)
    issues = ir.async_get(hass)
    await _until(
        hass, lambda: issues.async_get_issue(DOMAIN, SENTENCES_ISSUE) is not None
    )
    issue = issues.async_get_issue(DOMAIN, SENTENCES_ISSUE)
    assert issue is not None
    assert issue.is_fixable
    assert issue.translation_placeholders is not None
    assert "nb" not in issue.translation_placeholders["languages"].split(", ")
    assert "en" in issue.translation_placeholders["languages"].split(", ")
    # Shown, not yet written.
    form = await _fix(hass, hass_client)
    assert form["step_id"] == "confirm"
    assert form["description_placeholders"]["kept"] == "nb"
    assert not (config_dir / "custom_sentences" / "en").exists()
    answer = await form["submit"]()
    assert (await answer.json())["type"] == "create_entry"
    assert own.read_text(encoding="utf-8") == mine
    for language in ("en", "da", "nl"):
        path = config_dir / "custom_sentences" / language / "homecharge.yaml"
        assert path.read_text(encoding="utf-8").startswith("# homecharge voice")
    assert issues.async_get_issue(DOMAIN, SENTENCES_ISSUE) is None
    # Checked again (the next start): nothing left to offer.
    await async_check(hass)
    assert issues.async_get_issue(DOMAIN, SENTENCES_ISSUE) is None
    flow = await async_create_fix_flow(hass, SENTENCES_ISSUE, None)
    flow.hass = hass
    result = await flow.async_step_init()
    assert result["type"] == "abort"
    assert result["reason"] == "nothing_to_install"
    # Assist read them at once (reloaded): our intents are understood in English.
    intent_type, _speech = await _say(hass, "charge full now", "en")
    assert intent_type == INTENT_CHARGE_FULL_NOW
    # The user's Norwegian file is his: our Norwegian sentences are not there.
    result = await async_converse(hass, "lad bilen fullt nå", None, Context(), "nb")
    assert result.response.response_type is intent.IntentResponseType.ERROR


async def test_no_issue_without_assist(hass: HomeAssistant, tmp_path: Path) -> None:
    """Without the conversation integration nothing is offered."""
    hass.config.config_dir = str(tmp_path)
    await _place(hass)
    await async_check(hass)
    assert ir.async_get(hass).async_get_issue(DOMAIN, SENTENCES_ISSUE) is None


# Charge the car by seven

CHARGE_BY = [
    ("en", "charge the car by seven"),
    ("en", "have the car ready by 7 am"),
    ("en", "make sure the car in the garage is charged by 7:00"),
    ("nb", "lad bilen til klokka sju"),
    ("nb", "bilen må være ferdig ladet til klokken syv"),
    ("nb", "sørg for at bilen i garasjen er fulladet innen kl 7"),
    ("da", "oplad bilen til klokken syv"),
    ("da", "lad bilen op i garagen inden kl. 7"),
    ("da", "bilen skal være klar klokken syv"),
    ("nl", "laad de auto op voor zeven uur"),
    ("nl", "de auto in de garage moet om 7 uur klaar zijn"),
    ("nl", "zorg dat de auto om zeven uur vol is"),
]


@pytest.mark.parametrize(("language", "text"), CHARGE_BY)
async def test_charge_the_car_by_seven(
    hass: HomeAssistant, place: MockConfigEntry, language: str, text: str
) -> None:
    """Once: the next 07:00 is the car's ready-by; the answer says 07:00."""
    charger = _charger(place)
    charger.update_subentry({"ready_by_once": None})
    await hass.async_block_till_done()
    intent_type, speech = await _say(hass, text, language)
    assert intent_type == INTENT_CHARGE_BY
    once = dt_util.parse_datetime(str(charger.setting("ready_by_once")))
    assert once is not None
    assert dt_util.as_local(once).time() == time(7, 0)
    assert dt_util.now() < once <= dt_util.now() + timedelta(days=1)
    assert "07:00" in speech
    assert "Garage" in speech
    # The daily time stays as it was.
    assert charger.setting("ready_by") in (None, "07:00")


CHARGE_BY_DAILY = [
    ("en", "charge the car by half past six every day"),
    ("nb", "lad bilen til halv sju hver dag"),
    ("da", "oplad bilen til klokken halv syv hver dag"),
    ("nl", "laad de auto elke dag op voor half zeven"),
]


@pytest.mark.parametrize(("language", "text"), CHARGE_BY_DAILY)
async def test_charge_the_car_by_a_time_every_day(
    hass: HomeAssistant,
    place: MockConfigEntry,
    raw: RawCharger,
    language: str,
    text: str,
) -> None:
    """Daily: the Ready by time entity shows 06:30 ("halv sju" is 6:30)."""
    intent_type, speech = await _say(hass, text, language)
    assert intent_type == INTENT_CHARGE_BY
    await hass.async_block_till_done()
    assert _charger(place).setting("ready_by") == "06:30", speech
    # The entity shows it with the charger's next report (it does not refresh
    # on a settings change by itself: the same with the set_ready_by action).
    await _status(raw, "Available")
    await _until(hass, lambda: _state(hass, "time.garage_ready_by") == "06:30:00")
    assert "06:30" in speech
    assert _charger(place).setting("ready_by") == "06:30"


# Charge full now

FULL_NOW = [
    ("en", "charge the car full now"),
    ("en", "charge full now"),
    ("en", "charge the car in the garage right now"),
    ("en", "turn off smart charging"),
    ("nb", "lad bilen fullt nå"),
    ("nb", "lad bilen med en gang"),
    ("nb", "lad bilen i garasjen full nå"),
    ("nb", "slå av smartladingen"),
    ("da", "oplad bilen fuldt op nu"),
    ("da", "lad bilen helt op nu"),
    ("da", "oplad bilen i garagen med det samme"),
    ("da", "slå smart opladning fra"),
    ("nl", "laad de auto nu vol"),
    ("nl", "laad de auto meteen"),
    ("nl", "laad de auto in de garage nu helemaal vol"),
    ("nl", "zet slim laden uit"),
]


@pytest.mark.parametrize(("language", "text"), FULL_NOW)
async def test_charge_full_now(
    hass: HomeAssistant, place: MockConfigEntry, language: str, text: str
) -> None:
    """Smart charging goes off (the switch shows it); the answer names the charger."""
    charger = _charger(place)
    charger.set_smart_charging(True)
    await hass.async_block_till_done()
    intent_type, speech = await _say(hass, text, language)
    assert intent_type == INTENT_CHARGE_FULL_NOW
    await hass.async_block_till_done()
    assert charger.data.smart_charging is False
    state = hass.states.get("switch.garage_smart_charging")
    assert state is not None
    assert state.state == "off"
    assert "Garage" in speech


# When will the car be ready?

WHEN_READY = [
    ("en", "when will the car be ready?"),
    ("en", "when is the car charged"),
    ("en", "is the car in the garage ready yet"),
    ("nb", "når er bilen ferdig?"),
    ("nb", "når blir bilen fulladet"),
    ("nb", "når er ladingen i garasjen ferdig"),
    ("da", "hvornår er bilen færdig?"),
    ("da", "hvornår er bilen fuldt opladet"),
    ("da", "hvornår er opladningen færdig"),
    ("nl", "wanneer is de auto klaar?"),
    ("nl", "hoe laat is de auto vol"),
    ("nl", "wanneer is het laden in de garage klaar"),
]


@pytest.mark.parametrize(("language", "text"), WHEN_READY)
async def test_when_will_the_car_be_ready(
    hass: HomeAssistant,
    place: MockConfigEntry,
    raw: RawCharger,
    language: str,
    text: str,
) -> None:
    """Plugged in: the answer is the plan's end, as the Planned end sensor says."""
    await _start(raw, dt_util.utcnow(), 1_000)
    scheduler = place.runtime_data.scheduler
    charger = _charger(place)

    def planned() -> ChargerPlan | None:
        plan = scheduler.data.chargers.get(charger.key)
        return plan if plan is not None and plan.end is not None else None

    await _until(hass, lambda: planned() is not None)
    intent_type, speech = await _say(hass, text, language)
    assert intent_type == INTENT_WHEN_READY
    plan = planned()
    assert plan is not None
    assert plan.end is not None
    assert dt_util.as_local(plan.end).strftime("%H:%M") in speech
    assert "Garage" in speech


# How much did charging cost this month?

COST = [
    ("en", "how much did charging cost this month?"),
    ("en", "what did the charging in the garage cost this month"),
    ("nb", "hvor mye kostet ladingen denne måneden?"),
    ("nb", "hva har ladingen i garasjen kostet i måned"),
    ("da", "hvor meget har opladningen kostet denne måned?"),
    ("da", "hvad kostede opladningen i garagen i denne måned"),
    ("nl", "hoeveel heeft het laden deze maand gekost?"),
    ("nl", "wat kostte het laden in de garage deze maand"),
]


@pytest.mark.parametrize(("language", "text"), COST)
async def test_how_much_did_charging_cost_this_month(
    hass: HomeAssistant,
    place: MockConfigEntry,
    raw: RawCharger,
    language: str,
    text: str,
) -> None:
    """The answer is the month's cost of the sessions, as the cost sensor has it."""
    now = dt_util.utcnow()
    begin = now - timedelta(minutes=20)
    tid = await _start(raw, begin, 5_000)
    await _meter(raw, tid, now - timedelta(minutes=10), 6_000)
    await _stop(raw, tid, now - timedelta(minutes=1), 7_000)
    await hass.async_block_till_done()
    state = hass.states.get("sensor.garage_cost_this_month")
    assert state is not None
    month_cost = float(state.state)
    if begin >= dt_util.as_utc(dt_util.start_of_local_day().replace(day=1)):
        assert month_cost == pytest.approx(2 * (SPOT + GRID), abs=0.01)
    intent_type, speech = await _say(hass, text, language)
    assert intent_type == INTENT_COST_THIS_MONTH
    assert decimal(month_cost, language, 2) in speech
    assert "kWh" in speech
    assert ("kroner" if language != "nl" else "Noorse kronen") in speech


# Slots, as the sentences and LLMs give them


def test_spoken_times() -> None:
    """Hours, minutes, offsets ("halv åtte" is 7:30), am/pm and HH:MM."""
    assert spoken_time({"hour": 7}) == time(7, 0)
    assert spoken_time({"hour": 7.0, "minute": 30.0}) == time(7, 30)
    assert spoken_time({"hour": 8, "offset": -30}) == time(7, 30)
    assert spoken_time({"hour": 8, "offset": -15}) == time(7, 45)
    assert spoken_time({"hour": 6, "offset": 30}) == time(6, 30)
    assert spoken_time({"hour": 7, "period": "pm"}) == time(19, 0)
    assert spoken_time({"hour": 12, "period": "am"}) == time(0, 0)
    assert spoken_time({"hour": 24}) == time(0, 0)
    assert spoken_time({"time": "07:15"}) == time(7, 15)
    assert spoken_time({"time": "19"}) == time(19, 0)
    assert spoken_time({"time": "7.30 pm"}) == time(19, 30)
    for bad in ({}, {"hour": 25}, {"time": "soon"}, {"hour": "x"}):
        with pytest.raises(SlotError):
            spoken_time(bad)


def test_names_said_loosely() -> None:
    """Case, articles and a definite ending do not matter; other words do."""
    assert name_matches("the Driveway", "Driveway")
    assert name_matches("garasjen", "Garasje")
    assert name_matches("de oprit", "Oprit")
    assert not name_matches("garage", "Garasje")
    assert not name_matches("cabin", "Garage")
    assert not name_matches("", "Garage")


def test_readiness_answers() -> None:
    """Each plan status becomes the slots the answers use."""
    now = dt_util.now()
    end = now + timedelta(days=1)

    def plan(status: PlanStatus, **kwargs: Any) -> ChargerPlan:
        return ChargerPlan(status=status, **kwargs)

    assert readiness(None, plugged_in=False, now=now, language="en")["status"] == (
        "no_car"
    )
    assert readiness(None, plugged_in=True, now=now, language="en")["status"] == (
        "unknown"
    )
    done = readiness(plan(PlanStatus.DONE), plugged_in=True, now=now, language="en")
    assert done["status"] == "done"
    full = plan(PlanStatus.CHARGE_NOW)
    assert readiness(full, plugged_in=True, now=now, language="en")["status"] == (
        "full_now"
    )
    short = plan(PlanStatus.CANNOT_FINISH, ready_by=end, energy_kwh=5.25, need_kwh=20.0)
    assert readiness(short, plugged_in=True, now=now, language="nb") == {
        "status": "cannot_finish",
        "days": 0,
        "ready_by": end.strftime("%H:%M"),
        "energy": "5,2",
        "need": "20,0",
    }
    waiting = plan(PlanStatus.WAITING, end=end)
    assert readiness(waiting, plugged_in=True, now=now, language="en") == {
        "status": "planned",
        "days": 1,
        "time": end.strftime("%H:%M"),
    }


async def test_llm_agents_get_the_intents_as_tools(
    hass: HomeAssistant, place: MockConfigEntry
) -> None:
    """The Assist API offers our intents to LLMs, with their slots; one works by time."""
    api = await llm.async_get_api(
        hass,
        llm.LLM_API_ASSIST,
        llm.LLMContext(
            platform="test",
            context=Context(),
            language="en",
            assistant="conversation",
            device_id=None,
        ),
    )
    tools = {tool.name: tool for tool in api.tools}
    for name in (
        INTENT_CHARGE_BY,
        INTENT_CHARGE_FULL_NOW,
        INTENT_WHEN_READY,
        INTENT_COST_THIS_MONTH,
        INTENT_START_CHARGING,
        INTENT_STOP_CHARGING,
        INTENT_IS_CHARGING,
    ):
        assert name in tools, name
    result = await api.async_call_tool(
        llm.ToolInput(tool_name=INTENT_CHARGE_BY, tool_args={"time": "06:45"})
    )
    assert result["speech_slots"]["time"] == "06:45"
    once = dt_util.parse_datetime(str(_charger(place).setting("ready_by_once")))
    assert once is not None
    assert dt_util.as_local(once).time() == time(6, 45)


async def test_unknown_charger_and_bad_time_are_answered(
    hass: HomeAssistant, place: MockConfigEntry
) -> None:
    """A charger nobody has, an impossible time: said in the language, nothing done."""
    result = await async_converse(
        hass, "charge the car at the cabin by seven", None, Context(), "en"
    )
    assert result.response.response_type is intent.IntentResponseType.ERROR
    assert "charger" in result.response.speech["plain"]["speech"]
    result = await async_converse(
        hass, "lad bilen ved hytta til klokka sju", None, Context(), "nb"
    )
    assert "laderen" in result.response.speech["plain"]["speech"]
    assert _charger(place).setting("ready_by_once") is not None  # smart_place's own
    before = _charger(place).setting("ready_by_once")
    with pytest.raises(intent.IntentHandleError):
        await intent.async_handle(
            hass, "test", INTENT_CHARGE_BY, {"time": {"value": "soon"}}
        )
    assert _charger(place).setting("ready_by_once") == before


# Start charging, stop charging, is the car charging?


def _error_text(language: str, key: str) -> str:
    """An error answer as the shipped sentence file says it."""
    errors: dict[str, str] = yaml.safe_load(shipped()[language])["responses"]["errors"]
    return errors[key]


async def _refused(
    hass: HomeAssistant, text: str, language: str, context: Context | None = None
) -> str:
    """The error a sentence is answered with (it must be one)."""
    result = await async_converse(hass, text, None, context or Context(), language)
    response = result.response
    assert response.response_type is intent.IntentResponseType.ERROR
    speech: str = response.speech["plain"]["speech"]
    return speech


START = [
    ("en", "start charging the garage"),
    ("en", "start charging"),
    ("en", "start the charging in the garage"),
    ("en", "start charging the car now"),
    ("nb", "start lading"),
    ("nb", "start ladingen i garasjen"),
    ("nb", "begynn å lade"),
    ("da", "start opladning"),
    ("da", "start opladningen i garagen"),
    ("da", "begynd at oplade bilen"),
    ("nl", "start het laden"),
    ("nl", "begin met laden"),
    ("nl", "start het laden in de garage"),
]
STARTED = {
    "en": "Charging started at Garage.",
    "nb": "Ladingen er startet ved Garage.",
    "da": "Opladningen er startet ved Garage.",
    "nl": "Het laden bij Garage is gestart.",
}


@pytest.mark.parametrize(("language", "text"), START)
async def test_start_charging(
    hass: HomeAssistant,
    place: MockConfigEntry,
    raw: RawCharger,
    language: str,
    text: str,
) -> None:
    """A plugged-in car: RemoteStartTransaction, as the Charging switch sends it."""
    await _status(raw, "Preparing")
    await _until(hass, lambda: _charger(place).data.plugged_in)
    intent_type, speech = await _say(hass, text, language)
    assert intent_type == INTENT_START_CHARGING
    assert speech.startswith(STARTED[language]), speech
    ((_at, start, _id),) = raw.calls_of("RemoteStartTransaction")
    assert start == {"connectorId": 1, "idTag": "homecharge"}
    # The charger starts the session: the Charging switch shows it.
    await _start(raw, dt_util.utcnow(), 1_000)
    await _until(hass, lambda: _state(hass, "switch.garage_charging") == "on")


NO_CAR = {
    "en": ("start charging", "No car is plugged in at Garage"),
    "nb": ("start lading", "Ingen bil er koblet til ved Garage"),
    "da": ("start opladning", "Der er ingen bil tilsluttet ved Garage"),
    "nl": ("start het laden", "Er is geen auto aangesloten bij Garage"),
}


@pytest.mark.parametrize("language", LANGUAGES)
async def test_start_charging_without_a_car_sends_nothing(
    hass: HomeAssistant, place: MockConfigEntry, raw: RawCharger, language: str
) -> None:
    """No car plugged in: said so; no RemoteStartTransaction."""
    await _status(raw, "Available")
    text, answer = NO_CAR[language]
    intent_type, speech = await _say(hass, text, language)
    assert intent_type == INTENT_START_CHARGING
    assert speech.startswith(answer), speech
    assert not raw.calls_of("RemoteStartTransaction")


STOP = [
    ("en", "stop charging the garage"),
    ("en", "stop charging"),
    ("en", "stop the charging in the garage"),
    ("nb", "stopp lading"),
    ("nb", "stopp ladingen i garasjen"),
    ("nb", "slutt å lade"),
    ("da", "stop opladning"),
    ("da", "stop opladningen i garagen"),
    ("da", "hold op med at oplade"),
    ("nl", "stop het laden"),
    ("nl", "stop met laden"),
    ("nl", "stop het laden in de garage"),
]
STOPPED = {
    "en": ("Charging stopped at Garage.", "There is no charging session at Garage"),
    "nb": ("Ladingen er stoppet ved Garage.", "Det er ingen ladeøkt å stoppe"),
    "da": ("Opladningen er stoppet ved Garage.", "Der er ingen opladning at stoppe"),
    "nl": ("Het laden bij Garage is gestopt.", "Er is geen laadsessie bij Garage"),
}


@pytest.mark.parametrize(("language", "text"), STOP)
async def test_stop_charging(
    hass: HomeAssistant,
    place: MockConfigEntry,
    raw: RawCharger,
    language: str,
    text: str,
) -> None:
    """A session runs: RemoteStopTransaction for it, as the Charging switch sends it."""
    tid = await _start(raw, dt_util.utcnow(), 1_000)
    await _until(hass, lambda: _state(hass, "switch.garage_charging") == "on")
    intent_type, speech = await _say(hass, text, language)
    assert intent_type == INTENT_STOP_CHARGING
    assert speech == STOPPED[language][0]
    ((_at, stop, _id),) = raw.calls_of("RemoteStopTransaction")
    assert stop == {"transactionId": int(tid)}
    await _stop(raw, tid, dt_util.utcnow(), 1_500)
    await _until(hass, lambda: _state(hass, "switch.garage_charging") == "off")
    # Nothing runs now: said so, nothing sent.
    intent_type, speech = await _say(hass, text, language)
    assert intent_type == INTENT_STOP_CHARGING
    assert speech.startswith(STOPPED[language][1]), speech
    assert len(raw.calls_of("RemoteStopTransaction")) == 1


IS_CHARGING = [
    ("en", "is the car charging?"),
    ("en", "is the car in the garage charging?"),
    ("en", "is the car charging right now"),
    ("nb", "lader bilen?"),
    ("nb", "lader bilen nå?"),
    ("nb", "lader bilen i garasjen nå"),
    ("da", "lader bilen?"),
    ("da", "oplader bilen i garagen"),
    ("da", "er bilen ved at lade"),
    ("nl", "laadt de auto?"),
    ("nl", "laadt de auto nu?"),
    ("nl", "is de auto aan het laden?"),
    ("nl", "is de auto in de garage aan het laden"),
]
YES = {"en": "Yes", "nb": "Ja", "da": "Ja", "nl": "Ja"}
NO = {"en": "No", "nb": "Nei", "da": "Nej", "nl": "Nee"}


@pytest.mark.parametrize(("language", "text"), IS_CHARGING)
async def test_is_the_car_charging(
    hass: HomeAssistant,
    place: MockConfigEntry,
    raw: RawCharger,
    language: str,
    text: str,
) -> None:
    """No car: no. Charging: yes, at the power the charger reports, kWh so far."""
    await _status(raw, "Available")
    intent_type, speech = await _say(hass, text, language)
    assert intent_type == INTENT_IS_CHARGING
    assert speech.startswith(f"{NO[language]}, "), speech
    assert speech.lower().endswith(NO_CAR[language][1].lower() + "."), speech

    now = dt_util.utcnow()
    tid = await _start(raw, now - timedelta(minutes=20), 1_000)
    await _status(raw, "Charging")
    await _meter(raw, tid, now, 3_500, watts=7_200)
    charger = _charger(place)
    await _until(hass, lambda: charger.data.power_w == 7_200)
    intent_type, speech = await _say(hass, text, language)
    assert intent_type == INTENT_IS_CHARGING
    assert speech.startswith(f"{YES[language]}, "), speech
    assert f" {decimal(7.2, language, 1)} kW" in speech
    assert f" {decimal(2.5, language, 1)} kWh" in speech
    assert "Garage" in speech


WAITING = {
    "en": ("is the car charging", "No, the car at Garage is waiting for cheaper power"),
    "nb": ("lader bilen", "Nei, bilen ved Garage venter på billigere strøm"),
    "da": ("lader bilen", "Nej, bilen ved Garage venter på billigere strøm"),
    "nl": ("laadt de auto", "Nee, de auto bij Garage wacht op goedkopere stroom"),
}


@pytest.mark.parametrize("language", LANGUAGES)
async def test_is_the_car_charging_no_it_waits_for_cheaper_power(
    hass: HomeAssistant, place: MockConfigEntry, raw: RawCharger, language: str
) -> None:
    """Plugged in at an expensive hour: no, waiting, until the plan's first slot."""
    set_prices(hass, price_list())
    tid = await _start(raw, dt_util.utcnow(), 1_000)
    await _status(raw, "SuspendedEVSE")
    await _meter(raw, tid, dt_util.utcnow(), 1_000, watts=0)
    scheduler = place.runtime_data.scheduler
    charger = _charger(place)
    await _until(
        hass,
        lambda: place.runtime_data.balancer.limited_by(charger) is LimitedBy.PLAN,
    )
    plan = scheduler.data.chargers[charger.key]
    assert plan.status is PlanStatus.WAITING
    assert plan.start is not None
    assert plan.start >= hour_start(CHEAP_FROM_H)
    text, answer = WAITING[language]
    intent_type, speech = await _say(hass, text, language)
    assert intent_type == INTENT_IS_CHARGING
    assert speech.startswith(answer), speech
    at = dt_util.as_local(plan.start).strftime("%H:%M")
    assert at in speech
    assert _state(hass, "sensor.garage_limited_by") == "plan"
    # "Start charging" now: the session runs already; the answer says why
    # the car waits and how to charge at once. Nothing is sent.
    intent_type, speech = await _say(hass, GUEST[language][0], language)
    assert intent_type == INTENT_START_CHARGING
    assert at in speech
    assert "Garage" in speech
    if language == "en":
        day = (
            " tomorrow"
            if dt_util.as_local(plan.start).date() > dt_util.now().date()
            else ""
        )
        assert speech == (
            "The car at Garage already has a charging session. Smart charging "
            f'waits for cheaper power until {at}{day}; say "charge full now" '
            "to charge at once."
        )
    assert not raw.calls_of("RemoteStartTransaction")


def _renter() -> ConfigSubentry:
    """A guest whose stay begins tomorrow: no right to charge today."""
    return ConfigSubentry(
        data={
            "mobile": "+4791234567",
            "chargers": ["CP-1"],
            "window_start": _local(timedelta(days=1)),
            "window_end": _local(timedelta(days=3)),
        },
        subentry_type="person",
        title="Renter",
        unique_id=None,
    )


GUEST = {
    "en": ("start charging", "stop charging"),
    "nb": ("start lading", "stopp lading"),
    "da": ("start opladning", "stop opladning"),
    "nl": ("start het laden", "stop het laden"),
}


@pytest.mark.parametrize("people", [(_renter(),)])
@pytest.mark.parametrize("language", LANGUAGES)
async def test_a_guest_without_the_right_is_refused(
    hass: HomeAssistant, place: MockConfigEntry, raw: RawCharger, language: str
) -> None:
    """The renter's user, a day early: refused in his language; nothing sent."""
    user = await hass.auth.async_create_user("Renter", group_ids=["system-users"])
    renter = next(s for s in place.subentries.values() if s.title == "Renter")
    object.__setattr__(renter, "data", {**renter.data, "user": user.id})
    context = Context(user_id=user.id)
    refused = _error_text(language, "homecharge_refused")
    start, stop = GUEST[language]
    await _status(raw, "Preparing")
    assert await _refused(hass, start, language, context) == refused
    assert not raw.calls_of("RemoteStartTransaction")
    tid = await _start(raw, dt_util.utcnow(), 1_000)
    await _until(hass, lambda: _charger(place).data.transaction_id == tid)
    assert await _refused(hass, stop, language, context) == refused
    assert not raw.calls_of("RemoteStopTransaction")
    # The owner (an administrator) may.
    intent_type, _speech = await _say(hass, stop, language)
    assert intent_type == INTENT_STOP_CHARGING
    assert len(raw.calls_of("RemoteStopTransaction")) == 1


UNKNOWN = {
    "en": (
        "start charging the cabin",
        "stop charging at the cabin",
        "is the car at the cabin charging",
    ),
    "nb": (
        "start ladingen ved hytta",
        "stopp ladingen ved hytta",
        "lader bilen ved hytta",
    ),
    "da": (
        "start opladningen ved hytten",
        "stop opladningen ved hytten",
        "lader bilen ved hytten",
    ),
    "nl": (
        "start het laden bij het huisje",
        "stop het laden bij het huisje",
        "laadt de auto bij het huisje",
    ),
}


@pytest.mark.parametrize("language", LANGUAGES)
async def test_an_unknown_charger_is_answered(
    hass: HomeAssistant, place: MockConfigEntry, raw: RawCharger, language: str
) -> None:
    """A charger nobody has: the "I don't know that charger" answer; nothing sent."""
    unknown = _error_text(language, "homecharge_no_charger")
    await _start(raw, dt_util.utcnow(), 1_000)
    for text in UNKNOWN[language]:
        assert await _refused(hass, text, language) == unknown, text
    assert not raw.calls_of("RemoteStartTransaction")
    assert not raw.calls_of("RemoteStopTransaction")


async def test_an_offline_charger_is_answered(
    hass: HomeAssistant, place: MockConfigEntry
) -> None:
    """Never connected: start is "not connected"; is it charging: can't tell."""
    charger = _charger(place)
    charger.data.ocpp_status = "Preparing"  # as restored from before a restart
    assert await _refused(hass, "start charging", "en") == _error_text(
        "en", "homecharge_unreachable"
    )
    intent_type, speech = await _say(hass, "is the car charging", "en")
    assert intent_type == INTENT_IS_CHARGING
    assert speech == "I can't tell: Garage is not connected."


def test_start_and_charging_answers() -> None:
    """The plan, the Limited by reason and the readings become the answers' slots."""
    now = dt_util.now()
    later = now + timedelta(hours=2)
    wait = ChargerPlan(status=PlanStatus.WAITING, start=later, end=later)
    common: dict[str, Any] = {"now": now}
    assert start_answer(
        None, plugged_in=False, session=False, limited=LimitedBy.NO_CAR, **common
    )["status"] == ("no_car")
    assert start_answer(
        wait, plugged_in=True, session=False, limited=LimitedBy.PLAN, **common
    ) == {
        "status": "start",
        "waits": True,
        "time": later.strftime("%H:%M"),
        "days": (later.date() - now.date()).days,
    }
    assert start_answer(
        None, plugged_in=True, session=True, limited=LimitedBy.CIRCUIT_FUSE, **common
    ) == {"status": "already", "waits": False, "days": 0}

    def answer(**given: Any) -> dict[str, Any]:
        values: dict[str, Any] = {
            "online": True,
            "plugged_in": True,
            "session": True,
            "charging_status": False,
            "power_w": None,
            "energy_kwh": None,
            "limited": LimitedBy.CIRCUIT_FUSE,
            "now": now,
            "language": "nb",
            **given,
        }
        plan = values.pop("plan", None)
        return charging_answer(plan, **values)

    assert answer(online=False)["status"] == "offline"
    assert answer(plugged_in=False)["status"] == "no_car"
    assert answer(power_w=11_040.0, energy_kwh=3.25) == {
        "status": "charging",
        "days": 0,
        "power": "11,0",
        "energy": "3,2",
    }
    # No power reported: the charger's own word counts.
    assert answer(charging_status=True)["status"] == "charging"
    assert answer(power_w=50.0, charging_status=True)["status"] == "idle"
    assert answer(limited=LimitedBy.PAUSED_BY_USER)["status"] == "stopped"
    assert answer(limited=LimitedBy.OPENING_HOURS)["status"] == "closed"
    assert answer(session=False)["status"] == "not_started"
    assert answer(plan=wait, limited=LimitedBy.PLAN)["time"] == later.strftime("%H:%M")
    assert answer(limited=LimitedBy.PLAN)["status"] == "waiting"
    assert answer(plan=ChargerPlan(status=PlanStatus.DONE))["status"] == "done"
    assert answer(limited=LimitedBy.CAR, power_w=0.0)["status"] == "car"


async def test_built_in_sentences_keep_their_meaning(
    hass: HomeAssistant, place: MockConfigEntry
) -> None:
    """ "Is the Tesla charging?" is still Home Assistant's: our sentences say "the car"."""
    hass.states.async_set(
        "binary_sensor.tesla_charging",
        "on",
        {"device_class": "battery_charging", "friendly_name": "Tesla"},
    )
    async_expose_entity(hass, "conversation", "binary_sensor.tesla_charging", True)
    await hass.async_block_till_done()
    intent_type, _speech = await _say(hass, "is the Tesla charging", "en")
    assert intent_type == intent.INTENT_GET_STATE
    intent_type, _speech = await _say(hass, "turn off smart charging", "en")
    assert intent_type == INTENT_CHARGE_FULL_NOW
