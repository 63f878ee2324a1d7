"""`--model` refusals and `/models` in the member's language, through the real service (real Redis, the default
catalog of tiny models): each refusal is one whole translated sentence per task, not a verb phrase glued in."""

from __future__ import annotations

from core.context import ChatContext
from core.service.facade import Reelsmith
from core.types import Requester


async def _everyone(_user_id: str) -> bool:
    return True


MOD = ChatContext(is_moderator=True, is_member=_everyone)


def member(locale: str) -> Requester:
    return Requester(platform="test", user_id="u1", chat_id="c1", locale=locale)


async def test_a_model_that_cannot_do_the_task_is_refused_in_the_members_language(service: Reelsmith) -> None:
    wrong = await service.handle(member("de"), "/video a fox --model reelsmith-tiny-image")
    assert not wrong.ok and ("Das Modell 'reelsmith-tiny-image' kann keine Videos aus Text erstellen (text-to-video)."
                             in wrong.text)
    assert "Modelle hier, die das können: reelsmith-tiny-video" in wrong.text
    unknown = await service.handle(member("ja"), "/imagine a fox --model nope")
    assert "ここには 'nope' という名前のモデルはありません。" in unknown.text and "使えるモデル: " in unknown.text
    english = await service.handle(member("en"), "/video a fox --model reelsmith-tiny-image")
    assert "The model 'reelsmith-tiny-image' can't make a video from text (text-to-video)." in english.text
    assert await service.queue.depth() == 0


async def test_a_denied_model_and_the_listing_in_the_members_language(service: Reelsmith) -> None:
    denied = await service.handle(member("es"), "/models deny reelsmith-tiny-image", ctx=MOD)
    assert denied.text == ("reelsmith-tiny-image está desactivado en este chat. /models allow reelsmith-tiny-image "
                           "lo vuelve a activar.")
    none_left = await service.handle(member("ru"), "/imagine a fox")
    assert not none_left.ok and none_left.text.endswith(
        "Ни одна модель, доступная вам здесь, не может создать картинку по тексту: reelsmith-tiny-image отключена в "
        "этом чате (модератор может снова включить её командой /models allow reelsmith-tiny-image).")
    listing = await service.handle(member("ko"), "/models")
    assert listing.text.startswith("이곳에서 쓸 수 있는 모델(--model NAME으로 고르세요):")
    assert "이곳에서 꺼짐: reelsmith-tiny-image" in listing.text


async def test_styles_verify_and_style_refusals_in_the_members_language(service: Reelsmith) -> None:
    empty = await service.handle(member("ja"), "/styles")
    assert empty.text == ("このチャットにはまだスタイルがありません。モデレーターが追加できます: /styles add <name> "
                          "<template with {prompt}>")
    added = await service.handle(member("de"), "/styles add noir {prompt}, film noir --no color", ctx=MOD)
    assert added.ok and added.text == "Stil noir hinzugefügt. Verwende ihn mit --style noir."
    listing = await service.handle(member("pt-BR"), "/styles")
    assert listing.text.startswith("Estilos daqui (use --style NAME):") and "evita: color" in listing.text
    unknown = await service.handle(member("es"), "/imagine a fox --style nope")
    assert not unknown.ok and "Aquí no hay ningún estilo 'nope'. Estilos: noir. Mira /styles." in unknown.text
    bad = await service.handle(member("ru"), "/styles add oops no prompt here", ctx=MOD)
    assert not bad.ok and "В шаблоне стиля нужен {prompt} там, где будет промпт участника" in bad.text
    verify = await service.handle(member("ko"), "/verify")
    assert not verify.ok and verify.text.startswith("/verify에 이미지나 동영상을 첨부하면")
