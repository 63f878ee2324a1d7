"""Slash commands through the real discord.py client against the fake Discord, into a real worker."""

from __future__ import annotations

import io
import json
from typing import Any

import av
from PIL import Image

from bots.discord.client import ReelsmithBot
from core.labelling.metadata import DIGITAL_SOURCE_TYPE
from core.service import CommandCall, Outcome
from core.service.facade import Reelsmith
from core.types import JobKind
from tests.conftest import wait_for
from tests.discord.conftest import callback, finished, job_id_of, png, private_answer
from tests.discord.fake_discord import DM_CHANNEL_ID, MANAGE_GUILD, MEMBER_PERMS, MOD_ROLE_ID, FakeDiscord


async def test_imagine_defers_then_edits_status_into_labelled_result(fake: FakeDiscord, bot: ReelsmithBot,
                                                                     worker: Any) -> None:
    assert {c["name"] for c in fake.registered["global"]} >= {
        "imagine", "video", "edit", "animate", "meme", "quota", "help", "mod", "verify", "avatar", "references",
        "Edit this", "Animate this"}
    token = await fake.slash("imagine", {"prompt": "a red fox", "ar": "16:9", "seed": 7})
    first = await callback(fake, token)
    assert first["type"] == 5  # deferred at once, before any slow work
    msg = await finished(fake, token)
    assert msg.content.startswith("\U0001f916 AI-generated with Reelsmith") and "seed 7" in msg.content
    [(_name, data)] = msg.files
    img = Image.open(io.BytesIO(data))
    assert img.format == "PNG" and img.size == (64, 32)
    assert DIGITAL_SOURCE_TYPE in img.info.get("XML:com.adobe.xmp", "")
    job_id = job_id_of(msg.content)
    assert msg.custom_ids == [f"rs:{a}:{job_id}" for a in ("reroll", "vary", "animate", "report", "zoom_half",
                                                            "zoom_double", "region", "pan_left", "pan_right",
                                                            "pan_up", "pan_down")]
    # One message, edited: "Queued (position N)", progress bars, then the result.
    assert "Queued (position" in msg.history[0]
    assert any("Rendering" in h and "%" in h for h in msg.history[1:-1])


async def test_video_and_animate_return_mp4_without_animate_button(fake: FakeDiscord, bot: ReelsmithBot,
                                                                   worker: Any, service: Reelsmith) -> None:
    video = await fake.slash("video", {"prompt": "waves", "frames": 9, "avoid": "text, blur"})
    animate = await fake.slash("animate", {"prompt": "make it move"}, files={"image": ("cat.png", png(), "image/png")})
    for token, kind in ((video, JobKind.VIDEO), (animate, JobKind.ANIMATE)):
        msg = await finished(fake, token)
        [(name, data)] = msg.files
        assert name.endswith(".mp4")
        with av.open(io.BytesIO(data)) as container:
            assert container.streams.video[0].codec_context.name == "h264"
        job_id = job_id_of(msg.content)
        request = await service.queue.load_request(job_id)
        assert request is not None and request.kind == kind
        assert f"rs:animate:{job_id}" not in msg.custom_ids and f"rs:reroll:{job_id}" in msg.custom_ids
        if kind == JobKind.VIDEO:
            assert request.num_frames == 9 and request.negative_prompt == "text, blur"
        else:
            assert [r.mime for r in request.references] == ["image/png"]


async def test_edit_downloads_the_attachment_and_stores_it_as_a_blob(fake: FakeDiscord, bot: ReelsmithBot,
                                                                     worker: Any, service: Reelsmith) -> None:
    jpeg = io.BytesIO()
    Image.new("RGB", (80, 60), (10, 200, 30)).save(jpeg, format="JPEG")
    # The name and declared type lie; the bytes decide.
    token = await fake.slash("edit", {"prompt": "make it snow", "steps": 2},
                             files={"image": ("photo.gif", jpeg.getvalue(), "image/gif")})
    msg = await finished(fake, token)
    request = await service.queue.load_request(job_id_of(msg.content))
    assert request is not None and request.kind == JobKind.EDIT and request.steps == 2
    [ref] = request.references
    assert ref.mime == "image/jpeg" and (ref.width, ref.height) == (80, 60)
    stored = await service.media(ref.blob_key)
    assert stored is not None and stored[0] == jpeg.getvalue()


