"""Selective monitoring: sources, motion gate, detector, tracker, rules, events, wall selection."""
