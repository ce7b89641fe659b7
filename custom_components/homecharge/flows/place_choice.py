"""
Which place? The question a discovery asks.

A charger or meter found by discovery cannot start a subentry flow, so the
config flow's confirm step asks which place gets it, adds it there itself and
aborts with a translated reason. The charger and the meter discovery share
this: which places may be chosen, the place field and its check.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import voluptuous as vol

from homeassistant.config_entries import ConfigEntry, ConfigEntryState
from homeassistant.helpers.selector import SelectOptionDict

from ..const import CONF_PLACE
from .place import choice_selector


@dataclass(frozen=True)
class PlaceChoice:
    """The places a discovered device can go to, by entry id, in HA's order."""

    places: dict[str, ConfigEntry]

    @classmethod
    def of(
        cls,
        entries: Iterable[ConfigEntry],
        accepts: Callable[[ConfigEntry], bool] = lambda entry: True,
    ) -> PlaceChoice:
        """The loaded places among ``entries`` that accept the device."""
        return cls(
            {
                entry.entry_id: entry
                for entry in entries
                if entry.state is ConfigEntryState.LOADED and accepts(entry)
            }
        )

    def __bool__(self) -> bool:
        """Whether there is any place to choose."""
        return bool(self.places)

    @property
    def schema(self) -> vol.Schema:
        """The place field: a dropdown of the places by title."""
        options = [
            SelectOptionDict(value=entry_id, label=entry.title)
            for entry_id, entry in self.places.items()
        ]
        return vol.Schema({vol.Required(CONF_PLACE): choice_selector(options)})

    @property
    def optional_schema(self) -> vol.Schema:
        """The place field where leaving it out keeps the place (reconfigure)."""
        options = [
            SelectOptionDict(value=entry_id, label=entry.title)
            for entry_id, entry in self.places.items()
        ]
        return vol.Schema({vol.Optional(CONF_PLACE): choice_selector(options)})

    @property
    def suggested(self) -> dict[str, str]:
        """The first place, preselected."""
        return {CONF_PLACE: next(iter(self.places))}

    def errors(self, user_input: Mapping[str, Any]) -> dict[str, str]:
        """The translated error when the chosen place is not (any more) offered."""
        errors: dict[str, str] = {}
        if user_input[CONF_PLACE] not in self.places:
            errors[CONF_PLACE] = "unknown_place"
        return errors

    def chosen(self, user_input: Mapping[str, Any]) -> ConfigEntry:
        """The place chosen in a form without errors."""
        return self.places[user_input[CONF_PLACE]]
