"""Wall selection: which cameras the operator sees, and why (``wall``; pure)."""
