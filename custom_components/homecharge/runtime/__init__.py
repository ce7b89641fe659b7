"""Runtime: one controller per place and per charger, wiring HA to the logic."""
