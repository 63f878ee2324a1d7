"""Inline mode end to end through the fake Bot API, a real Redis and a real worker: `@ReelsmithBot <prompt>` is
answered with Generate results (no job runs for a query) plus the member's recent results as cached file_ids;
choosing Generate runs the job through the service and edits the inline message into the labelled media, by a
file_id (Telegram takes no uploads for inline messages); a refusal edits it with the reason and costs nothing."""

from __future__ import annotations

from typing import Any

from bots.telegram.app import TelegramBot
from bots.telegram.inline import GENERATE
from core.moderation.blocklist import Blocklists
from core.quotas.book import QuotaBook
from core.service.facade import Reelsmith
from tests.telegram.conftest import ALICE, GROUP, until
from tests.telegram.fake_api import FakeBotAPI


async def _answer(api: FakeBotAPI, user: int, query: str) -> tuple[str, list[dict[str, Any]]]:
    query_id = api.inline_query(user, query)
    call = await until(lambda: api.inline_answers.get(query_id))
    return query_id, call.json("results")


async def _used(service: Reelsmith) -> int:
    return (await QuotaBook(service.redis, service.settings).usage("telegram", str(ALICE))).used


async def test_query_offers_generate_and_recent_results_without_running_a_job(
        api: FakeBotAPI, bot: TelegramBot, service: Reelsmith, worker: Any) -> None:
    api.message(GROUP, ALICE, "/imagine@ReelsmithBot a red fox")
    [photo] = await until(lambda: api.sent("sendPhoto"), timeout=90)
    file_id = photo.result["photo"][-1]["file_id"]
    used = await _used(service)

    _query_id, results = await _answer(api, ALICE, "a corgi surfing")
    generate = [r for r in results if r["id"].startswith(GENERATE)]
    assert [r["type"] for r in generate] == ["article", "article"]
    assert all("inline_keyboard" in r["reply_markup"] for r in generate)  # else no inline_message_id comes back
    assert "a corgi surfing" in generate[0]["input_message_content"]["message_text"]
    cached = [r for r in results if r["type"] == "photo"]
    assert [r["photo_file_id"] for r in cached] == [file_id]
    assert cached[0]["caption"].startswith("\U0001f916 AI-generated")
    answer = api.inline_answers[_query_id]
    assert answer.params["is_personal"] == "true"
    # Answering queued nothing and cost nothing.
    assert await service.redis.zcard(service.settings.queue_name) == 0
    assert await _used(service) == used


async def test_chosen_generate_edits_the_inline_message_into_labelled_media(
        api: FakeBotAPI, bot: TelegramBot, service: Reelsmith, worker: Any) -> None:
    query_id, _results = await _answer(api, ALICE, "a corgi surfing --seed 3")
    inline_id = api.choose(ALICE, query_id, f"{GENERATE}imagine")
    assert inline_id is not None
    message = api.inline_messages[inline_id]
    await until(lambda: "media" in message, timeout=90)

    assert message["media"]["type"] == "photo"
    assert message["media"]["media"] in api.bot_files  # a file_id the bot got by uploading first
    caption = message["caption"]
    assert caption.startswith("\U0001f916 AI-generated with Reelsmith") and "seed 3" in caption
    assert "inline_keyboard" in message["reply_markup"]
    # The upload went to the member's private chat (their copy), labelled inside the file too.
    [upload] = api.sent("sendPhoto", chat_id=ALICE)
    assert b"trainedAlgorithmicMedia" in upload.upload("photo")
    assert all(c.ok for c in api.attempts("editMessageMedia"))
    assert await _used(service) > 0  # charged as in chat


async def test_blocked_prompt_edits_the_inline_message_with_the_reason_and_costs_nothing(
        api: FakeBotAPI, bot: TelegramBot, service: Reelsmith, worker: Any) -> None:
    await Blocklists(service.redis, service.settings).add("dragons")
    query_id, _results = await _answer(api, ALICE, "three dragons at dawn")
    inline_id = api.choose(ALICE, query_id, f"{GENERATE}imagine")
    assert inline_id is not None
    message = api.inline_messages[inline_id]
    await until(lambda: "Making it" not in message["text"])

    assert "blocked" in message["text"].lower() or "blocklist" in message["text"].lower(), message["text"]
    assert "media" not in message
    assert await _used(service) == 0
    assert await service.redis.zcard(service.settings.queue_name) == 0
    assert api.sent("sendPhoto") == []


async def test_member_without_a_private_chat_is_told_to_start_one_and_nothing_runs(
        api: FakeBotAPI, bot: TelegramBot, service: Reelsmith) -> None:
    api.block(ALICE)  # never started the bot (or blocked it): nowhere to upload the result for its file_id
    query_id, _results = await _answer(api, ALICE, "a corgi surfing")
    inline_id = api.choose(ALICE, query_id, f"{GENERATE}video")
    assert inline_id is not None
    message = api.inline_messages[inline_id]
    await until(lambda: "Making it" not in message["text"])

    assert "press Start" in message["text"] and "Nothing was charged" in message["text"]
    assert await _used(service) == 0
    assert await service.redis.zcard(service.settings.queue_name) == 0


async def test_inline_mode_speaks_the_members_app_language(
        api: FakeBotAPI, bot: TelegramBot, service: Reelsmith, worker: Any) -> None:
    query_id = api.inline_query(ALICE, "a corgi surfing --seed 3", language_code="ja")
    results = (await until(lambda: api.inline_answers.get(query_id))).json("results")
    generate = [r for r in results if r["id"].startswith(GENERATE)]
    assert [r["title"] for r in generate] == ["\U0001f5bc\ufe0f 画像を生成", "\U0001f39e\ufe0f 動画を生成"]
    assert generate[0]["input_message_content"]["message_text"] == "\u23f3 作成中: a corgi surfing --seed 3"
    [[button]] = generate[0]["reply_markup"]["inline_keyboard"]
    assert button["text"] == "\u270f\ufe0f 新しいプロンプト"
    empty = api.inline_query(ALICE, "", language_code="ko")
    assert (await until(lambda: api.inline_answers.get(empty))).json("button")["text"] == (
        "프롬프트를 입력하세요. 예: a corgi surfing")

    inline_id = api.choose(ALICE, query_id, f"{GENERATE}imagine")
    assert inline_id is not None
    message = api.inline_messages[inline_id]
    await until(lambda: "media" in message, timeout=90)
    assert message["caption"].startswith("\U0001f916 AI生成"), message["caption"]  # the result, in her language
    assert message["reply_markup"]["inline_keyboard"][0][0]["text"] == "\u270f\ufe0f 新しいプロンプト"


async def test_inline_start_a_chat_first_in_the_members_language(
        api: FakeBotAPI, bot: TelegramBot, service: Reelsmith) -> None:
    api.block(ALICE)
    query_id = api.inline_query(ALICE, "a corgi surfing", language_code="de")
    await until(lambda: api.inline_answers.get(query_id))
    inline_id = api.choose(ALICE, query_id, f"{GENERATE}video")
    assert inline_id is not None
    message = api.inline_messages[inline_id]
    await until(lambda: "Wird erstellt" not in message["text"])
    assert message["text"].startswith("\u26a0\ufe0f Ich kann dir noch keine Ergebnisse in Inline-Nachrichten setzen")
    assert message["text"].endswith("Es wurde nichts berechnet.")
