"""Garbage-collector tuning after startup (``DOSSIER_GC_TUNING``)."""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator

import pytest
from asgi_lifespan import LifespanManager

from dossier.app import create_app
from dossier.config import Settings
from dossier.core.memory import FIRST_THRESHOLD, tune_garbage_collector


@pytest.fixture
def restore_gc() -> Iterator[None]:
    """The collector's state is the test process's: put it back."""
    gc.unfreeze()
    threshold = gc.get_threshold()
    try:
        yield
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)


def test_tuning_freezes_what_is_alive_and_raises_the_first_threshold(restore_gc: None) -> None:
    survivor = [object()]  # a container alive at the time of the freeze
    tune_garbage_collector()
    assert gc.get_freeze_count() > 0
    assert gc.get_threshold()[0] == FIRST_THRESHOLD
    # Frozen: in no generation the collector walks any more.
    assert gc.is_tracked(survivor)
    for generation in range(3):
        assert all(obj is not survivor for obj in gc.get_objects(generation=generation))


@pytest.mark.parametrize("enabled", [True, False])
async def test_the_app_tunes_after_startup_when_the_setting_says_so(
    make_settings: Callable[..., Settings], restore_gc: None, enabled: bool
) -> None:
    app = create_app(make_settings(gc_tuning=enabled), configure_logs=False)
    async with LifespanManager(app):
        assert (gc.get_freeze_count() > 0) is enabled
        assert (gc.get_threshold()[0] == FIRST_THRESHOLD) is enabled
