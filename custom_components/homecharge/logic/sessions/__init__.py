"""The sessions ledger: every charge recorded, split into 15-minute slots, costed.

Pure logic. ``model.py`` is a session as kept; ``slots.py`` spreads a
session's energy over its slots from the register readings; ``ledger.py``
turns OCPP transaction events (live, late or repeated) into sessions;
``chain.py`` seals finished sessions in a hash chain; ``costing.py`` prices
the slots; ``reports.py`` filters, groups and exports them.
"""
