"""What a new charger tells of its supply, from its configuration (pure)."""

from __future__ import annotations

import pytest

from custom_components.homecharge.central.charger_facts import (
    ChargerFacts,
    facts_from_configuration,
)


@pytest.mark.parametrize(
    ("config", "facts"),
    [
        ({}, ChargerFacts()),
        ({"ConnectorPhaseRotation": "0.RST, 1.RST"}, ChargerFacts(phases=3)),
        ({"ConnectorPhaseRotation": "1.NotApplicable"}, ChargerFacts(phases=1)),
        ({"ConnectorPhaseRotation": "1.Unknown"}, ChargerFacts()),
        ({"ConnectorPhaseRotation": "0.RST, 1.NotApplicable"}, ChargerFacts()),
        ({"ConnectorPhaseRotation": None}, ChargerFacts()),
        (
            {"EVSE.SupplyPhases": "1", "EVSE.Power": "7360"},
            ChargerFacts(phases=1, max_current=32.0),
        ),
        (
            {"EVSE.SupplyPhases": "3", "EVSE.Power": "11040"},
            ChargerFacts(phases=3, max_current=16.0),
        ),
        ({"EVSE.SupplyPhases": "3", "EVSE.Power": "1000"}, ChargerFacts(phases=3)),
        ({"EVSE.SupplyPhases": "2"}, ChargerFacts()),
        ({"EVSE.Power": "11040"}, ChargerFacts()),
        ({"EVSE.SupplyPhases": "x", "EVSE.Power": "nan"}, ChargerFacts()),
    ],
)
def test_facts(config: dict[str, object], facts: ChargerFacts) -> None:
    """Phases from the phase rotation or supply phases; amps from power."""
    assert facts_from_configuration(config) == facts
