"""Commands through the real PTB Application: each command, groups (/cmd@Bot), progress edits, refusals."""

from __future__ import annotations

import pytest

from bots.telegram.app import TelegramBot
from core.context import ChatContext
from core.contract import GuardSpec
from core.errors import Refusal
from core.queue.replies import ReplyBus
from core.service import CommandCall, Outcome
from core.service.facade import Reelsmith
from core.types import GenerationRequest, JobKind, MediaFile, Progress
from tests.telegram.conftest import ALICE, BOB, GROUP, answer_to, until
from tests.telegram.fake_api import FakeBotAPI


def _echo_command(name: str):  # type: ignore[no-untyped-def]
    async def handler(call: CommandCall) -> Outcome:
        c = call.ctx
        return Outcome(f"/{name} args={call.args!r} moderator={c.is_moderator} private={c.is_private} "
                       f"reply_media={c.reply_to_media} user={call.requester.user_id} "
                       f"files={len(call.attachments)}", ok=True, private=True)
    return handler


@pytest.mark.parametrize("text,kind", [
    ("/imagine a red fox --ar 16:9 --seed 7", JobKind.IMAGE),
    ("/video a fox running --frames 9", JobKind.VIDEO),
])
async def test_generation_command_is_queued_with_reply(api: FakeBotAPI, bot: TelegramBot, service: Reelsmith,
                                                       text: str, kind: JobKind) -> None:
    msg = api.message(ALICE, ALICE, text)
    answer = await answer_to(api, msg)
    assert "Queued (position 1)" in answer.params["text"]
    [job_id] = [j.decode() for j in await service.redis.zrange(service.settings.queue_name, 0, -1)]
    request = await service.queue.load_request(job_id)
    assert request is not None and request.kind == kind
    assert request.requester.platform == "telegram" and request.requester.chat_id == str(ALICE)
    assert request.requester.route["message_id"] == str(msg["message_id"])
    # The status message is remembered in Redis, so a restarted bot can still edit it.
    status = await bot.state.status(job_id)
    assert status == {"chat_id": str(ALICE), "message_id": str(answer.result["message_id"])}


@pytest.mark.parametrize("text", ["/help", "/start"])
async def test_help_and_start_show_help_with_registered_commands(api: FakeBotAPI, service: Reelsmith,
                                                                 text: str) -> None:
    service.add_command("quota", _echo_command("quota"), "how many credits you have left")
    bot = TelegramBot(service)
    await bot.start()
    try:
        answer = await answer_to(api, api.message(ALICE, ALICE, text))
        body = answer.params["text"]
        assert "/imagine" in body and "/quota - how many credits you have left" in body
        menu = api.menu()
        names = [c["command"] for c in menu.json("commands")]
        assert {"imagine", "edit", "video", "animate", "help", "quota"} <= set(names)
    finally:
        await bot.stop()


async def test_registered_commands_pass_through_generically(api: FakeBotAPI, service: Reelsmith) -> None:
    # Features register commands on the service (e.g. /quota, /verify); the adapter needs no change.
    service.add_command("quota", _echo_command("quota"))
    service.add_command("party", _echo_command("party"))
    bot = TelegramBot(service)
    await bot.start()
    try:
        quota = await answer_to(api, api.message(ALICE, ALICE, "/quota"))
        assert quota.params["text"].startswith("/quota args=''") and "private=True" in quota.params["text"]
        meme = await answer_to(api, api.message(GROUP, BOB, "/party@ReelsmithBot top text | bottom"))
        assert "args='top text | bottom'" in meme.params["text"] and "private=False" in meme.params["text"]
    finally:
        await bot.stop()


async def test_group_commands_addressed_to_us_or_nobody(api: FakeBotAPI, bot: TelegramBot,
                                                        service: Reelsmith) -> None:
    ours = api.message(GROUP, ALICE, "/imagine@ReelsmithBot a fox in a group")
    assert "Queued" in (await answer_to(api, ours)).params["text"]
    other_bot = api.message(GROUP, ALICE, "/imagine@SomeOtherBot a cat")
    unknown = api.message(GROUP, ALICE, "/weather berlin")  # another bot's command: stay quiet
    unknown_to_us = api.message(GROUP, ALICE, "/weather@ReelsmithBot berlin")
    assert "Unknown command /weather" in (await answer_to(api, unknown_to_us)).params["text"]
    plain = api.message(ALICE, ALICE, "hello there")
    assert "/help" in (await answer_to(api, plain)).params["text"]
    assert api.replies_to(other_bot) == [] and api.replies_to(unknown) == []
    assert await service.queue.depth() == 1


@pytest.mark.parametrize("text,expected", [
    ("/imagine", "needs a prompt"),
    ("/imagine fox --ar banana", "--ar must look like"),
    ("/imagine fox --wings 3", "Unknown flag --wings"),
    ("/edit make it snowy", "needs an image"),
    ("/animate dance", "needs an image"),
])
async def test_bad_input_is_answered_and_costs_nothing(api: FakeBotAPI, bot: TelegramBot, service: Reelsmith,
                                                       text: str, expected: str) -> None:
    answer = await answer_to(api, api.message(ALICE, ALICE, text))
    assert expected in answer.params["text"]
    assert await service.queue.depth() == 0


