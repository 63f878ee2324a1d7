"""Choosing a model: --model, chat defaults, tiers, and refusals before queueing that cost nothing."""

from __future__ import annotations

import time
from pathlib import Path

from core.context import ChatContext
from core.contract import Attachment
from core.models import FAMILIES
from core.quotas import QuotaBook
from core.service import button_data
from core.service.facade import Reelsmith
from core.settings import QuotaTier
from core.types import GenerationReply, JobKind, MediaFile, Requester
from tests.model_access.conftest import MakeService, checkpoint, models_file, png

ALICE = Requester(platform="web", user_id="alice", chat_id="room1")
MOD = ChatContext(is_moderator=True)


def _catalog(tmp_path: Path, *, i2v: bool, extra: str = "") -> Path:
    sd = checkpoint(tmp_path, "sd15", "StableDiffusionPipeline")
    t2v = checkpoint(tmp_path, "Wan2.1-T2V-1.3B-Diffusers", "WanPipeline")
    body = f'''
[[model]]
name = "sd15"
source = "{sd}"

[[model]]
name = "wan-t2v"
source = "{t2v}"
steps = 30
long_side = 480
frames = 33
cost = 2
title = "Wan 2.1 T2V 1.3B"
'''
    if i2v:
        body += f'''
[[model]]
name = "wan-i2v"
source = "{checkpoint(tmp_path, "Wan2.1-I2V-14B", "WanImageToVideoPipeline")}"
cost = 3
'''
    return models_file(tmp_path, body + extra)


async def _nothing_taken(service: Reelsmith, who: Requester = ALICE) -> None:
    usage = await QuotaBook(service.redis, service.settings).usage(who.platform, who.user_id)
    assert usage.used == 0 and usage.in_flight == 0
    assert await service.queue.depth() == 0


async def test_wan_t2v_alone_refuses_animate_before_queueing(make_service: MakeService, tmp_path: Path) -> None:
    wan = checkpoint(tmp_path, "Wan2.1-T2V-1.3B-Diffusers", "WanPipeline")
    service = await make_service(video_model=str(wan))
    started = time.monotonic()
    out = await service.handle(ALICE, "/animate the waves roll in", [Attachment(png(), "still.png")])
    assert time.monotonic() - started < 1.0
    assert not out.ok and out.job_id is None
    assert ("This server's video model can't animate a picture; an owner can add an image-to-video model "
            "(see /models).") in out.text
    await _nothing_taken(service)
    # Text-to-video still works on it, on its own defaults (Wan sizes are multiples of 16, 4k+1 frames).
    ok = await service.handle(ALICE, "/video the waves roll in")
    assert ok.ok and ok.request is not None and ok.request.model == "wan2.1-t2v-1.3b-diffusers"
    assert ok.request.steps == FAMILIES["wan"].steps
    assert (ok.request.num_frames - 1) % 4 == 0 and ok.request.width % 16 == 0


async def test_an_i2v_entry_takes_animate(make_service: MakeService, tmp_path: Path) -> None:
    service = await make_service(models_file=_catalog(tmp_path, i2v=True))
    out = await service.handle(ALICE, "/animate the waves roll in", [Attachment(png(), "still.png")])
    assert out.ok and out.request is not None
    assert (out.request.model, out.request.cost_factor) == ("wan-i2v", 3)
    stored = await service.queue.load_request(out.request.job_id)
    assert stored is not None and stored.model == "wan-i2v"
    video = await service.handle(ALICE, "/video a storm")
    assert video.request is not None and video.request.model == "wan-t2v"
    # The entry's defaults where the member said nothing; what they said wins.
    assert (video.request.steps, video.request.num_frames, max(video.request.width, video.request.height)) == \
        (30, 33, 480)
    given = await service.handle(ALICE, "/video a storm --steps 7 --frames 20")
    assert given.request is not None and given.request.steps == 7 and given.request.num_frames == 17


