"""Replies in the member's language: Discord's `interaction.locale` picks the catalog, through the real client."""

from __future__ import annotations

from typing import Any

from bots.discord.client import ReelsmithBot
from core.service.facade import Reelsmith
from tests.discord.conftest import callback, finished, png, private_answer
from tests.discord.fake_discord import FakeDiscord


def labels(msg: Any) -> list[str]:
    return [c["label"] for row in msg.payload.get("components", []) for c in row.get("components", [])
            if "label" in c]


async def test_a_portuguese_member_gets_status_caption_and_buttons_in_portuguese(
        fake: FakeDiscord, bot: ReelsmithBot, worker: Any) -> None:
    token = await fake.slash("imagine", {"prompt": "uma raposa vermelha", "seed": 7}, locale="pt-BR")
    msg = await finished(fake, token)
    assert msg.history[0].startswith("\u23f3 Na fila (posição")
    label, prompt = msg.content.split("\n", 1)
    assert label.startswith("\U0001f916 Gerado por AI com Reelsmith") and "semente 7" in label
    assert prompt == "\u201cuma raposa vermelha\u201d"  # the prompt as typed
    assert {"Refazer", "Variações", "Animar", "Denunciar"} <= {x.split(" ", 1)[-1] for x in labels(msg)}


async def test_help_and_a_flag_error_in_portuguese_while_others_read_english(
        fake: FakeDiscord, bot: ReelsmithBot) -> None:
    help_pt = await private_answer(fake, await fake.slash("help", locale="pt-BR"))
    assert "/imagine <prompt> - uma imagem a partir de texto" in help_pt.content
    bad = await private_answer(fake, await fake.slash("imagine", {"prompt": "a fox --bogus 3"}, locale="pt-BR"))
    assert "Opção desconhecida --bogus" in bad.content
    help_en = await private_answer(fake, await fake.slash("help", locale="en-GB"))
    assert "/imagine <prompt> - an image from text" in help_en.content


async def test_command_descriptions_are_localised_names_stay_english(fake: FakeDiscord, bot: ReelsmithBot) -> None:
    registered = {c["name"]: c for c in fake.registered["global"]}
    imagine, quota = registered["imagine"], registered["quota"]
    assert imagine["description"] == "Make an image from text"
    assert imagine["description_localizations"]["pt-BR"] == "Criar uma imagem a partir de texto"
    assert imagine["description_localizations"]["ja"] == "テキストから画像を作成"
    assert quota["description_localizations"]["de"].startswith("Deine restlichen Credits")
    assert quota["description_localizations"]["zh-CN"].startswith("你的剩余额度")
    assert "zh-TW" not in quota["description_localizations"]  # Traditional Chinese is not shipped: English
    # Slash command and option names stay English (members type them); message menus are picked, so translated.
    assert not any(c.get("name_localizations") for c in registered.values() if c.get("type", 1) == 1)
    assert not any(o.get("name_localizations") for c in registered.values() for o in c.get("options", []))


async def test_option_descriptions_and_message_menus_are_localised(fake: FakeDiscord, bot: ReelsmithBot) -> None:
    registered = {c["name"]: c for c in fake.registered["global"]}
    options = {o["name"]: o for o in registered["imagine"]["options"]}
    assert options["ar"]["description"] == "Aspect ratio"
    assert options["ar"]["description_localizations"]["ja"] == "アスペクト比"
    assert options["seed"]["description_localizations"]["de"] == "Seed, für wiederholbare Ergebnisse"
    assert options["prompt"]["description_localizations"]["ru"] == "Что создать, например a corgi surfing at sunset"
    assert "zh-TW" not in options["ar"]["description_localizations"]
    assert [c["name"] for c in options["ar"]["choices"]][:1] == ["1:1"]  # nothing to translate: ratios as typed
    file_option = {o["name"]: o for o in registered["quota"]["options"]}["file"]
    assert file_option["description_localizations"]["pt-BR"] == "Um arquivo opcional"
    edit_this = registered["Edit this"]
    assert edit_this["type"] == 3 and edit_this["name_localizations"]["ko"] == "이것 편집"
    assert edit_this["name_localizations"]["es-ES"] == "Editar esto"


async def test_a_download_refusal_reads_in_the_members_language(fake: FakeDiscord, bot: ReelsmithBot,
                                                                service: Reelsmith) -> None:
    """Refused by the adapter itself (the declared size, before anything is fetched), in Japanese."""
    service.settings.max_reference_bytes = 4000
    token = await fake.slash("edit", {"prompt": "x"}, files={"image": ("big.png", png() + b"\0" * 8000, "image/png")},
                             declared_size=9000, locale="ja")
    answer = await private_answer(fake, token)
    assert answer.content.startswith("\u26a0") and "big.png のサイズは" in answer.content and "上限は 4 KB" in \
        answer.content, answer.content


async def test_a_message_menu_on_a_message_without_an_image_refuses_in_the_members_language(
        fake: FakeDiscord, bot: ReelsmithBot) -> None:
    no_image = {"id": str(fake.snowflake()), "channel_id": "930000000000000001", "author": {
        "id": "1", "username": "bob", "discriminator": "0", "avatar": None}, "content": "look", "timestamp":
        "2026-01-01T00:00:00+00:00", "edited_timestamp": None, "tts": False, "mention_everyone": False,
        "mentions": [], "mention_roles": [], "attachments": [], "embeds": [], "pinned": False, "type": 0}
    refused = await callback(fake, await fake.message_command("Animate this", no_image, locale="ja"), kind=4)
    assert refused["data"]["flags"] == 64
    assert refused["data"]["content"] == ("\u26a0\ufe0f そのメッセージには画像がありません。"
                                          "画像が添付されたメッセージで使ってください。")