class _Credits:
    """A guard like the quota feature: takes a credit, and gives it back when a later guard refuses."""

    def __init__(self) -> None:
        self.taken = 0

    async def check(self, request: GenerationRequest, ctx: ChatContext) -> None:
        self.taken += 1

    async def undo(self, request: GenerationRequest) -> None:
        self.taken -= 1


class _Refuse:
    """A guard like quota-reached or the prompt blocklist: refuses with a message for the member."""

    def __init__(self, message: str) -> None:
        self.message = message

    async def check(self, request: GenerationRequest, ctx: ChatContext) -> None:
        raise Refusal(self.message, "quota")

    async def undo(self, request: GenerationRequest) -> None:
        pass


@pytest.mark.parametrize("message", [
    "You've used all 10 credits for today; they refill at 00:00 UTC.",
    "That prompt isn't allowed here. Change it and try again.",
])
async def test_guard_refusals_are_answered_and_cost_nothing(api: FakeBotAPI, bot: TelegramBot,
                                                            service: Reelsmith, message: str) -> None:
    credits = _Credits()
    service.guards.extend([GuardSpec(credits, order=1000), GuardSpec(_Refuse(message), order=1001)])
    answer = await answer_to(api, api.message(ALICE, ALICE, "/imagine a fox"))
    assert message in answer.params["text"]
    assert await service.queue.depth() == 0 and credits.taken == 0


async def test_moderator_context_from_chat_admins_cached(api: FakeBotAPI, service: Reelsmith) -> None:
    service.add_command("whoami", _echo_command("whoami"))
    service.settings.moderator_ids = ["telegram:1003"]
    api.set_member(GROUP, ALICE, "administrator")
    api.set_member(GROUP, BOB, "member")
    bot = TelegramBot(service)
    await bot.start()
    try:
        first = await answer_to(api, api.message(GROUP, ALICE, "/whoami"))
        second = await answer_to(api, api.message(GROUP, ALICE, "/whoami@ReelsmithBot"))
        member = await answer_to(api, api.message(GROUP, BOB, "/whoami"))
        configured = await answer_to(api, api.message(1003, 1003, "/whoami"))
        private_member = await answer_to(api, api.message(BOB, BOB, "/whoami"))
    finally:
        await bot.stop()
    assert "moderator=True" in first.params["text"] and "moderator=True" in second.params["text"]
    assert "moderator=False" in member.params["text"]
    assert "moderator=True" in configured.params["text"] and "private=True" in configured.params["text"]
    assert "moderator=False" in private_member.params["text"]
    lookups = [(c.params["chat_id"], c.params["user_id"]) for c in api.sent("getChatMember")]
    assert lookups == [(str(GROUP), str(ALICE)), (str(GROUP), str(BOB))]  # cached per chat; none in private


async def test_progress_edits_the_status_message(api: FakeBotAPI, bot: TelegramBot, service: Reelsmith) -> None:
    msg = api.message(ALICE, ALICE, "/imagine a slow fox")
    status = await answer_to(api, msg)
    [job_id] = [j.decode() for j in await service.redis.zrange(service.settings.queue_name, 0, -1)]
    request = await service.queue.load_request(job_id)
    assert request is not None
    bus = ReplyBus(service.redis, service.settings)
    await bus.publish_progress(Progress(job_id=job_id, requester=request.requester, state="running",
                                        step=3, total_steps=10))
    edits = await until(lambda: api.sent("editMessageText"))
    assert edits[0].params["message_id"] == str(status.result["message_id"])
    assert "30%" in edits[0].params["text"] and "step 3/10" in edits[0].params["text"]
    assert "[######" in edits[0].params["text"]


async def test_first_of_several_images_ready_is_said_while_the_album_waits(api: FakeBotAPI, bot: TelegramBot,
                                                                          service: Reelsmith) -> None:
    """An album goes out whole (sendMediaGroup), so the first ready image is announced, not posted alone."""
    status = await answer_to(api, api.message(ALICE, ALICE, "/imagine a fox --n 4"))
    [job_id] = [j.decode() for j in await service.redis.zrange(service.settings.queue_name, 0, -1)]
    request = await service.queue.load_request(job_id)
    assert request is not None
    first = MediaFile(blob_key="b1", mime="image/jpeg", filename=f"reelsmith-{job_id}-1.jpg", size=1, width=64,
                      height=64)
    await ReplyBus(service.redis, service.settings).publish_progress(Progress(
        job_id=job_id, requester=request.requester, state="encoding", step=1, total_steps=4, media=[first]))
    edits = await until(lambda: api.sent("editMessageText"))
    assert edits[0].params["message_id"] == str(status.result["message_id"])
    assert "1 of 4 images ready" in edits[0].params["text"]
    assert not api.sent("sendPhoto") and not api.sent("sendMediaGroup")


