"""`/styles` and `--style` through the service: scoped to a chat, moderators only, applied before the guards."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from core.context import ChatContext
from core.queue.connection import connect
from core.service.facade import Reelsmith
from core.service.features import build_service
from core.settings import Settings
from core.types import GenerationRequest, Requester

MOD = ChatContext(is_moderator=True)
ALICE = Requester(platform="web", user_id="alice", chat_id="room1")
BOB_ELSEWHERE = Requester(platform="web", user_id="bob", chat_id="room2")
OWNER_STYLES = '''
[[style]]
name = "watercolor"
template = "{prompt}, soft watercolor painting"
negative = "photo"
loras = [{ name = "watercolor", weight = 0.8 }]
aspect = "3:2"
'''


@pytest.fixture
def settings(settings: Settings, tmp_path: Path) -> Settings:
    path = tmp_path / "styles.toml"
    path.write_text(OWNER_STYLES)
    return settings.model_copy(update={"styles_file": path, "quota_enabled": False})


@pytest.fixture
async def service(settings: Settings) -> AsyncIterator[Reelsmith]:
    redis = await connect(settings)
    yield build_service(settings, redis)
    await redis.aclose()


async def _queued(service: Reelsmith, who: Requester, text: str) -> GenerationRequest:
    out = await service.handle(who, text)
    assert out.ok and out.request is not None, out.text
    return out.request


async def test_owner_style_applies_template_negative_aspect_and_loras(service: Reelsmith) -> None:
    req = await _queued(service, ALICE, "/imagine a fox --style watercolor --no blur")
    assert req.prompt == "a fox, soft watercolor painting" and req.style == "watercolor"
    assert req.negative_prompt == "blur, photo"
    assert req.aspect_ratio == "3:2" and req.width > req.height
    assert [(lo.name, lo.weight) for lo in req.loras] == [("watercolor", 0.8)]
    own_ar = await _queued(service, ALICE, "/imagine a fox --style WaterColor --ar 1:1")
    assert own_ar.aspect_ratio == "1:1" and own_ar.width == own_ar.height  # the member's --ar wins
    plain = await _queued(service, ALICE, "/imagine a fox")
    assert plain.prompt == "a fox" and plain.loras == [] and plain.style == ""


async def test_unknown_style_lists_the_available_ones(service: Reelsmith) -> None:
    out = await service.handle(ALICE, "/imagine a fox --style oils")
    assert not out.ok and "no style 'oils'" in out.text and "watercolor" in out.text
    assert await service.redis.zcard(service.settings.queue_name) == 0


async def test_chat_styles_are_scoped_and_for_moderators(service: Reelsmith) -> None:
    refused = await service.handle(ALICE, "/styles add noir {prompt}, film noir")
    assert not refused.ok and "moderators" in refused.text
    added = await service.handle(ALICE, "/styles add noir {prompt}, film noir --no color --ar 16:9", ctx=MOD)
    assert added.ok, added.text
    listing = (await service.handle(ALICE, "/styles")).text
    assert "noir - {prompt}, film noir; avoids: color; aspect 16:9" in listing
    assert "watercolor - {prompt}, soft watercolor painting; avoids: photo; LoRA watercolor x0.8" in listing
    req = await _queued(service, ALICE, "/imagine a detective --style noir")
    assert req.prompt == "a detective, film noir" and req.negative_prompt == "color" and req.loras == []
    elsewhere = await service.handle(BOB_ELSEWHERE, "/imagine a detective --style noir")
    assert not elsewhere.ok and "no style 'noir'" in elsewhere.text
    assert "noir" not in (await service.handle(BOB_ELSEWHERE, "/styles")).text
    assert not (await service.handle(ALICE, "/styles remove noir")).ok  # members may not remove either
    assert (await service.handle(ALICE, "/styles remove noir", ctx=MOD)).ok
    assert "noir" not in (await service.handle(ALICE, "/styles")).text


@pytest.mark.parametrize("text,says", [
    ("/styles add noir film noir", "needs {prompt}"),
    ("/styles add no/ir {prompt}", "not allowed"),
    ("/styles add noir {prompt} {x}", "only {prompt}"),
    ("/styles add noir {prompt} --ar 10:1", "too extreme"),
    ("/styles add watercolor {prompt}", "service's styles"),
    ("/styles add noir", "Usage"),
])
async def test_bad_chat_styles_are_explained(service: Reelsmith, text: str, says: str) -> None:
    out = await service.handle(ALICE, text, ctx=MOD)
    assert not out.ok and says in out.text


async def test_a_cap_on_chat_styles(service: Reelsmith) -> None:
    service.settings.max_chat_styles = 2
    for name in ("a", "b"):
        assert (await service.handle(ALICE, f"/styles add {name} {{prompt}} {name}", ctx=MOD)).ok
    out = await service.handle(ALICE, "/styles add c {prompt} c", ctx=MOD)
    assert not out.ok and "already has 2 styles" in out.text
    assert (await service.handle(ALICE, "/styles add a {prompt} again", ctx=MOD)).ok  # updating is fine


async def test_the_prompt_guard_sees_the_styled_prompt(service: Reelsmith) -> None:
    # The blocklist runs on the final prompt: a word only the style adds is caught, so styles cannot smuggle it.
    assert (await service.handle(ALICE, "/mod blocklist add watercolor painting", ctx=MOD)).ok
    out = await service.handle(ALICE, "/imagine a fox --style watercolor")
    assert not out.ok and "blocklist" in out.text
    assert (await service.handle(ALICE, "/imagine a fox")).ok
    blocked_add = await service.handle(ALICE, "/styles add sneaky {prompt}, watercolor painting", ctx=MOD)
    assert not blocked_add.ok and "blocked here" in blocked_add.text
    neg = await service.handle(ALICE, "/styles add sneaky2 {prompt} --no watercolor painting", ctx=MOD)
    assert not neg.ok and "negative prompt" in neg.text


async def test_a_meme_of_a_picture_takes_no_style(service: Reelsmith) -> None:
    from core.contract import Attachment
    from tests.telegram.conftest import png

    out = await service.handle(ALICE, "/meme top | bottom --style watercolor", [Attachment(png())])
    assert not out.ok and "Drop --style" in out.text
