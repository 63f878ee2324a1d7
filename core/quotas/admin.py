"""`/mod quota ...` on top of a QuotaBook: what chat moderators and owners may set, grant and read."""

from __future__ import annotations

from core.i18n import _, ngettext
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
                return _("User {user_id}'s overall credits are their tier's again.", user_id=user_id)
            return ngettext("User {user_id} now has {n} overall credit {per_window}.",
                            "User {user_id} now has {n} overall credits {per_window}.", limit, user_id=user_id,
                            per_window=self._per_window())
        await self.book.set_member_limit(platform, scope, user_id, limit)
        if limit is None:
            return _("This chat no longer limits user {user_id}; their overall credits still apply.", user_id=user_id)
        return ngettext("User {user_id} now has {n} credit {per_window} in this chat; their overall credits still "
                        "apply on top.",
                        "User {user_id} now has {n} credits {per_window} in this chat; their overall credits still "
                        "apply on top.", limit, user_id=user_id, per_window=self._per_window())

    async def grant(self, platform: str, scope: str | None, user_id: str, credits: int) -> str:
        if credits <= 0:
            return _("Grant a positive number of credits, e.g. {example}", example="/mod quota grant 123 5")
        if scope is None:
            await self.book.grant(platform, user_id, credits)
            return ngettext("Granted {n} extra overall credit to user {user_id} for the current window.",
                            "Granted {n} extra overall credits to user {user_id} for the current window.", credits,
                            user_id=user_id)
        await self.book.grant_in_chat(platform, scope, user_id, credits)
        if (await self.book.chat_usage(platform, scope, user_id)).limit is not None:
            return ngettext("Granted {n} extra credit to user {user_id} under this chat's limit for the current "
                            "window; their overall credits are unchanged.",
                            "Granted {n} extra credits to user {user_id} under this chat's limit for the current "
                            "window; their overall credits are unchanged.", credits, user_id=user_id)
        # Whole sentences: the note about an unset limit is part of the text, not appended to it.
        return ngettext("Granted {n} extra credit to user {user_id} under this chat's limit for the current window; "
                        "their overall credits are unchanged. It matters once this chat sets a limit for them "
                        "(/mod quota set).",
                        "Granted {n} extra credits to user {user_id} under this chat's limit for the current window; "
                        "their overall credits are unchanged. They matter once this chat sets a limit for them "
                        "(/mod quota set).", credits, user_id=user_id)

    async def usage(self, platform: str, scope: str | None, user_id: str) -> str:
        if scope is None:
            u = await self.book.usage(platform, user_id)
            return _("User {user_id} (overall):", user_id=user_id) + "\n" + quota_text(u, self.book.clock())
        m = await self.book.chat_usage(platform, scope, user_id)
        if m.limit is not None:
            return ngettext("User {user_id} in this chat ({window}): {n} credit spent here; this chat's limit for "
                            "them: {limit}.",
                            "User {user_id} in this chat ({window}): {n} credits spent here; this chat's limit for "
                            "them: {limit}.", m.spent, user_id=user_id, window=self._window(), limit=limit_text(m))
        return ngettext("User {user_id} in this chat ({window}): {n} credit spent here; this chat sets no limit for "
                        "them (their overall credits are private to them and the owners).",
                        "User {user_id} in this chat ({window}): {n} credits spent here; this chat sets no limit for "
                        "them (their overall credits are private to them and the owners).", m.spent, user_id=user_id,
                        window=self._window())
