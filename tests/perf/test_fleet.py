"""Warm models: workers announce what they hold; loads after warm-up are counted as switches."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from core.generation.pipeline import PipelineSet
from core.models.catalog import TINY_IMAGE, TINY_VIDEO
from core.queue import fleet
from core.service.facade import Reelsmith
from core.settings import Settings
from core.types import JobKind
from tests.conftest import wait_for


async def test_worker_announces_its_warm_models(service: Reelsmith, worker: Any) -> None:
    [info] = await wait_for(lambda: fleet.workers(service.redis, service.settings))
    assert set(info.models) == {TINY_IMAGE, TINY_VIDEO}  # by catalog name
    assert info.switches == 0 and info.loads >= 2


def test_a_load_after_warm_up_counts_as_a_switch(tiny_dir: Path) -> None:
    ps = PipelineSet(Settings(_env_file=None, tiny_models_dir=tiny_dir))
    ps.warm_up((JobKind.IMAGE, JobKind.EDIT))
    assert (ps.loads, ps.switches, set(ps.sources)) == (1, 0, {TINY_IMAGE})
    ps.get(JobKind.EDIT)  # derived from the warm image model: no load
    ps.get(JobKind.VIDEO)
    assert (ps.loads, ps.switches, set(ps.sources)) == (2, 1, {TINY_IMAGE, TINY_VIDEO})
