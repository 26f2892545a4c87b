"""Notices to residents: a sensor order on a shared part tells the affected units, on MQTT too.

Above alarms, work orders and the registry; correlation shows a notice to the desk.
"""
