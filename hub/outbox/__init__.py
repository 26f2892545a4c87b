"""The outbox: messages for MQTT written in the database transaction, published after commit.

A publisher (`bridges.outbox`) drains it, so no transaction ever waits on a broker.
"""
