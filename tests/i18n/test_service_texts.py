"""Core's answers follow `Requester.locale` whichever adapter sent the command (real Redis, real service)."""

from __future__ import annotations

from core.context import ChatContext
from core.service.facade import Reelsmith
from core.types import Requester


def member(locale: str) -> Requester:
    return Requester(platform="test", user_id="u1", chat_id="c1", locale=locale)


async def test_mod_answers_in_the_moderators_language(service: Reelsmith) -> None:
    mod = ChatContext(is_moderator=True)
    assert (await service.handle(member("ru"), "/mod bans", ctx=mod)).text == "Здесь никто не заблокирован."
    assert (await service.handle(member("ko"), "/mod queue", ctx=mod)).text == \
        "이 채팅에 대기 중이거나 진행 중인 작업이 없습니다."
    assert (await service.handle(member(""), "/mod bans", ctx=mod)).text == "Nobody is banned here."


async def test_unknown_button_and_bad_command_in_the_members_language(service: Reelsmith) -> None:
    pressed = await service.action(member("es"), ChatContext(), "rs:nope:abc")
    assert pressed.text == "No conozco ese botón. Envía un comando nuevo."
    unknown = await service.handle(member("zh-CN"), "/paint a fox")
    assert unknown.text.startswith("\u26a0\ufe0f 未知命令 /paint。")


async def test_the_locale_crosses_the_queue_with_the_request(service: Reelsmith) -> None:
    queued = await service.handle(member("pt-BR"), "/imagine uma raposa")
    assert queued.ok and queued.text.startswith("\u23f3 Na fila")
    assert queued.job_id is not None
    stored = await service.queue.load_request(queued.job_id)
    assert stored is not None and stored.requester.locale == "pt-BR" and stored.prompt == "uma raposa"


def test_status_texts_follow_the_member_language() -> None:
    from core.i18n import use_locale
    from core.service.texts import encoding_text, queued_text

    english = (encoding_text(1, 4), encoding_text(0, 1), queued_text(0, relax=True))
    with use_locale("ja"):
        japanese = (encoding_text(1, 4), encoding_text(0, 1), queued_text(0, relax=True))
    assert japanese[0].endswith("4 枚中 1 枚が完成しました。")
    assert all(ja != en for ja, en in zip(japanese, english, strict=True))
    assert english[0].endswith("1 of 4 images ready.")
