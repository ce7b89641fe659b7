"""Constants for homecharge."""

from __future__ import annotations

from typing import Final

DOMAIN: Final = "homecharge"

# Config entry data (asked by the user and reconfigure steps).
CONF_COUNTRY: Final = "country"
CONF_PRICE_AREA: Final = "price_area"
CONF_COST_BASIS: Final = "cost_basis"
CONF_FIXED_PRICE: Final = "fixed_price"
CONF_MAIN_FUSE: Final = "main_fuse"
CONF_GRID_TYPE: Final = "grid_type"

CONF_ACCEPT_NEW_CHARGERS: Final = "accept_new_chargers"

# Charger subentries.
SUBENTRY_CHARGER: Final = "charger"
# Vehicle subentries (logic/vehicles.py).
SUBENTRY_VEHICLE: Final = "vehicle"
# People who may charge at a restricted charger (logic/access.py).
SUBENTRY_PERSON: Final = "person"
# A driver's reimbursement of business sessions (logic/reimbursement/).
SUBENTRY_REIMBURSEMENT: Final = "reimbursement"
CONF_CHARGE_POINT_ID: Final = "charge_point_id"
CONF_CIRCUIT_FUSE: Final = "circuit_fuse"
CONF_PHASES: Final = "phases"
CONF_CONNECTORS: Final = "connectors"
# Connectors shown per charger (a home twin has 2, a garage pillar up to 4);
# a charger reporting more is not trusted to get a device per number.
MAX_CONNECTORS: Final = 8
CONF_MAX_CURRENT: Final = "max_current"
CONF_PASSWORD: Final = "password"  # noqa: S105 - a key, not a password
CONF_MANUFACTURER: Final = "manufacturer"
CONF_MODEL: Final = "model"
CONF_SERIAL: Final = "serial"
CONF_PLACE: Final = "place"
CONF_OPENS: Final = "opens"
CONF_CLOSES: Final = "closes"
CONF_PHASE: Final = "phase"
CONF_PRIORITY: Final = "priority"

# OCPP server settings (shared by every place).
CONF_CERTIFICATE: Final = "certificate"
CONF_PRIVATE_KEY: Final = "private_key"

# Config entry options (the options flow).
CONF_SPOT_MARKUP: Final = "spot_markup"
CONF_VAT_PERCENT: Final = "vat_percent"

STORAGE_VERSION: Final = 1
