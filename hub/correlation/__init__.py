"""Correlation: complaints tied to the alarms, orders, signals and notices that explain them.

Above complaints, alarms, signals and work orders: it imports them, none imports it (below
their routes). docs/correlation.md has the weight table and its rationale.
"""
