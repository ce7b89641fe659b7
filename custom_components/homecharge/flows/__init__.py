"""
The flows besides the config flow itself (config_flow.py), and what they call.

options.py and charger.py each hold one flow with all of its steps (a place's
options; a charger subentry). meter.py, plan.py, place.py and place_choice.py
hold no steps: schemas, checks and the options or data the steps save.
"""
