"""`/mod quota ...` on top of a QuotaBook: what chat moderators and owners may set, grant and read."""

from __future__ import annotations

from core.quotas.book import QuotaBook
from core.quotas.texts import limit_text, per_window, quota_text, window_name


class ModeratorQuotas:
    """Satisfies core.moderation.toolkit.QuotaAdmin.

    With a scope, a chat moderator's view: that chat's own limit for the member and what they spent there.
    Without one (`global`, owners): the member's overall credits, which every chat's limits sit under.
    """

    def __init__(self, book: QuotaBook) -> None:
        self.book = book

    def _window(self) -> str:
        return window_name(self.book.settings.quota_window_s)

    def _per_window(self) -> str:
        return per_window(self.book.settings.quota_window_s)

    async def set_limit(self, platform: str, scope: str | None, user_id: str, limit: int | None) -> str:
        if scope is None:
            await self.book.set_budget(platform, user_id, limit)
            if limit is None:
                return f"User {user_id}'s overall credits are their tier's again."
            return f"User {user_id} now has {limit} overall credits {self._per_window()}."
        await self.book.set_member_limit(platform, scope, user_id, limit)
        if limit is None:
            return f"This chat no longer limits user {user_id}; their overall credits still apply."
        return (f"User {user_id} now has {limit} credits {self._per_window()} in this chat; their overall "
                "credits still apply on top.")

    async def grant(self, platform: str, scope: str | None, user_id: str, credits: int) -> str:
        if credits <= 0:
            return "Grant a positive number of credits, e.g. /mod quota grant 123 5"
        if scope is None:
            await self.book.grant(platform, user_id, credits)
            return f"Granted {credits} extra overall credits to user {user_id} for the current window."
        await self.book.grant_in_chat(platform, scope, user_id, credits)
        limited = (await self.book.chat_usage(platform, scope, user_id)).limit is not None
        note = "" if limited else " They matter once this chat sets a limit for them (/mod quota set)."
        return (f"Granted {credits} extra credits to user {user_id} under this chat's limit for the current "
                f"window; their overall credits are unchanged.{note}")

    async def usage(self, platform: str, scope: str | None, user_id: str) -> str:
        if scope is None:
            u = await self.book.usage(platform, user_id)
            return f"User {user_id} (overall):\n" + quota_text(u, self.book.clock())
        m = await self.book.chat_usage(platform, scope, user_id)
        limit = (f"this chat's limit for them: {limit_text(m)}." if m.limit is not None
                 else "this chat sets no limit for them (their overall credits are private to them and the owners).")
        return f"User {user_id} in this chat ({self._window()}): {m.spent} credits spent here; {limit}"
