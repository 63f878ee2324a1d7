"""Moderation fixtures: a service with moderation installed on a fake clock, a fake quota store, people."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from core.context import ChatContext
from core.contract import Feature
from core.moderation import Moderation, moderation_feature
from core.queue.connection import connect
from core.service.facade import Reelsmith
from core.settings import Settings
from core.types import GenerationReply, GenerationRequest, Requester

DATA = Path(__file__).parent / "data"
async def everyone_is_a_member(_user_id: str) -> bool:
    """The adapter's membership answer for room1, where every member the tests name belongs."""
    return True


MOD_CTX = ChatContext(is_moderator=True, channel_id="general", is_member=everyone_is_a_member)
MEMBER_CTX = ChatContext(is_moderator=False, channel_id="general")


def person(user: str, chat: str = "room1", platform: str = "web") -> Requester:
    return Requester(platform=platform, user_id=user, chat_id=chat, display_name=user.title())


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class FakeQuota:
    """Satisfies core.moderation.toolkit.QuotaAdmin; records calls."""

    calls: list[tuple[str, str, str, str, int]] = field(default_factory=list)

    async def set_limit(self, platform: str, chat_id: str, user_id: str, limit: int) -> str:
        self.calls.append(("set", platform, chat_id, user_id, limit))
        return f"{user_id} may now make {limit} a day."

    async def grant(self, platform: str, chat_id: str, user_id: str, credits: int) -> str:
        self.calls.append(("grant", platform, chat_id, user_id, credits))
        return f"Granted {credits} credits to {user_id}."

    async def usage(self, platform: str, chat_id: str, user_id: str) -> str:
        self.calls.append(("usage", platform, chat_id, user_id, 0))
        return f"{user_id} used 3 of 10 today."


@dataclass
class Rig:
    service: Reelsmith
    mod: Moderation
    clock: FakeClock
    quota: FakeQuota
    finalized: list[tuple[GenerationRequest, GenerationReply]]


@pytest.fixture
def mod_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"owner_ids": ["web:owner", "telegram:owner"]})


@pytest.fixture
async def rig(mod_settings: Settings) -> AsyncIterator[Rig]:
    redis = await connect(mod_settings)
    clock, quota = FakeClock(), FakeQuota()
    finalized: list[tuple[GenerationRequest, GenerationReply]] = []

    async def finalizer(request: GenerationRequest, reply: GenerationReply) -> None:
        finalized.append((request, reply))

    mod = Moderation.build(mod_settings, redis, quota=quota, clock=clock)
    service = Reelsmith(mod_settings, redis, [moderation_feature(mod), Feature("probe", finalizers=(finalizer,))])
    yield Rig(service, mod, clock, quota, finalized)
    await redis.aclose()