async def test_progress_edits_are_throttled_per_chat(api: FakeBotAPI, bot: TelegramBot,
                                                     service: Reelsmith) -> None:
    bot.delivery.settings = service.settings.model_copy(update={"telegram_group_edit_interval_s": 60.0})
    await answer_to(api, api.message(GROUP, ALICE, "/imagine a fox"))
    await answer_to(api, api.message(GROUP, BOB, "/imagine a cat"))
    jobs = [j.decode() for j in await service.redis.zrange(service.settings.queue_name, 0, -1)]
    bus = ReplyBus(service.redis, service.settings)
    for step in range(1, 6):
        for job_id in jobs:
            request = await service.queue.load_request(job_id)
            assert request is not None
            await bus.publish_progress(Progress(job_id=job_id, requester=request.requester, state="running",
                                                step=step, total_steps=10))
    stream = service.settings.key("replies", "telegram")
    await until_async_empty(service, stream)
    # Ten updates for two jobs in one group inside a minute: one edit (Telegram allows 20 msgs/min per group).
    assert len(api.sent("editMessageText")) == 1


async def until_async_empty(service: Reelsmith, stream: str) -> None:
    from tests.conftest import wait_for

    async def drained() -> bool:
        return int(await service.redis.xlen(stream)) == 0
    await wait_for(drained)


async def test_run_start_is_what_the_cli_calls(api: FakeBotAPI, service: Reelsmith) -> None:
    from bots.telegram.run import start

    running = await start(service)
    try:
        answer = await answer_to(api, api.message(ALICE, ALICE, "/help"))
        assert "/imagine" in answer.params["text"]
    finally:
        await running.stop()


async def test_run_start_explains_a_rejected_token(api: FakeBotAPI, service: Reelsmith) -> None:
    from pydantic import SecretStr

    from bots.telegram.run import start

    service.settings.telegram_token = SecretStr("123:wrong-token-for-this-test")
    with pytest.raises(SystemExit, match="@BotFather"):
        await start(service)


async def test_a_failing_handler_is_answered_and_the_bot_keeps_going(api: FakeBotAPI, service: Reelsmith) -> None:
    async def broken(call: CommandCall) -> Outcome:
        raise RuntimeError("feature bug")

    service.add_command("broken", broken)
    bot = TelegramBot(service)
    await bot.start()
    try:
        oops = await answer_to(api, api.message(ALICE, ALICE, "/broken"))
        assert "something went wrong" in oops.params["text"] and "nothing was charged" in oops.params["text"]
        after = await answer_to(api, api.message(ALICE, ALICE, "/help"))
        assert "/imagine" in after.params["text"]
    finally:
        await bot.stop()


MOD_COMMANDS = ["/mod pause", "/mod resume", "/mod status", "/mod bans", "/mod ban 1002 1h spam", "/mod unban 1002",
                "/mod blocklist add dragons", "/mod blocklist list", "/mod blocklist remove dragons", "/mod queue",
                "/mod audit 3", "/mod quota usage 1002", "/mod channel off", "/mod channel on", "/mod nsfw off",
                "/mod audio off", "/mod avatars"]


async def test_real_mod_commands_need_a_chat_admin(api: FakeBotAPI, service: Reelsmith) -> None:
    # The moderation module itself (no stand-in): rights come from getChatMember in this group.
    api.set_member(GROUP, ALICE, "administrator")
    api.set_member(GROUP, BOB, "member")
    bot = TelegramBot(service)
    await bot.start()
    try:
        for command in MOD_COMMANDS:
            refused = await answer_to(api, api.message(GROUP, BOB, command))
            assert "Only this chat's moderators" in refused.params["text"], (command, refused.params["text"])
            allowed = await answer_to(api, api.message(GROUP, ALICE, command))
            assert not allowed.params["text"].startswith("\u26a0"), (command, allowed.params["text"])
    finally:
        await bot.stop()


async def test_nothing_is_queued_or_charged_for_a_chat_the_bot_cannot_post_to(api: FakeBotAPI, bot: TelegramBot,
                                                                              service: Reelsmith) -> None:
    # Issue 15: a job for a chat that blocked (or removed) the bot was rendered and charged, then not delivered.
    api.block(ALICE)
    api.message(ALICE, ALICE, "/imagine a fox nobody will see")
    await until(lambda: api.attempts("sendChatAction") or api.attempts("sendMessage"))
    assert await service.queue.depth() == 0
    assert await service.redis.keys(service.settings.key("quota", "job", "*")) == []  # nothing reserved
    assert api.sent() == []


async def test_menu_lists_every_command_core_answers(api: FakeBotAPI, bot: TelegramBot, service: Reelsmith) -> None:
    # Issue 15: the menu was a hard-coded list that left out /meme; now it is the grammar's commands and the
    # features' (/quota, /mod, /verify, /avatar ...), each once, with its line from /help.
    from core.service.grammar import COMMANDS

    menu = api.menu()
    entries = {c["command"]: c["description"] for c in menu.json("commands")}
    assert set(entries) == set(COMMANDS) | set(service.commands)
    assert "meme" in entries and entries["quota"] == service.command_help["quota"]
