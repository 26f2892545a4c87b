"""The bridge process collects garbage in fewer, larger rounds."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from bridges.gc_tuning import GC_THRESHOLDS, tune_gc


@pytest.fixture
def restored_gc() -> Iterator[None]:
    before = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*before)


@pytest.mark.usefixtures("restored_gc")
def test_tuning_freezes_what_exists_and_raises_the_young_threshold() -> None:
    tune_gc()
    assert gc.get_threshold() == GC_THRESHOLDS
    assert GC_THRESHOLDS[0] > 700  # Python's default
    assert gc.get_freeze_count() > 1000


def test_paho_leaves_a_cycle_for_every_message_it_matches() -> None:
    """Why the tuning exists: if this stops holding, the default thresholds may do."""
    from paho.mqtt.matcher import MQTTMatcher

    matcher = MQTTMatcher()
    gc.collect()
    for n in range(100):
        list(matcher.iter_match(f"fh/site/leak/leak-{n}/telemetry"))
    assert gc.collect() >= 100
