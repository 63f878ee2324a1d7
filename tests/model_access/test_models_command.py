"""/models: the listing, and moderators' rules scoped to their own chat and audit-logged."""

from __future__ import annotations

from pathlib import Path

from core.context import ChatContext
from core.moderation.audit import AuditLog
from core.types import Requester
from tests.model_access.conftest import MakeService, checkpoint, models_file

ALICE = Requester(platform="telegram", user_id="1", chat_id="-100")
OTHER_CHAT = Requester(platform="telegram", user_id="1", chat_id="-200")
MOD = ChatContext(is_moderator=True)


def _file(tmp_path: Path) -> Path:
    sd = checkpoint(tmp_path, "sd", "StableDiffusionPipeline")
    wan = checkpoint(tmp_path, "wan", "WanPipeline")
    return models_file(tmp_path, f'''
[[model]]
name = "sd15"
source = "{sd}"
title = "Stable Diffusion 1.5"

[[model]]
name = "sd-alt"
source = "{sd}"

[[model]]
name = "wan-t2v"
source = "{wan}"
cost = 2.5
''')


async def test_listing_says_what_each_model_does_here(make_service: MakeService, tmp_path: Path) -> None:
    service = await make_service(models_file=_file(tmp_path))
    out = await service.handle(ALICE, "/models")
    assert out.ok and out.private
    lines = out.text.splitlines()
    assert "\u2022 sd15 - text-to-image, image-to-image, inpaint; default here for image-to-image, inpaint, " \
        "text-to-image; Stable Diffusion 1.5" in lines
    assert "\u2022 sd-alt - text-to-image, image-to-image, inpaint" in lines
    assert "\u2022 wan-t2v - text-to-video; default here for text-to-video; costs \u00d72.5" in lines
    assert "Nothing you can use here does: image-to-video." not in out.text  # nobody offers it at all


async def test_moderators_rules_are_scoped_to_their_chat(make_service: MakeService, tmp_path: Path) -> None:
    service = await make_service(models_file=_file(tmp_path))
    refused = await service.handle(ALICE, "/models deny sd15")  # a member, not a moderator
    assert not refused.ok and "Only this chat's moderators" in refused.text

    assert "turned off" in (await service.handle(ALICE, "/models deny sd15", ctx=MOD)).text
    assert "default for text-to-image" in (await service.handle(ALICE, "/models default sd-alt text-to-image",
                                                                ctx=MOD)).text
    here = await service.handle(ALICE, "/models")
    assert "\u2022 sd15" not in here.text and "Turned off here: sd15" in here.text
    assert "\u2022 sd-alt - text-to-image, image-to-image, inpaint; default here for image-to-image, inpaint, " \
        "text-to-image" in here.text
    made = await service.handle(ALICE, "/imagine a fox")
    assert made.request is not None and made.request.model == "sd-alt"

    # Another chat is unaffected.
    there = await service.handle(OTHER_CHAT, "/models")
    assert "\u2022 sd15 - text-to-image, image-to-image, inpaint; default here" in there.text
    other = await service.handle(OTHER_CHAT, "/imagine a fox")
    assert other.request is not None and other.request.model == "sd15"

    bad = await service.handle(ALICE, "/models default wan-t2v text-to-image", ctx=MOD)
    assert not bad.ok and "wan-t2v can't do text-to-image" in bad.text
    assert "reset" in (await service.handle(ALICE, "/models reset", ctx=MOD)).text
    back = await service.handle(ALICE, "/imagine a fox")
    assert back.request is not None and back.request.model == "sd15"

    actions = [e.action for e in await AuditLog(service.redis, service.settings).recent("telegram", "-100")
               if e.kind == "action"]
    assert actions == ["models reset", "models default", "models deny"]
