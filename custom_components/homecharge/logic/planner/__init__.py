"""The smart-charging planner: which car charges how much in which slot."""
