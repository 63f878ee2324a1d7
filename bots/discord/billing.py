"""Discord subscriptions and purchases -> quota tiers: entitlement events and the entitlements an interaction
carries keep `core.billing.EntitlementBook` in sync, and a refusal for lack of credits offers the SKU of a
better tier with a premium button (style 6, `sku_id`)."""

from __future__ import annotations

import logging
from typing import Any

import discord

from bots.discord.installs import placement
from core.billing import Entitlement, EntitlementBook
from core.quotas import UPGRADE
from core.service import Outcome

log = logging.getLogger(__name__)

PLATFORM = "discord"
MAX_PREMIUM_BUTTONS = 5  # one row


def entitlement(e: discord.Entitlement) -> Entitlement | None:
    """A member's entitlement, or a server's (a server subscription: `guild_id`, no user), as core keeps it;
    None for one that names neither."""
    if e.user_id is None and e.guild_id is None:
        return None
    return Entitlement(id=str(e.id), platform=PLATFORM, user_id="" if e.user_id is None else str(e.user_id),
                       sku_id=str(e.sku_id), ends_at=e.ends_at.timestamp() if e.ends_at else None,
                       deleted=e.deleted, scope="" if e.user_id is not None else str(e.guild_id))


class Billing:
    """The Discord side of bought tiers."""

    def __init__(self, book: EntitlementBook) -> None:
        self.book = book

    @property
    def enabled(self) -> bool:
        """Whether any SKU is mapped to a tier (else nothing is stored or offered)."""
        return bool(self.book.settings.discord_sku_tiers)

    async def on_event(self, e: discord.Entitlement, *, deleted: bool = False) -> None:
        """ENTITLEMENT_CREATE / _UPDATE (`deleted`: _DELETE, e.g. a refund)."""
        found = entitlement(e)
        if found is None or not self.enabled:
            return
        if deleted:
            await self.book.remove(found, "deleted or refunded")
        else:
            await self.book.apply(found)

    async def sync(self, interaction: discord.Interaction[Any]) -> None:
        """The invoking member's entitlements, and the server's where it is used in one, as this interaction
        lists them, before anything is charged."""
        if not self.enabled:
            return
        user_id = interaction.user.id
        # Only where the server's own install authorises it does the interaction speak for the server's
        # entitlements (a member's own install in a server lists only theirs: absent there is not refunded).
        guild_id = interaction.guild_id if not placement(interaction).user_install_only else None
        ours = [e for e in interaction.entitlements if e.application_id == interaction.application_id]
        mine = [found for e in ours if e.user_id == user_id and (found := entitlement(e)) is not None]
        servers = [found for e in ours if e.user_id is None and guild_id is not None and e.guild_id == guild_id
                   and (found := entitlement(e)) is not None]
        try:
            await self.book.sync(PLATFORM, str(user_id), mine)
            if guild_id is not None:
                await self.book.sync(PLATFORM, "", servers, scope=str(guild_id))
        except Exception:  # never block a command on it: the events keep tiers in sync too
            log.exception("could not sync the entitlements of %s", user_id)

    def upgrade_view(self, outcome: Outcome, view: discord.ui.View | None) -> discord.ui.View | None:
        """`view`, plus premium buttons for the SKUs of the tiers an out-of-credits refusal says would help."""
        tiers = [t for t in outcome.extra.get(UPGRADE, "").split(",") if t]
        skus = self.book.skus_for(tiers)[:MAX_PREMIUM_BUTTONS] if self.enabled else []
        if not skus:
            return view
        view = view or discord.ui.View(timeout=None)
        for sku in skus:
            view.add_item(discord.ui.Button(style=discord.ButtonStyle.premium, sku_id=int(sku)))
        return view
