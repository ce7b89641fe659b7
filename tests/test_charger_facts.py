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
    ],
)
def test_facts(config: dict[str, object], facts: ChargerFacts) -> None:
    """Three letters are three phases; NotApplicable is one; else unknown."""
    assert facts_from_configuration(config) == facts


def test_only_1_6_is_asked() -> None:
    """2.0.1 keeps it per EVSE in its device model: not asked (yet)."""
    assert FACT_KEYS[OcppVersion.V16] == [
        "ConnectorPhaseRotation",
        "NumberOfConnectors",
    ]
    assert FACT_KEYS[OcppVersion.V201] == []
