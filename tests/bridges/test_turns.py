"""Turns: batches in progress at once lock and acknowledge in the order they were taken."""

from __future__ import annotations

import threading
import time

import pytest

from bridges.turns import Turns


def test_a_later_ticket_waits_for_the_earlier_ones_to_pass() -> None:
    turns = Turns(("lock",))
    first, second = turns.issue(), turns.issue()
    order: list[int] = []

    def hold(ticket: int) -> None:
        with turns.turn("lock", ticket):
            order.append(ticket)

    later = threading.Thread(target=hold, args=(second,))
    later.start()
    time.sleep(0.1)
    assert order == []  # the second ticket is there first, and waits
    hold(first)
    later.join(5)
    assert order == [first, second]
    assert turns.passed("lock") == 2


def test_a_batch_that_fails_still_passes_its_gate() -> None:
    turns = Turns(("lock", "ack"))
    failing, next_one = turns.issue(), turns.issue()
    with pytest.raises(RuntimeError), turns.turn("lock", failing):
        raise RuntimeError("database went away")
    with turns.turn("lock", next_one):
        pass
    assert turns.passed("lock") == 2
    assert turns.passed("ack") == 0  # gates are counted apart


def test_passing_twice_does_nothing_more() -> None:
    turns = Turns(("ack",))
    a, b = turns.issue(), turns.issue()
    turns.pass_("ack", a)
    turns.pass_("ack", a)
    assert turns.passed("ack") == 1
    turns.pass_("ack", b)
    assert turns.passed("ack") == 2


def test_many_threads_pass_in_ticket_order() -> None:
    turns = Turns(("ack",))
    tickets = [turns.issue() for _ in range(200)]
    order: list[int] = []
    lock = threading.Lock()

    def run(ticket: int) -> None:
        time.sleep((ticket * 7919 % 13) / 10_000)  # arrive out of order
        with turns.turn("ack", ticket), lock:
            order.append(ticket)

    threads = [threading.Thread(target=run, args=(t,)) for t in reversed(tickets)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert order == tickets
