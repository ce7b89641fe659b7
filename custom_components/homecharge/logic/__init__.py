"""Pure decisions: plain values in, decisions out; no Home Assistant imports."""
