"""Replies in the member's language: Telegram's `language_code` picks the catalog, menus per language."""

from __future__ import annotations

import pytest

from bots.telegram.app import TelegramBot
from core.service.facade import Reelsmith
from core.settings import Settings
from tests.telegram.conftest import ALICE, BOB, answer_to
from tests.telegram.fake_api import FakeBotAPI


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"quota_credits": 0})  # every generation is refused for credits


async def test_help_and_a_quota_refusal_in_japanese(api: FakeBotAPI, bot: TelegramBot) -> None:
    help_text = (await answer_to(api, api.message(ALICE, ALICE, "/help", language_code="ja"))).params["text"]
    assert "/imagine <prompt> - テキストから画像" in help_text
    assert "/quota - 残りクレジット" in help_text  # a feature's command line, translated too
    refused = (await answer_to(api, api.message(ALICE, ALICE, "/imagine 赤いキツネ",
                                                language_code="ja"))).params["text"]
    assert "この画像には 1 クレジットかかります" in refused and "今日残り 0" in refused
    assert "credit" not in refused


async def test_each_member_reads_their_own_language(api: FakeBotAPI, bot: TelegramBot) -> None:
    german = (await answer_to(api, api.message(BOB, BOB, "/imagine a fox --steps many", language_code="de-DE")))
    english = (await answer_to(api, api.message(ALICE, ALICE, "/imagine a fox --steps many")))
    assert "--steps muss eine ganze Zahl sein, nicht 'many'" in german.params["text"]
    assert "--steps must be a whole number, not 'many'" in english.params["text"]


async def test_a_language_not_shipped_reads_english(api: FakeBotAPI, bot: TelegramBot) -> None:
    answer = await answer_to(api, api.message(ALICE, ALICE, "/help", language_code="fr"))
    assert answer.params["text"].startswith("Reelsmith makes AI images")


async def test_command_menus_per_language_code(api: FakeBotAPI, bot: TelegramBot, service: Reelsmith) -> None:
    default = {c["command"]: c["description"] for c in api.menu().json("commands")}
    assert default["imagine"] == "an image from text"
    for code, imagine in (("ja", "テキストから画像"), ("zh", "根据文字生成图片"),
                          ("pt", "uma imagem a partir de texto"), ("ru", "изображение по тексту"),
                          ("de", "ein Bild aus Text"), ("ko", "텍스트로 이미지 만들기"),
                          ("es", "una imagen a partir de texto")):
        menu = {c["command"]: c["description"] for c in api.menu(code).json("commands")}
        assert list(menu) == list(default)  # names stay English: members type them
        assert menu["imagine"] == imagine
        assert menu["quota"] != default["quota"]


async def test_download_refusals_are_whole_sentences_in_the_members_language(api: FakeBotAPI, bot: TelegramBot,
                                                                             service: Reelsmith) -> None:
    big = api.document(b"\x00" * 100, "huge.mp4", "video/mp4", size=25 * 1024 * 1024)
    russian = await answer_to(api, api.message(ALICE, ALICE, caption="/animate wave", media=big, language_code="ru"))
    assert ("Этот файл весит 25.0 MB. Telegram позволяет ботам скачивать файлы размером до 20 MB. Отправьте файл "
            "поменьше или сжатый") in russian.params["text"]
    api.fail_next("getFile", status=400, description="Bad Request: wrong file_id or the file is temporarily "
                                                     "unavailable")
    photo = await answer_to(api, api.message(BOB, BOB, caption="/edit fix it", media=api.photo(b"\xff\xd8\xff"),
                                             language_code="pt-br"))
    assert photo.params["text"].endswith("O Telegram não quis me entregar essa foto. Envie de novo, por favor.")
    english = await answer_to(api, api.message(ALICE, ALICE, caption="/animate wave", media=big))
    assert english.params["text"].startswith("\u26a0\ufe0f That file is 25.0 MB. Telegram lets bots download files")
    assert await service.queue.depth() == 0


async def test_the_adapters_own_hint_in_the_senders_language(api: FakeBotAPI, bot: TelegramBot) -> None:
    hint = await answer_to(api, api.message(ALICE, ALICE, "hallo", language_code="de"))
    assert hint.params["text"] == ("Schick /imagine <prompt> für ein Bild, /video <prompt> für einen Clip oder /help "
                                   "für alles.")
