"""A failure caused by the member's own input is not a free GPU slot: a reference that passed the submit
checks but cannot be used when the job runs is charged once, and the reply says why. A failure on the
service's side (the stored reference gone) is still refunded."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

from core.generation.pipeline import PipelineSet
from core.quotas.book import QuotaBook
from core.service.facade import Reelsmith
from core.settings import Settings
from core.types import MediaType
from tests.conftest import running_worker, wait_for
from tests.media.helpers import wav
from tests.playground import finished, send
from tests.security.charges_helpers import job_messages, usage


async def _queue_video_with_audio(client: TestClient[Any, Any], service: Reelsmith, chat: str) -> tuple[str, str]:
    """Queue `/video` with a valid audio reference (no worker runs yet): its job id and the audio's blob key."""
    sent = await send(client, chat, "/video a dancing fox --steps 1", [("song.wav", wav(1.0))])
    assert sent["ok"] and sent["job_id"], sent
    request = await service.queue.load_request(sent["job_id"])
    assert request is not None
    [audio] = [r for r in request.references if r.media_type == MediaType.AUDIO]
    return sent["job_id"], audio.blob_key


async def test_member_input_failing_in_the_worker_is_charged_once_and_says_why(
        web_client: TestClient[Any, Any], service: Reelsmith, settings: Settings, pipelines: PipelineSet) -> None:
    chat = "hal"
    assert (await send(web_client, chat, "/mod audio on"))["ok"]  # voice references allowed in this chat
    tampered, audio_blob = await _queue_video_with_audio(web_client, service, chat)
    expired, gone_blob = await _queue_video_with_audio(web_client, service, chat)
    cost = (await usage(service, chat)).used // 2
    assert cost >= 1
    # The member's stored audio turns to noise before the job runs (their file, failing only in the worker);
    # the other job's audio is simply gone (storage lost it: the service's side).
    await service.blobs.store.put(audio_blob, b"\x00garbage, not audio" * 64, "audio/wav")
    await service.blobs.delete([gone_blob])

    async with running_worker(settings, pipelines):
        charged = await finished(web_client, chat, tampered)
        refunded = await finished(web_client, chat, expired)
        book = QuotaBook(service.redis, settings)

        async def released() -> list[str | None] | None:  # the finalizers run just after the reply
            states = [await book.reservation_state(j) for j in (tampered, expired)]
            return None if "held" in states else states

        assert await wait_for(released, timeout=30) == ["settled", "refunded"]
    assert charged["error"] and "could not be used" in charged["text"] and "charged" in charged["text"]
    assert "audio" in charged["text"]  # what was wrong with it
    assert refunded["error"] and "expired" in refunded["text"] and "nothing was charged" in refunded["text"]
    credits = await usage(service, chat)
    assert (credits.used, credits.in_flight) == (cost, 0)  # charged once, for the job its file broke
    assert len(await job_messages(web_client, chat, tampered)) == 1
