"""System test: load balancing the way a user runs it.

A real Mosquitto broker, a real Home Assistant process with its MQTT
integration and homecharge, two OCPP simulators on real websockets, and a
simulated amsreader publishing JSON classic at the real cadence (power every
2.5 s, phase currents every 10 s). Overload → the chargers are cut; the meter
goes silent → the safe current; the meter is back → recovery; Home Assistant
restarts → balancing resumes.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .ha_process import (
    HomeAssistantProcess,
    free_port,
    place_entry,
    until,
    write_config,
)
from .mosquitto import Mosquitto
from .simulators.charger import SimulatedCharger
from .simulators.meter import SimulatedMeter

FUSE = 40.0
SAFE = 6.0
# The balancer's own settings, shortened so the test does not take minutes.
OPTIONS = {
    "meter_source": "mqtt",
    "meter_topic": "amsreader",
    "meter_format": "ams_json_classic",
    "load_balancing": True,
    "raise_after": 5.0,
    "raise_interval": 0.0,
    "safe_current": SAFE,
    "meter_timeout": 8.0,
}


@pytest.mark.usefixtures("socket_enabled")
async def test_balancing_with_a_real_broker_and_restart(tmp_path: Path) -> None:
    """Cut, fail-safe, recovery and a restart, end to end."""
    ocpp_port, http_port = free_port(), free_port()
    with Mosquitto() as broker:
        directory = tmp_path / "config"
        write_config(
            directory,
            ocpp_port=ocpp_port,
            http_port=http_port,
            mqtt=(broker.host, broker.port),
            homecharge_log_level="info",
            places=[
                place_entry(
                    entry_id="01SYSTEMTESTPLACE000000000",
                    name="Home",
                    main_fuse=FUSE,
                    grid_type="3p_400_tn",
                    options=OPTIONS,
                    chargers=[
                        {"charge_point_id": cp, "circuit_fuse": 32.0, "phases": 3}
                        for cp in ("CP-1", "CP-2")
                    ],
                )
            ],
        )
        hass = HomeAssistantProcess(directory, http_port=http_port, ocpp_port=ocpp_port)
        chargers = [
            SimulatedCharger(
                url=f"ws://127.0.0.1:{ocpp_port}",
                charge_point_id=cp,
                meter_interval_s=2.0,
                reconnect_interval_s=0.5,
            )
            for cp in ("CP-1", "CP-2")
        ]
        meter = SimulatedMeter(
            broker.host,
            broker.port,
            grid="3p_400_tn",
            house_a=5.0,
            chargers=chargers,
        )
        try:
            async with hass:
                for charger in chargers:
                    await charger.start()
                    await charger.start_transaction()
                await meter.start()

                def limits() -> list[float]:
                    return [c.current_limit_a for c in chargers]

                # A quiet house: 40 − 5 − 1 = 34 A, 17 A each.
                await until(lambda: limits() == [17.0, 17.0], 30, "fair share")

                # The house takes 30 A: 9 A is left, not 6 A each — one pauses.
                meter.house_a = 30.0
                took = await until(
                    lambda: sum(limits()) <= 9.0 and 0.0 in limits(),
                    12,
                    "cut on overload",
                )
                # Within one message: power every 2.5 s, currents every 10 s.
                assert took < 10.5
                states = await hass.states()
                assert states["binary_sensor.home_meter"]["state"] == "on"

                # Back to 5 A: raised again once there has been room for 5 s.
                meter.house_a = 5.0
                await until(lambda: limits() == [17.0, 17.0], 30, "recovery")

                # Silent meter: after 8 s everyone at the safe current at most.
                meter.silent = True
                await until(lambda: max(limits()) <= SAFE, 15, "fail-safe")
                states = await hass.states()
                assert states["binary_sensor.home_meter"]["state"] == "off"
                meter.silent = False
                await until(lambda: limits() == [17.0, 17.0], 30, "meter back")

                # Home Assistant restarts; the chargers reconnect and are
                # balanced again: safe current until the meter speaks, then
                # their share, and an overload is cut as before.
                await hass.async_restart()
                await until(
                    lambda: all(c.connected for c in chargers), 30, "reconnected"
                )
                await until(lambda: limits() == [17.0, 17.0], 30, "resumed")
                meter.house_a = 30.0
                await until(lambda: sum(limits()) <= 9.0, 12, "cut after restart")
                # No flapping: every limit the balancer sent had a reason
                # in the meter; a cut is never undone by the next message.
                log = hass.log_tail(2000)
                cuts = log.count("(overload)") + log.count("(paused)")
                assert 2 <= cuts <= 8, log
        except BaseException:
            print(hass.log_tail(120))  # noqa: T201
            raise
        finally:
            await meter.stop()
            for charger in chargers:
                await charger.stop()
