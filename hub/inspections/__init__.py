"""Patrol logs (巡查记录): routes, rounds, entries, and their cross-check against the sensors."""
