"""/metrics serves every named metric, with values that move when a real job runs and guards refuse."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient
from prometheus_client.parser import text_string_to_metric_families

from core.context import ChatContext
from core.contract import GuardSpec
from core.errors import Refusal
from core.ops.metrics import METRIC_NAMES
from core.service.facade import Reelsmith
from core.types import GenerationRequest
from tests.conftest import wait_for


class RefuseWith:
    """A guard that refuses every request with a given reason."""

    def __init__(self, reason: str) -> None:
        self.reason = reason

    async def check(self, request: GenerationRequest, ctx: ChatContext) -> None:
        raise Refusal(f"refused: {self.reason}", self.reason)

    async def undo(self, request: GenerationRequest) -> None:
        return None


async def scrape(client: TestClient[Any, Any]) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    resp = await client.get("/metrics")
    assert resp.status == 200
    assert resp.headers["Content-Type"].startswith("text/plain")
    samples: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
    for family in text_string_to_metric_families(await resp.text()):
        for s in family.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return samples


def value(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


async def test_metrics_after_a_job_and_refusals(web_client: TestClient[Any, Any], worker: Any,
                                                service: Reelsmith) -> None:
    before = await scrape(web_client)
    resp = await web_client.post("/api/command", json={"chat": "metrics", "text": "/imagine a lighthouse"})
    job_id = (await resp.json())["job_id"]
    assert job_id

    async def delivered() -> bool:
        msgs = (await (await web_client.get("/api/messages", params={"chat": "metrics"})).json())["messages"]
        return any(m.get("job_id") == job_id and m.get("done") for m in msgs)

    await wait_for(delivered, timeout=60)

    service.guards.append(GuardSpec(RefuseWith("quota"), order=1000))
    await web_client.post("/api/command", json={"chat": "metrics", "text": "/imagine over quota"})
    service.guards[-1] = GuardSpec(RefuseWith("banned"), order=1000)
    await web_client.post("/api/command", json={"chat": "metrics", "text": "/imagine banned member"})

    after = await scrape(web_client)
    names = {name for name, _labels in after}
    for metric in METRIC_NAMES:
        assert any(n == metric or n.startswith(metric + "_") for n in names), f"{metric} missing from /metrics"

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("reelsmith_jobs_total", kind="image", outcome="done") == 1
    assert delta("reelsmith_job_duration_seconds_count", kind="image") == 1
    assert delta("reelsmith_job_duration_seconds_sum", kind="image") > 0
    assert delta("reelsmith_job_wait_seconds_count", kind="image") == 1
    assert delta("reelsmith_replies_total", platform="web", type="reply", outcome="delivered") == 1
    assert delta("reelsmith_quota_refusals_total", platform="web") == 1
    assert delta("reelsmith_moderation_refusals_total", platform="web", reason="banned") == 1
    assert value(after, "reelsmith_redis_up") == 1
    assert ("reelsmith_queue_depth", ()) in after
    gpu_devices = {dict(lb).get("device") for n, lb in after if n == "reelsmith_gpu_memory_used_bytes"}
    import torch

    if torch.cuda.is_available():
        assert "cuda:0" in gpu_devices
    else:  # a CPU machine: the gauge is there and reads 0
        assert gpu_devices == {"none"} and value(after, "reelsmith_gpu_memory_used_bytes", device="none") == 0

    # The job record says which worker ran it.
    worker_field = await service.redis.hget(service.settings.key("job", job_id), "worker")
    assert worker_field


async def test_queue_depth_counts_waiting_jobs(web_client: TestClient[Any, Any], service: Reelsmith) -> None:
    # No worker: queued jobs stay on the queue.
    for i in range(3):
        resp = await web_client.post("/api/command", json={"chat": f"depth{i}", "text": f"/imagine waiting {i}"})
        assert (await resp.json())["ok"]
    samples = await scrape(web_client)
    assert value(samples, "reelsmith_queue_depth") == 3


def test_gpu_memory_comes_from_torch_when_cuda_is_there(monkeypatch: Any) -> None:
    """No GPU here: a stand-in torch module proves the gauge reads each device's allocator."""
    import sys
    import types

    from core.ops.metrics import Metrics

    cuda = types.SimpleNamespace(is_available=lambda: True, device_count=lambda: 2,
                                 memory_allocated=lambda i: (i + 1) * 1000, memory_reserved=lambda i: (i + 1) * 4000)
    monkeypatch.setitem(sys.modules, "torch", types.SimpleNamespace(cuda=cuda))
    page = Metrics().render().decode()
    assert 'reelsmith_gpu_memory_used_bytes{device="cuda:1"} 2000.0' in page
    assert 'reelsmith_gpu_memory_reserved_bytes{device="cuda:0"} 4000.0' in page
    monkeypatch.delitem(sys.modules, "torch")
    assert 'reelsmith_gpu_memory_used_bytes{device="none"} 0.0' in Metrics().render().decode()


async def test_worker_heartbeats_show_warm_models_and_loads(web_client: TestClient[Any, Any],
                                                           service: Reelsmith) -> None:
    from core.queue import fleet
    from core.queue.fleet import WorkerInfo

    info = WorkerInfo(name="gpu-1", device="cuda:0", families=["video"], models={"wan-i2v": "/models/wan-i2v"},
                      loads=3, switches=1, evictions=1)
    await fleet.announce(service.redis, service.settings, info, ttl_s=30)
    samples = await scrape(web_client)
    assert value(samples, "reelsmith_worker_warm_models", worker="gpu-1", model="wan-i2v") == 1
    assert [value(samples, "reelsmith_worker_model_loads", worker="gpu-1", event=e)
            for e in ("load", "switch", "eviction")] == [3, 1, 1]
    await fleet.withdraw(service.redis, service.settings, "gpu-1")
    samples = await scrape(web_client)  # a worker that left is no longer shown
    assert value(samples, "reelsmith_worker_warm_models", worker="gpu-1", model="wan-i2v") == 0
