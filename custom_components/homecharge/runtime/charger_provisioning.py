"""A charger's provisioning: its password, and what it tells about itself.

A charger added without a password gets one over OCPP; a charger that boots
fills in the make, model and serial number the user left empty, in its
subentry and on its device.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from homeassistant.helpers import device_registry as dr

from ..central.session import BootInfo, SessionError
from ..const import DOMAIN
from .charger_state import new_password

if TYPE_CHECKING:
    from .charger import ChargerCoordinator

_LOGGER = logging.getLogger(__name__)


async def async_ensure_password(charger: ChargerCoordinator) -> None:
    """A charger added without a password gets one (AuthorizationKey).

    It is required from the next connection on; a charger that refuses
    keeps connecting without one (README: known limitations).
    """
    session = charger.session
    if charger.config.password is not None or session is None:
        return
    password = new_password()
    try:
        status = await session.change_configuration("AuthorizationKey", password)
    except SessionError as err:
        _LOGGER.warning(
            "Charger %s: password not set: %s", charger.config.charge_point_id, err
        )
        return
    if status == "Accepted":
        charger.update_subentry({"password": password})
    else:
        _LOGGER.warning(
            "Charger %s refused a password (%s); it connects without one",
            charger.config.charge_point_id,
            status,
        )


def record_boot(charger: ChargerCoordinator, boot: BootInfo) -> None:
    """Fill in what the user left empty from the boot; what they typed stays."""
    known = {
        "manufacturer": boot.vendor or None,
        "model": boot.model or None,
        "serial": boot.serial,
    }
    config = charger.config
    missing = {k: v for k, v in known.items() if v and not getattr(config, k)}
    if missing:
        charger.update_subentry(missing)
    registry = dr.async_get(charger.hass)
    if device := registry.async_get_device(
        identifiers={(DOMAIN, config.charge_point_id)}
    ):
        registry.async_update_device(
            device.id,
            sw_version=boot.firmware,
            manufacturer=charger.config.manufacturer or known["manufacturer"],
            model=charger.config.model or known["model"],
            serial_number=charger.config.serial or known["serial"],
        )
