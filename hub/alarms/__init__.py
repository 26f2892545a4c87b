"""Alarms: rules over device state, one uncleared alarm per device and type, availability."""
