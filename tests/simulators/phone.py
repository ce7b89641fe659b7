"""The demo phone near or away (scripts/develop's renter at the Cabin charger).

    python -m tests.simulators.phone --port 18830 near
    python -m tests.simulators.phone --port 18830 away

Publishes the state (retained) on the topic the development-only demo proxy
(dev/config/custom_components/homecharge_demo_phone) listens on; the proxy
hands Home Assistant the phone's iBeacon every second while it is near.
"""

from __future__ import annotations

import argparse
import sys

from paho.mqtt import publish

TOPIC = "homecharge-dev/phone"


def main() -> None:
    """Publish near or away."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("state", choices=["near", "away"])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=18830)
    args = parser.parse_args()
    publish.single(TOPIC, args.state, retain=True, hostname=args.host, port=args.port)
    sys.stdout.write(f"demo phone: {args.state}\n")


if __name__ == "__main__":
    main()
