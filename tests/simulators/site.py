"""
A simulated site: an amsreader meter and the chargers behind it, in one process.

The meter measures the house load plus what these chargers draw right now, so
when Home Assistant lowers a charger's limit, the next meter message shows it;
separate charger and meter processes could not see each other. scripts/develop
runs the demo place this way (see dev/helpers):

    python -m tests.simulators.site --port 1883 --house 10,10,10 \\
        --high 30,30,30 --cycle 120 \\
        --charger "--url ws://127.0.0.1:9000 --id SIM-1 --autoplug" \\
        --charger "--url ws://127.0.0.1:9000 --id SIM-2 --phases 1 --autoplug"

The meter takes the options of ``python -m tests.simulators.meter`` (broker,
topic, grid, house load, ``--cycle``...); each ``--charger`` is one quoted set
of ``python -m tests.simulators.charger`` options, ``--autoplug`` and
``--id-tag`` included. Every charger's draw starts at L1 (a 3-phase one loads
all three lines). Runs until Ctrl-C / SIGTERM, then stops the chargers and the
meter. The house load changes live as with the meter alone: publish e.g.
``35,35,35`` to ``<topic>/sim/house/set``, or run

    python -m tests.simulators.site --port 1883 --set-house 35,35,35
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Sequence
import contextlib
import logging
import shlex
import signal
import sys

from . import charger as charger_cli, meter as meter_cli
from .charger import SimulatedCharger, charger_from_args
from .meter import house_loads, meter_from_args


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tests.simulators.site",
        description=(
            "A simulated amsreader meter and the chargers behind it, in one "
            "process: the meter reports the house load plus what the chargers "
            "draw. Meter options as for tests.simulators.meter; runs until "
            "Ctrl-C / SIGTERM."
        ),
        parents=[meter_cli._parser()],
        conflict_handler="resolve",
    )
    parser.add_argument(
        "--charger",
        action="append",
        default=[],
        metavar="'OPTIONS'",
        help=(
            "one charger: its tests.simulators.charger options in one quoted "
            "argument (repeat for more chargers)"
        ),
    )
    return parser


def chargers_from_args(
    texts: Sequence[str],
) -> list[tuple[SimulatedCharger, argparse.Namespace]]:
    """One charger per ``--charger`` text, with the options it was given."""
    parser = charger_cli._parser()
    found = []
    for text in texts:
        args = parser.parse_args(shlex.split(text))
        found.append((charger_from_args(args), args))
    return found


async def _run_cli(
    args: argparse.Namespace,
    parser: argparse.ArgumentParser,
    chargers: Sequence[tuple[SimulatedCharger, argparse.Namespace]],
) -> None:
    base, high = house_loads(args, parser)
    meter = meter_from_args(args, base, [charger for charger, _ in chargers])
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stopping.set)
    names = ", ".join(charger.charge_point_id for charger, _ in chargers) or "none"
    meter_cli._say(
        f"{args.grid}, house load {meter_cli.SimulatedMeter._amps(base)}, "
        f"chargers: {names}; waiting for the broker at {args.host}:{args.port}"
    )
    tasks: list[asyncio.Task[None]] = []
    try:
        for charger, options in chargers:
            await charger.start(wait=False)
            if options.autoplug or options.plug_only:
                tasks.append(
                    asyncio.create_task(
                        charger_cli._autoplug(
                            charger, options.id_tag, start=not options.plug_only
                        )
                    )
                )
        await meter.start(wait=False)
        if args.cycle is not None and high is not None:
            tasks.append(
                asyncio.create_task(meter_cli._cycle(meter, base, high, args.cycle))
            )
        if args.verbose:
            tasks.append(asyncio.create_task(meter_cli._echo(meter)))
        await stopping.wait()
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await meter.stop()
        for charger, _ in chargers:
            with contextlib.suppress(Exception):
                await charger.stop()


def main(argv: Sequence[str] | None = None) -> int:
    """Run a simulated site from the command line."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.set_house is not None:
        return meter_cli._set_house_cli(args, parser)
    chargers = chargers_from_args(args.charger)
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(message)s",
        stream=sys.stderr,
    )
    # The meter's events are printed by meter_cli._say already.
    logging.getLogger(meter_cli.__name__).setLevel(logging.WARNING)
    verbose = any(options.verbose for _, options in chargers)
    logging.getLogger("ocpp").setLevel(logging.INFO if verbose else logging.WARNING)
    asyncio.run(_run_cli(args, parser, chargers))
    return 0


if __name__ == "__main__":
    sys.exit(main())
