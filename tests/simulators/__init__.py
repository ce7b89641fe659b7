"""Simulated devices (OCPP chargers) that drive homecharge over real sockets."""
