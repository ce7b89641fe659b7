"""What a new charger tells of its supply and connectors, from its configuration."""

from __future__ import annotations

import pytest

from custom_components.homecharge.central.charger_facts import (
    FACT_KEYS,
    ChargerFacts,
    facts_from_configuration,
)
from custom_components.homecharge.central.profile import OcppVersion


@pytest.mark.parametrize(
    ("config", "facts"),
    [
        ({}, ChargerFacts()),
        ({"ConnectorPhaseRotation": "0.RST, 1.RST"}, ChargerFacts(phases=3)),
        ({"ConnectorPhaseRotation": "1.TSR"}, ChargerFacts(phases=3)),
        ({"ConnectorPhaseRotation": "1.NotApplicable"}, ChargerFacts(phases=1)),
        ({"ConnectorPhaseRotation": "1.Unknown"}, ChargerFacts()),
        ({"ConnectorPhaseRotation": "0.RST, 1.NotApplicable"}, ChargerFacts()),
        ({"ConnectorPhaseRotation": None}, ChargerFacts()),
        ({"ConnectorPhaseRotation": "garbage, , 1."}, ChargerFacts()),
        ({"NumberOfConnectors": "2"}, ChargerFacts(connectors=2)),
        ({"NumberOfConnectors": " 1 "}, ChargerFacts(connectors=1)),
        # More than we show, none, or nonsense: not a suggestion.
        ({"NumberOfConnectors": "9"}, ChargerFacts()),
        ({"NumberOfConnectors": "0"}, ChargerFacts()),
        ({"NumberOfConnectors": "two"}, ChargerFacts()),
        # 2.0.1's device model.
        ({"ChargingStation.SupplyPhases": "3"}, ChargerFacts(phases=3)),
        ({"ChargingStation.SupplyPhases": "1"}, ChargerFacts(phases=1)),
        ({"ChargingStation.SupplyPhases": "0"}, ChargerFacts()),
        ({"ChargingStation.SupplyPhases": "x"}, ChargerFacts()),
    ],
)
def test_facts(config: dict[str, object], facts: ChargerFacts) -> None:
    """Three letters are three phases; NotApplicable is one; else unknown."""
    assert facts_from_configuration(config) == facts


def test_what_each_version_is_asked() -> None:
    """1.6 configuration keys; 2.0.1's device model (its EVSEs report themselves)."""
    assert FACT_KEYS[OcppVersion.V16] == [
        "ConnectorPhaseRotation",
        "NumberOfConnectors",
    ]
    assert FACT_KEYS[OcppVersion.V201] == ["ChargingStation.SupplyPhases"]
