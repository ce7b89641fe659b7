"""Home Assistant's demo config and helpers for scripts/develop (not shipped)."""
