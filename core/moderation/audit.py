"""The audit log: every moderator action, refusal and report, appended to Redis streams.

One global stream (`<prefix>:mod:audit`) for the owners and one per chat for `/mod audit`, each capped
at a configured length. An entry says who (platform, user), what (kind, action, detail), when and where.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from redis.asyncio import Redis

from core.clock import Clock, system_clock
from core.i18n import N_, _
from core.settings import Settings

# How `/mod audit` shows an entry, one whole line per kind (with and without a detail). The action and the detail
# are kept as recorded: actions name the /mod subcommands moderators type, details are English or the text the
# member read.
KIND_LINES = {
    "action": (N_("{when} action {action} by {user_id}"), N_("{when} action {action} by {user_id}: {detail}")),
    "refusal": (N_("{when} refusal {action} by {user_id}"), N_("{when} refusal {action} by {user_id}: {detail}")),
    "denied": (N_("{when} denied {action} by {user_id}"), N_("{when} denied {action} by {user_id}: {detail}")),
    "report": (N_("{when} report {action} by {user_id}"), N_("{when} report {action} by {user_id}: {detail}")),
    "billing": (N_("{when} billing {action} by {user_id}"), N_("{when} billing {action} by {user_id}: {detail}")),
}
OTHER_KIND_LINES = (N_("{when} {kind} {action} by {user_id}"), N_("{when} {kind} {action} by {user_id}: {detail}"))


@dataclass(frozen=True)
class AuditEntry:
    ts: float
    kind: str  # "action" | "refusal" | "denied" | "report"
    platform: str
    chat_id: str
    user_id: str
    action: str
    detail: str

    def line(self) -> str:
        when = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(self.ts))
        plain, detailed = KIND_LINES.get(self.kind, OTHER_KIND_LINES)
        return _(detailed if self.detail else plain, when=when, kind=self.kind, action=self.action,
                 user_id=self.user_id, detail=self.detail)


class AuditLog:
    def __init__(self, redis: Redis, settings: Settings, clock: Clock = system_clock) -> None:
        self.redis = redis
        self.settings = settings
        self.clock = clock

    def global_stream(self) -> str:
        return self.settings.key("mod", "audit")

    def chat_stream(self, platform: str, chat_id: str) -> str:
        return self.settings.key("mod", "audit", platform, chat_id)

    async def record(self, kind: str, platform: str, chat_id: str, user_id: str, action: str,
                     detail: str = "") -> None:
        fields = {"ts": f"{self.clock():.3f}", "kind": kind, "platform": platform, "chat": chat_id,
                  "user": user_id, "action": action, "detail": detail[:500]}
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.xadd(self.global_stream(), fields, maxlen=self.settings.audit_max_len, approximate=True)
            pipe.xadd(self.chat_stream(platform, chat_id), fields, maxlen=self.settings.audit_chat_max_len,
                      approximate=True)
            await pipe.execute()

    async def recent(self, platform: str | None = None, chat_id: str | None = None,
                     count: int = 20) -> list[AuditEntry]:
        """The newest `count` entries of a chat (or of everything), newest first."""
        stream = self.global_stream() if platform is None or chat_id is None else self.chat_stream(platform, chat_id)
        raw = await self.redis.xrevrange(stream, count=count)
        return [self._decode(fields) for _id, fields in raw]

    @staticmethod
    def _decode(fields: dict[bytes, bytes]) -> AuditEntry:
        f = {k.decode(): v.decode() for k, v in fields.items()}
        return AuditEntry(float(f.get("ts", 0)), f.get("kind", ""), f.get("platform", ""), f.get("chat", ""),
                          f.get("user", ""), f.get("action", ""), f.get("detail", ""))
