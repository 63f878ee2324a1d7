"""What `/mod quota set` tells moderators reads as plain English for any window length."""

from __future__ import annotations

from core.quotas.admin import ModeratorQuotas
from tests.quotas.conftest import MakeService


async def test_set_limit_answers_say_how_often_credits_come_back(make_service: MakeService) -> None:
    _service, book = await make_service()
    admin = ModeratorQuotas(book)
    in_chat = await admin.set_limit("web", "room1", "bob", 5)
    overall = await admin.set_limit("web", None, "bob", 7)
    assert in_chat.startswith("User bob now has 5 credits per day in this chat;"), in_chat
    assert overall == "User bob now has 7 overall credits per day.", overall

    _service, book = await make_service(quota_window_s=6 * 3600)
    answer = await ModeratorQuotas(book).set_limit("web", "room1", "bob", 5)
    assert answer.startswith("User bob now has 5 credits per 6 h in this chat;"), answer
    assert (await book.chat_usage("web", "room1", "bob")).limit == 5
