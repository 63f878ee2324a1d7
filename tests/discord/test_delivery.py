"""Delivery: buttons after a restart, expired tokens, upload limits, 429s, permissions, reconnects, notices."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from PIL import Image

from bots.discord.client import ReelsmithBot
from core.queue.replies import ReplyBus
from core.service import button_data
from core.service.facade import Reelsmith
from core.types import Button, DeleteResult, Notice
from tests.conftest import wait_for
from tests.discord.conftest import Starter, callback, finished, job_id_of, private_answer
from tests.discord.fake_discord import (
    CHANNEL_ID,
    DM_CHANNEL_ID,
    LOCKED_CHANNEL_ID,
    MEMBER_PERMS,
    REVIEW_CHANNEL_ID,
    FakeDiscord,
    Sent,
)


async def _channel_result(fake: FakeDiscord, channel_id: int) -> Sent:
    async def posted() -> Sent | None:
        return next((m for m in fake.in_channel(channel_id) if m.via == "channel" and m.files), None)

    return await wait_for(posted, timeout=60)  # type: ignore[no-any-return]


async def test_buttons_work_after_a_bot_restart(fake: FakeDiscord, start_bot: Starter, worker: Any,
                                                service: Reelsmith) -> None:
    await start_bot()
    msg = await finished(fake, await fake.slash("imagine", {"prompt": "a castle", "seed": 3}))
    job_id = job_id_of(msg.content)

    await start_bot()  # a new process in all but name: nothing of the first bot's memory survives
    reroll = await fake.press(msg, button_data("reroll", job_id))
    assert (await callback(fake, reroll))["type"] == 5
    again = await finished(fake, reroll)
    new_job = job_id_of(again.content)
    request = await service.queue.load_request(new_job)
    assert new_job != job_id and request is not None and request.prompt == "a castle" and request.seed != 3

    report = await fake.press(msg, button_data("report", job_id))
    assert (await callback(fake, report))["data"].get("flags") == 64  # only the reporter sees the answer
    answer = await wait_for(lambda: _has(fake, report, "moderators"))
    assert answer.ephemeral


async def _has(fake: FakeDiscord, token: str, needle: str) -> Sent | None:
    original = fake.original(token)
    return original if original is not None and needle in original.content else None


async def test_expired_token_falls_back_to_channel_messages(fake: FakeDiscord, bot: ReelsmithBot,
                                                           start_worker: Any, service: Reelsmith) -> None:
    token = await fake.slash("imagine", {"prompt": "a slow render"})
    await wait_for(lambda: _has(fake, token, "Queued"))
    fake.expire(token)  # Discord revokes interaction tokens after 15 minutes
    await start_worker()
    result = await _channel_result(fake, CHANNEL_ID)
    assert result.content.startswith("<@950000000000000001> \U0001f916 AI-generated")
    job_id = job_id_of(result.content)
    assert button_data("reroll", job_id) in result.custom_ids
    original = fake.original(token)
    assert original is not None and not original.files  # the webhook edit was refused, not half-applied
    # The interim status message the bot posted after the token expired is cleaned up.
    interim = [m for m in fake.in_channel(CHANNEL_ID, include_deleted=True) if m.via == "channel" and not m.files]
    assert len(interim) == 1 and "Rendering" in interim[0].history[0]
    await wait_for(lambda: _true(interim[0].deleted))
    # The token is a credential: only the adapter's short-lived key ever held it.
    for key in await service.redis.keys("*"):
        value = await service.redis.dump(key)
        assert token.encode() not in (value or b"") or b"itoken" in key, key
    ttl = await service.redis.ttl(service.settings.key("discord", "itoken", job_id))
    assert ttl == -2  # dropped once Discord refused it


async def test_token_older_than_its_lifetime_is_not_used(fake: FakeDiscord, bot: ReelsmithBot, worker: Any,
                                                         service: Reelsmith) -> None:
    old = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=service.settings.discord_token_ttl_s / 60 + 1)
    await fake.slash("imagine", {"prompt": "late"}, created=old)
    result = await _channel_result(fake, CHANNEL_ID)
    assert result.files and "AI-generated" in result.content
    assert not [r for r in fake.requests if r.startswith("PATCH /api/v10/webhooks/") and "@original" not in r]


async def test_result_is_made_to_fit_the_upload_limit(fake: FakeDiscord, bot: ReelsmithBot, worker: Any,
                                                      service: Reelsmith) -> None:
    service.settings.image_base_size = 128  # a noisy PNG of ~50 KB
    limit = 12_000
    token = await fake.slash("imagine", {"prompt": "static"}, size_limit=limit)
    msg = await finished(fake, token)
    [(name, data)] = msg.files
    assert len(data) <= limit and name.endswith(".webp")
    img = Image.open(io.BytesIO(data))
    assert img.format == "WEBP" and "AI-generated" in msg.content and "upload limit" in msg.content
    assert b"trainedAlgorithmicMedia" in img.info.get("xmp", b"")  # provenance survives the re-encode
    original = await service.media((await service.queue.load_reply(job_id_of(msg.content))).media[0].blob_key)
    assert original is not None and len(original[0]) > limit


async def test_rate_limited_delivery_is_retried_once_and_not_duplicated(fake: FakeDiscord, bot: ReelsmithBot,
                                                                        worker: Any) -> None:
    # The upload of the result (multipart) is refused with a 429 twice; it must arrive exactly once.
    fake.fail_next("PATCH", r"^/api/v10/webhooks/", status=429, times=2, with_files=True)
    token = await fake.slash("imagine", {"prompt": "busy day"})
    msg = await finished(fake, token)
    assert len(fake.failed) == 2
    with_files = [m for m in fake.messages.values() if m.files]
    assert with_files == [msg]
    assert sum(1 for h in msg.history if h.startswith("\U0001f916")) == 1


async def test_cloudflare_429_pauses_delivery_for_as_long_as_it_says(fake: FakeDiscord, bot: ReelsmithBot,
                                                                     worker: Any) -> None:
    # Issue 15: a 429 without Discord's `Via` header (Cloudflare's) reached the reply stream, which retried after
    # its own 0.01 s / 1 s delays whatever `Retry-After` said.
    fake.fail_next("PATCH", r"^/api/v10/webhooks/", status=429, with_files=True, retry_after=2.0)
    token = await fake.slash("imagine", {"prompt": "slow down"})
    msg = await finished(fake, token)
    uploads = [t for t, r, files in fake.timeline if files and r.startswith("PATCH /api/v10/webhooks/")]
    assert len(uploads) == 2 and len(msg.files) == 1
    assert uploads[1] - uploads[0] >= 1.9, f"retried after {uploads[1] - uploads[0]:.2f}s"


async def test_status_message_is_not_left_rendering_after_the_token_fallback(fake: FakeDiscord, bot: ReelsmithBot,
                                                                             start_worker: Any) -> None:
    # Issue 15: once the token was refused (401) the result went to the channel, and the interaction's own
    # status message stayed at "Queued" / "Rendering… 0%" for good.
    token = await fake.slash("imagine", {"prompt": "a slow render"})
    await wait_for(lambda: _has(fake, token, "Queued"))
    fake.expire(token)
    await start_worker()
    await _channel_result(fake, CHANNEL_ID)
    original = fake.original(token)
    assert original is not None
    await wait_for(lambda: _true(original.deleted or original.content.startswith("\u2705")))
    assert "Queued" not in original.content and "Rendering" not in original.content


async def test_no_post_permission_and_expired_token_sends_a_dm(fake: FakeDiscord, bot: ReelsmithBot,
                                                               start_worker: Any) -> None:
    token = await fake.slash("imagine", {"prompt": "quiet"}, channel_id=LOCKED_CHANNEL_ID,
                             app_permissions=MEMBER_PERMS & ~(1 << 11))
    await wait_for(lambda: _has(fake, token, "Queued"))
    fake.expire(token)
    await start_worker()
    dm = await _channel_result(fake, DM_CHANNEL_ID)
    assert "AI-generated" in dm.content
    assert not [r for r in fake.requests if r == f"POST /api/v10/channels/{LOCKED_CHANNEL_ID}/messages"]


async def test_gateway_reconnect_loses_and_duplicates_nothing(fake: FakeDiscord, bot: ReelsmithBot,
                                                              worker: Any) -> None:
    token = await fake.slash("imagine", {"prompt": "through the storm"})
    await fake.reconnect()
    await wait_for(lambda: _true(fake.resumes >= 1))
    after = await fake.slash("imagine", {"prompt": "after the storm"})
    first, second = await finished(fake, token), await finished(fake, after)
    assert first.files and second.files
    assert len([m for m in fake.messages.values() if m.files]) == 2
    assert fake.identifies == 1  # resumed, not re-identified


async def _true(value: bool) -> bool:
    return value


async def test_notices_go_to_the_review_channel_and_deletes_remove_results(
        fake: FakeDiscord, bot: ReelsmithBot, worker: Any, service: Reelsmith) -> None:
    msg = await finished(fake, await fake.slash("imagine", {"prompt": "reported"}))
    job_id = job_id_of(msg.content)
    bus = ReplyBus(service.redis, service.settings)
    reply = await service.queue.load_reply(job_id)
    assert reply is not None
    await bus.publish_notice(Notice(platform="discord", chat_id=str(LOCKED_CHANNEL_ID), text="nowhere to go"))
    await bus.publish_notice(Notice(platform="discord", chat_id=str(REVIEW_CHANNEL_ID), text="Reported result",
                                    media=reply.media, buttons=[Button(label="Remove", data=f"rs:remove:{job_id}")],
                                    ref=job_id))
    notice = await _channel_result(fake, REVIEW_CHANNEL_ID)
    assert notice.content == "Reported result" and notice.custom_ids == [f"rs:remove:{job_id}"]

    await bus.publish_delete(DeleteResult(platform="discord", job_id=job_id))
    await wait_for(lambda: _true(msg.deleted))
    assert len(fake.in_channel(REVIEW_CHANNEL_ID)) == 1


async def test_unknown_button_and_foreign_chat_are_refused_privately(fake: FakeDiscord, bot: ReelsmithBot,
                                                                     worker: Any) -> None:
    msg = await finished(fake, await fake.slash("imagine", {"prompt": "mine"}))
    job_id = job_id_of(msg.content)
    token = await fake.press(msg, button_data("vary", job_id), dm=True)  # same job, another chat
    answer = await private_answer(fake, token)
    assert "another chat" in answer.content


async def test_result_finished_while_the_bot_was_down_arrives_once_and_edits_are_throttled(
        fake: FakeDiscord, start_bot: Starter, start_worker: Any, service: Reelsmith) -> None:
    service.settings.discord_edit_interval_s = 3600  # one progress edit per job, at most
    bot = await start_bot()
    token = await fake.slash("imagine", {"prompt": "while you were out"})
    await wait_for(lambda: _has(fake, token, "Queued"))
    await bot.close()  # the bot goes away; the job is still queued
    await start_worker()
    job_id = (await wait_for(lambda: _queued_job(service)))
    await wait_for(lambda: service.queue.load_reply(job_id), timeout=60)
    assert fake.original(token) is not None and not fake.original(token).files  # type: ignore[union-attr]
    await start_bot()
    msg = await finished(fake, token)
    assert job_id_of(msg.content) == job_id
    assert len([m for m in fake.messages.values() if m.files]) == 1
    assert sum(1 for h in msg.history if "Rendering" in h) <= 1


async def _queued_job(service: Reelsmith) -> str | None:
    keys = await service.redis.keys(service.settings.key("delivery", "discord", "*", "status"))
    return keys[0].decode().split(":")[-2] if keys else None


async def test_a_failing_handler_answers_privately_and_the_bot_keeps_working(
        fake: FakeDiscord, bot: ReelsmithBot, service: Reelsmith) -> None:
    async def broken(_call: Any) -> Any:
        raise RuntimeError("boom")

    service.add_command("quota", broken)
    token = await fake.slash("mod", {"text": "x"})  # not registered in core here: a clear refusal
    assert "\u26a0" in (await private_answer(fake, token)).content
    failed = await fake.slash("quota")
    assert "went wrong on my side" in (await wait_for(lambda: _has(fake, failed, "went wrong"))).content
    help_token = await fake.slash("help")
    assert await wait_for(lambda: _has(fake, help_token, "/imagine"))
