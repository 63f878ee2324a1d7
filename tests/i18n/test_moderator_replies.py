"""`/mod` and `/consent` answer each moderator and member in their own language through the real service (real
Redis), while English stays as it was."""

from __future__ import annotations

from core.context import ChatContext
from core.ops.usage import gpu_key
from core.queue.connection import connect
from core.service.facade import Reelsmith
from core.service.features import build_service
from core.settings import Settings
from core.types import Requester


async def _everyone(_user_id: str) -> bool:
    return True


MOD = ChatContext(is_moderator=True, channel_id="general", is_member=_everyone)


def person(locale: str, user: str = "mod1") -> Requester:
    return Requester(platform="web", user_id=user, chat_id="room1", locale=locale)


async def test_ban_and_switch_answers_in_the_moderators_language(service: Reelsmith) -> None:
    ban = await service.handle(person("de"), "/mod ban bob 2h spamming", ctx=MOD)
    assert ban.ok and ban.text == "\U0001f6ab bob ist noch 2 Std. lang gesperrt (spamming).", ban.text
    assert "ist noch 2 Std. lang gesperrt" in (await service.handle(person("de"), "/mod bans", ctx=MOD)).text
    assert "bob заблокирован ещё на 2 ч" in (await service.handle(person("ru"), "/mod bans", ctx=MOD)).text
    refused = await service.handle(person("ja", "bob"), "/imagine a fox")
    assert not refused.ok and "（残り 2 時間）" in refused.text, refused.text  # the member's own units
    paused = await service.handle(person("ja"), "/mod pause", ctx=MOD)
    assert paused.text.endswith("このチャットでの生成を一時停止しました。")
    status = await service.handle(person("ru"), "/mod status", ctx=MOD)
    assert status.text.splitlines() == ["Глобальный аварийный выключатель выключен.", "генерация приостановлена"]
    english = await service.handle(person("en"), "/mod status", ctx=MOD)
    assert english.text.splitlines() == ["Global kill switch is off.", "generation is paused"]


async def test_blocklist_help_and_refusals_in_the_moderators_language(service: Reelsmith) -> None:
    added = await service.handle(person("es"), "/mod blocklist add dragons", ctx=MOD)
    assert added.text == "Se añadió «dragons» a la lista de bloqueo de este chat."
    bad = await service.handle(person("ko"), "/mod blocklist add re:", ctx=MOD)
    assert not bad.ok and "그 정규식은 빈 텍스트와도 일치하므로" in bad.text
    help_text = await service.handle(person("pt-BR"), "/mod help", ctx=MOD)
    assert help_text.text.startswith("Comandos de moderação (só este chat; no Discord, este servidor):")
    assert "/mod ban <user> [30m|2h|7d|1w] [reason] - impede um membro de gerar aqui" in help_text.text
    member = await service.handle(person("zh-Hans", "mallory"), "/mod pause", ctx=ChatContext(is_moderator=False))
    assert not member.ok and "只有本聊天的管理员才能使用 /mod pause。" in member.text
    avatar = await service.handle(person("de"), "/mod avatar approve bob", ctx=MOD)
    assert not avatar.ok and "Avatar-Entscheidungen gelten überall auf web." in avatar.text


async def test_consent_answers_in_the_members_language(service: Reelsmith) -> None:
    listed = await service.handle(person("ru", "alice"), "/consent list")
    assert listed.text == ("Участники, которым можно использовать вашу внешность: никого.\n"
                           "Участники, чью внешность можете использовать вы: никого.")
    own = await service.handle(person("ja", "alice"), "/consent grant alice")
    assert not own.ok and "自分の顔に許可は要りません" in own.text


async def test_mod_quota_answers_in_the_moderators_language(service: Reelsmith) -> None:
    granted = await service.handle(person("de"), "/mod quota grant bob 3", ctx=MOD)
    assert granted.ok and granted.text.startswith("bob hat für den aktuellen Zeitraum 3 zusätzliche Credits"), granted
    assert granted.text.endswith("Sie zählen, sobald dieser Chat ein Limit für bob festlegt (/mod quota set).")
    limited = await service.handle(person("ru"), "/mod quota set bob 5", ctx=MOD)
    assert limited.text.startswith("У пользователя bob теперь 5 кредитов в день в этом чате;"), limited.text
    usage = await service.handle(person("ko"), "/mod quota usage bob", ctx=MOD)
    assert usage.text.startswith("이 채팅의 사용자 bob(오늘): 여기서 크레딧 0 사용. 이 채팅의 한도: "), usage.text
    english = await service.handle(person("en"), "/mod quota set bob 1", ctx=MOD)
    assert english.text.startswith("User bob now has 1 credit per day in this chat;"), english.text


async def test_mod_usage_gpu_minutes_in_the_owners_language(settings: Settings) -> None:
    s = settings.model_copy(update={"owner_ids": ["web:boss"]})
    redis = await connect(s)
    # What the worker's finalizer records for two finished jobs (core.ops.usage.record_gpu).
    await redis.hset(gpu_key(s, "web"), mapping={"default:seconds": "90", "default:jobs": "2"})
    try:
        text = (await build_service(s, redis).handle(person("ja", "boss"), "/mod usage", ctx=MOD)).text
    finally:
        await redis.aclose()
    assert "web の GPU 時間（累計、完了したジョブのレンダリング時間）:" in text, text
    assert "- default: 1.5 GPU 分、ジョブ 2 件" in text and "合計: 1.5 GPU 分。" in text, text


async def test_mod_queue_and_audit_lines_in_the_moderators_language(service: Reelsmith) -> None:
    queued = await service.handle(person("en", "bob"), "/imagine a red fox")
    assert queued.ok and queued.job_id
    listing = await service.handle(person("es"), "/mod queue", ctx=MOD)
    assert listing.text == f"{queued.job_id} en cola: imagen de bob: a red fox", listing.text
    english = await service.handle(person("en"), "/mod queue", ctx=MOD)
    assert english.text == f"{queued.job_id} queued image by bob: a red fox"
    await service.handle(person("de"), "/mod pause", ctx=MOD)
    audit = await service.handle(person("de"), "/mod audit 1", ctx=MOD)
    assert audit.text.endswith(" UTC Aktion paused on von mod1"), audit.text
    russian = await service.handle(person("ru"), "/mod audit 1", ctx=MOD)
    assert russian.text.endswith(" UTC действие paused on, автор mod1"), russian.text
