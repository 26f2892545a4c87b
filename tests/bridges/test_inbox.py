"""The bridge's inbox: bounded, first in first out, emptied a batch at a time."""

from __future__ import annotations

import threading
import time

import pytest

from bridges.inbox import Inbox


def test_takes_in_arrival_order_up_to_a_batch() -> None:
    inbox: Inbox[int] = Inbox(10)
    for n in range(7):
        assert inbox.put(n, timeout=0)
    assert inbox.take(5, wait_s=0) == [0, 1, 2, 3, 4]
    assert len(inbox) == 2
    assert inbox.take(5, wait_s=0) == [5, 6]
    assert not inbox


def test_an_empty_inbox_gives_nothing_after_the_wait() -> None:
    inbox: Inbox[int] = Inbox(3)
    started = time.monotonic()
    assert inbox.take(5, wait_s=0.05) == []
    assert time.monotonic() - started >= 0.04


def test_a_full_inbox_refuses_after_the_timeout_and_keeps_what_it_has() -> None:
    inbox: Inbox[str] = Inbox(2)
    assert inbox.put("a", timeout=0)
    assert inbox.put("b", timeout=0)
    assert inbox.put("c", timeout=0.02) is False
    assert inbox.take(10, wait_s=0) == ["a", "b"]


def test_a_blocked_producer_goes_on_once_a_batch_is_taken() -> None:
    inbox: Inbox[int] = Inbox(3)
    for n in range(3):
        inbox.put(n, timeout=0)
    done: list[bool] = []
    producer = threading.Thread(target=lambda: done.append(inbox.put(3, timeout=5)))
    producer.start()
    time.sleep(0.05)
    assert done == []  # still waiting for room
    assert inbox.take(3, wait_s=0) == [0, 1, 2]
    producer.join(5)
    assert done == [True]
    assert inbox.take(3, wait_s=0) == [3]


def test_a_waiting_batcher_wakes_for_the_first_item_and_fills_for_a_while() -> None:
    inbox: Inbox[int] = Inbox(100)

    def produce() -> None:
        for n in range(5):
            time.sleep(0.01)
            inbox.put(n, timeout=1)

    producer = threading.Thread(target=produce)
    producer.start()
    batch = inbox.take(5, wait_s=2, fill_s=2)
    producer.join(5)
    assert batch == [0, 1, 2, 3, 4]


def test_nothing_is_lost_between_threads() -> None:
    inbox: Inbox[int] = Inbox(50)
    total = 20_000
    got: list[int] = []

    def produce() -> None:
        for n in range(total):
            assert inbox.put(n, timeout=5)

    producer = threading.Thread(target=produce)
    producer.start()
    while len(got) < total:
        got.extend(inbox.take(64, wait_s=1))
    producer.join(5)
    assert got == list(range(total))


def test_an_inbox_holds_at_least_one() -> None:
    with pytest.raises(ValueError, match="at least one"):
        Inbox(0)
