"""The Feature contract: the service is assembled from a feature list; guards run by their order numbers and
stages, later features replace earlier buttons and commands, and a member's mistake is answered once."""

from __future__ import annotations

from core.context import ChatContext
from core.contract import CommandCall, CommandSpec, Feature, GuardSpec, Outcome
from core.errors import AttachmentError, DownloadError, Refusal
from core.queue.connection import connect
from core.service import Attachment, button_data
from core.service.facade import Reelsmith
from core.settings import Settings
from core.types import GenerationRequest, Requester

ALICE = Requester(platform="web", user_id="alice", chat_id="room1")


class Recorder:
    """A guard that records when it runs and refuses when told to."""

    def __init__(self, name: str, seen: list[str], refuse: bool = False) -> None:
        self.name, self.seen, self.refuse = name, seen, refuse

    async def check(self, request: GenerationRequest, ctx: ChatContext) -> None:
        self.seen.append(self.name)
        if self.refuse:
            raise Refusal(f"{self.name} says no", reason=self.name)

    async def undo(self, request: GenerationRequest) -> None:
        self.seen.append(f"undo {self.name}")


async def test_guards_run_by_order_and_stage_whatever_the_feature_order(settings: Settings) -> None:
    seen: list[str] = []
    late = Feature("late", guards=(GuardSpec(Recorder("charge", seen), order=900, stage="request"),
                                   GuardSpec(Recorder("faces", seen, refuse=True), order=50, stage="media")))
    early = Feature("early", guards=(GuardSpec(Recorder("ban", seen), order=10, stage="request"),
                                     GuardSpec(Recorder("prompt", seen), order=30, stage="request")))
    redis = await connect(settings)
    try:
        service = Reelsmith(settings, redis, [late, early])
        out = await service.handle(ALICE, "/imagine a fox")
    finally:
        await redis.aclose()
    assert not out.ok and "faces says no" in out.text
    # Request guards by number before any media guard; what passed is undone, latest first.
    assert seen == ["ban", "prompt", "charge", "faces", "undo charge", "undo prompt", "undo ban"]


async def test_later_features_replace_buttons_and_commands(settings: Settings) -> None:
    async def report(service: object, who: Requester, ctx: ChatContext, ref: str) -> Outcome:
        return Outcome(f"reported {ref}", ok=True)

    async def first(call: CommandCall) -> Outcome:
        return Outcome("first", ok=True)

    async def second(call: CommandCall) -> Outcome:
        return Outcome("second", ok=True)

    features = [Feature("a", commands=(CommandSpec("party", first, "the first party"),)),
                Feature("b", actions={"report": report}, commands=(CommandSpec("party", second, "a party"),
                                                                    CommandSpec("cake", second)))]
    redis = await connect(settings)
    try:
        service = Reelsmith(settings, redis, features)
        pressed = await service.action(ALICE, ChatContext(), button_data("report", "abc123"))
        party = await service.handle(ALICE, "/party")
    finally:
        await redis.aclose()
    assert pressed.text == "reported abc123"
    assert party.text == "second"
    assert {"reroll", "vary", "animate", "report"} <= set(service.actions)  # the built-in buttons stay
    assert service.command_help == {"party": "a party"}
    assert "/party - a party" in service.help_text()


async def test_the_feature_list_gives_the_commands_in_order(service: Reelsmith) -> None:
    assert list(service.command_help) == ["models", "quota", "mod", "avatar", "consent", "history", "cancel",
                                         "delete", "styles", "images", "verify"]
    assert [type(g.guard).__name__ for g in sorted(service.guards, key=lambda g: g.order)] == [
        "BanGuard", "SwitchGuard", "PromptGuard", "NsfwGuard", "ConsentGuard", "QuotaGuard"]
    assert {g.stage for g in service.guards if type(g.guard).__name__ == "ConsentGuard"} == {"media"}


async def test_every_user_error_from_a_command_is_answered_privately(settings: Settings) -> None:
    async def fetch(call: CommandCall) -> Outcome:
        raise DownloadError("That file stopped half-way; send it again.")

    async def pick(call: CommandCall) -> Outcome:
        raise AttachmentError("Send the picture as a photo, not a sticker.")

    redis = await connect(settings)
    try:
        service = Reelsmith(settings, redis, [Feature("files", commands=(CommandSpec("fetch", fetch),
                                                                          CommandSpec("pick", pick)))])
        fetched = await service.handle(ALICE, "/fetch")
        picked = await service.handle(ALICE, "/pick", [Attachment(b"")])
    finally:
        await redis.aclose()
    assert (fetched.ok, fetched.private, fetched.text) == (False, True, "\u26a0\ufe0f That file stopped half-way; "
                                                                         "send it again.")
    assert (picked.ok, picked.private, picked.text) == (False, True, "\u26a0\ufe0f Send the picture as a photo, "
                                                                     "not a sticker.")
