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

# Config entry options (the options flow).
CONF_SPOT_MARKUP: Final = "spot_markup"
CONF_VAT_PERCENT: Final = "vat_percent"

STORAGE_VERSION: Final = 1
