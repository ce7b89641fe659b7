"""Config, subentry and options flow steps, composed by config_flow.py."""