async def test_model_flag_unknown_wrong_task_and_denied(make_service: MakeService, tmp_path: Path) -> None:
    service = await make_service(models_file=_catalog(tmp_path, i2v=False))
    out = await service.handle(ALICE, "/imagine a fox --model nope")
    assert not out.ok and "no model called 'nope'" in out.text and "sd15, wan-t2v" in out.text
    out = await service.handle(ALICE, "/imagine a fox --model WAN-T2V")
    assert not out.ok and "'wan-t2v' can't make a picture from text" in out.text and "sd15" in out.text
    out = await service.handle(ALICE, "/animate go --model wan-t2v", [Attachment(png(), "a.png")])
    assert not out.ok and "an owner can add an image-to-video model" in out.text

    await service.handle(ALICE, "/models deny sd15", ctx=MOD)
    out = await service.handle(ALICE, "/imagine a fox --model sd15")
    assert not out.ok and "turned off in this chat" in out.text and "/models allow sd15" in out.text
    out = await service.handle(ALICE, "/imagine a fox")  # no other image model: say why
    assert not out.ok and "No model you may use here can make a picture from text: sd15 is turned off" in out.text
    await _nothing_taken(service)
    await service.handle(ALICE, "/models allow sd15", ctx=MOD)
    ok = await service.handle(ALICE, "/imagine a fox --model SD15")
    assert ok.ok and ok.request is not None and ok.request.model == "sd15"


async def test_chat_default_and_tier_restriction(make_service: MakeService, tmp_path: Path) -> None:
    path = _catalog(tmp_path, i2v=False, extra=f'''
[[model]]
name = "wan-pro"
source = "{tmp_path / "Wan2.1-T2V-1.3B-Diffusers"}"
tiers = ["pro"]
''')
    service = await make_service(models_file=path, quota_tiers={"pro": QuotaTier(credits=500)},
                                 quota_tier_users={"web:vip": "pro"})
    vip = Requester(platform="web", user_id="vip", chat_id="room1")
    out = await service.handle(ALICE, "/video a fox --model wan-pro")
    assert not out.ok and "only for members of the pro tier" in out.text
    assert (await service.handle(vip, "/video a fox --model wan-pro")).ok

    answer = await service.handle(ALICE, "/models default wan-pro", ctx=MOD)
    assert answer.ok and "default for text-to-video" in answer.text
    # The chat's default applies to whoever may use it; others get the catalog's default.
    vip_video = await service.handle(vip, "/video a fox")
    assert vip_video.request is not None and vip_video.request.model == "wan-pro"
    alice_video = await service.handle(ALICE, "/video a fox")
    assert alice_video.request is not None and alice_video.request.model == "wan-t2v"


async def test_animate_button_on_an_image_result_picks_the_video_default(make_service: MakeService,
                                                                        tmp_path: Path) -> None:
    service = await make_service(models_file=_catalog(tmp_path, i2v=True))
    first = await service.handle(ALICE, "/imagine a fox")
    assert first.request is not None and first.request.model == "sd15"
    # The result as the worker would publish it (no worker needed: the button reads the stored reply).
    blob = await service.blobs.put(png(), "image/png", 600)
    await service.queue.save_reply(GenerationReply(
        job_id=first.request.job_id, requester=ALICE, kind=JobKind.IMAGE, prompt="a fox", seed=1, model="sd15",
        media=[MediaFile(blob_key=blob, mime="image/png", filename="a.png", size=10, width=64, height=64)]))
    anim = await service.action(ALICE, ChatContext(), button_data("animate", first.request.job_id))
    assert anim.ok and anim.request is not None
    assert (anim.request.kind, anim.request.model, anim.request.cost_factor) == (JobKind.ANIMATE, "wan-i2v", 3)
    reroll = await service.action(ALICE, ChatContext(), button_data("reroll", first.request.job_id))
    assert reroll.request is not None and reroll.request.model == "sd15"


async def test_what_the_member_typed_wins_over_the_models_defaults(make_service: MakeService,
                                                                   tmp_path: Path) -> None:
    service = await make_service(models_file=_catalog(tmp_path, i2v=False))
    plain = await service.handle(ALICE, "/video the tide --model wan-t2v")
    assert plain.request is not None and (plain.request.steps, plain.request.num_frames) == (30, 33)
    # Typed values equal to the service's own defaults are still the member's choice.
    steps, frames = service.settings.steps_default(), service.settings.frames_default()
    typed = await service.handle(ALICE, f"/video the tide --model wan-t2v --steps {steps} --frames {frames}")
    assert typed.request is not None and typed.request.steps == steps
    assert typed.request.num_frames == FAMILIES["wan"].frames.nearest(frames)  # type: ignore[union-attr]