async def test_bad_input_is_an_ephemeral_answer_and_queues_nothing(fake: FakeDiscord, bot: ReelsmithBot,
                                                                   service: Reelsmith) -> None:
    token = await fake.slash("imagine", {"prompt": "a fox", "steps": 9999})
    answer = await private_answer(fake, token)
    assert answer.content.startswith("\u26a0") and "--steps" in answer.content
    await wait_for(lambda: _deleted(fake, token))  # the public "thinking" message is gone
    assert await service.redis.zcard(service.settings.queue_name) == 0


async def _deleted(fake: FakeDiscord, token: str) -> bool:
    original = fake.original(token)
    return original is not None and original.deleted


async def test_help_quota_meme_mod_forward_text_to_core(fake: FakeDiscord, bot: ReelsmithBot,
                                                        service: Reelsmith) -> None:
    calls: list[CommandCall] = []

    async def record(call: CommandCall) -> Outcome:
        calls.append(call)
        return Outcome(f"did {call.args or 'it'}", ok=True, private=call.args.startswith("secret"))

    for name in ("quota", "mod"):
        service.add_command(name, record)
    service.settings.discord_moderator_roles = [str(MOD_ROLE_ID)]  # by id, never by name

    help_token = await fake.slash("help")
    assert (await callback(fake, help_token))["data"].get("flags") == 64  # help is only for the asker
    help_msg = await wait_for(lambda: _content(fake, help_token, "/imagine"))
    assert help_msg.ephemeral

    quota = await fake.slash("quota")
    assert (await wait_for(lambda: _content(fake, quota, "did it"))).ephemeral

    # /meme is a job kind in core: the text and the attached picture reach the queued request.
    meme = await fake.slash("meme", {"text": "top | bottom"}, files={"file": ("m.png", png(), "image/png")})
    assert not (await wait_for(lambda: _content(fake, meme, "Queued"))).ephemeral
    [job_id] = [j.decode() for j in await service.redis.zrange(service.settings.queue_name, 0, -1)]
    request = await service.queue.load_request(job_id)
    assert request is not None and (request.meme_top, request.meme_bottom) == ("top", "bottom")
    assert len(request.references) == 1 and request.references[0].mime == "image/png"

    mod = await fake.slash("mod", {"text": "secret ban 42"}, roles=(MOD_ROLE_ID,))
    assert (await private_answer(fake, mod)).content == "did secret ban 42"

    assert [c.args for c in calls] == ["", "secret ban 42"]
    assert calls[1].ctx.is_moderator and str(MOD_ROLE_ID) in calls[1].ctx.roles  # moderator role
    assert not calls[0].ctx.is_moderator and not calls[0].ctx.is_private


async def _content(fake: FakeDiscord, token: str, needle: str) -> Any:
    original = fake.original(token)
    return original if original is not None and needle in original.content else None


async def test_manage_server_moderates_and_dms_are_private(fake: FakeDiscord, bot: ReelsmithBot,
                                                          service: Reelsmith) -> None:
    seen: list[CommandCall] = []

    async def record(call: CommandCall) -> Outcome:
        seen.append(call)
        return Outcome("ok", ok=True)

    service.add_command("mod", record)
    await fake.slash("mod", {"text": "pause"}, permissions=MEMBER_PERMS | MANAGE_GUILD)
    dm = await fake.slash("mod", {"text": "pause"}, dm=True)
    await wait_for(lambda: _content(fake, dm, "ok"))
    await wait_for(lambda: _len(seen, 2))
    guild_call, dm_call = seen
    assert guild_call.ctx.is_moderator and not guild_call.ctx.is_private
    assert dm_call.ctx.is_private and not dm_call.ctx.is_moderator
    assert dm_call.requester.chat_id == str(DM_CHANNEL_ID)
    assert fake.original(dm).payload["channel_id"] == str(DM_CHANNEL_ID)  # type: ignore[union-attr]


async def _len(items: list[Any], n: int) -> bool:
    return len(items) >= n


async def test_dm_imagine_is_delivered_in_the_dm(fake: FakeDiscord, bot: ReelsmithBot, worker: Any) -> None:
    token = await fake.slash("imagine", {"prompt": "a lighthouse"}, dm=True)
    msg = await finished(fake, token)
    assert msg.payload["channel_id"] == str(DM_CHANNEL_ID) and msg.files


async def test_prompt_autocomplete_offers_recent_prompts(fake: FakeDiscord, bot: ReelsmithBot,
                                                         worker: Any) -> None:
    await finished(fake, await fake.slash("imagine", {"prompt": "a red fox in snow"}))
    token = await fake.autocomplete("imagine", "prompt", "fox")
    result = await callback(fake, token, kind=8)
    assert [c["value"] for c in result["data"]["choices"]] == ["a red fox in snow"]
    none = await callback(fake, await fake.autocomplete("imagine", "prompt", "zebra"), kind=8)
    assert none["data"]["choices"] == []


async def test_real_mod_commands_refused_for_members_allowed_for_moderators(fake: FakeDiscord, bot: ReelsmithBot,
                                                                           service: Reelsmith) -> None:
    # The moderation module itself (no stand-in): rights come from Discord permissions and roles.
    member = await fake.slash("mod", {"text": "pause"})
    assert "Only this chat's moderators" in (await private_answer(fake, member)).content
    service.settings.discord_moderator_roles = [str(MOD_ROLE_ID)]  # by id, never by name
    by_role = await fake.slash("mod", {"text": "status"}, roles=(MOD_ROLE_ID,))
    assert "Only this chat's moderators" not in (await private_answer(fake, by_role)).content
    manager = await fake.slash("mod", {"text": "pause"}, permissions=MEMBER_PERMS | MANAGE_GUILD)
    announced = await wait_for(lambda: _content(fake, manager, "Generation is paused in this chat"))
    assert not announced.ephemeral  # the whole channel learns generation is paused
    refused = await fake.slash("imagine", {"prompt": "a fox"})
    assert "paused" in (await private_answer(fake, refused)).content.lower()


async def test_unknown_or_stale_command_is_answered_privately_and_commands_registered_again(
        fake: FakeDiscord, bot: ReelsmithBot) -> None:
    # Issue 15: a command Discord still offers but the bot no longer has got no answer at all ("The application
    # did not respond").
    registrations = sum(1 for r in fake.requests if r.startswith("PUT ") and r.endswith("/commands"))
    token = await fake.slash("imagine_v1", {"prompt": "a fox"})
    answer = await callback(fake, token)
    assert answer["type"] == 4 and answer["data"].get("flags") == 64  # answered, only to whoever used it
    assert "out of date" in answer["data"]["content"]

    async def registered_again() -> bool:
        return sum(1 for r in fake.requests if r.startswith("PUT ") and r.endswith("/commands")) > registrations

    await wait_for(registered_again, timeout=10)


async def test_menu_has_every_command_core_answers(fake: FakeDiscord, service: Reelsmith,
                                                   start_bot: Any) -> None:
    # Issue 15: Discord's commands were a hard-coded list; now they come from the grammar and what features register.
    async def party(call: CommandCall) -> Outcome:
        return Outcome("party!", ok=True)

    service.add_command("party", party, "throw a party")
    await start_bot()
    registered = {c["name"]: c for c in fake.registered["global"]}
    assert registered["party"]["description"] == "Throw a party"
    assert "unpause" not in registered["mod"]["description"] + json.dumps(registered["mod"].get("options", []))
    token = await fake.slash("party", {"text": "now"})
    assert await wait_for(lambda: _content(fake, token, "party!"))
