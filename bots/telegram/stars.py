"""Telegram Stars: `/buy` sells credit packs as invoices (currency XTR, empty provider token), checkout is
answered after its checks, a successful payment is credited exactly once, and owners refund.

Exactly once, across restarts: the ledger credits by `telegram_payment_charge_id` and ignores a charge it has
seen (`core.billing.PurchaseLedger`), so a successful_payment update that is delivered again (Telegram re-sends
updates the bot had not confirmed when it stopped) credits nothing twice. An update that was confirmed but
never handled (a crash in between) is found at the next start: the bot reads its latest Star transactions
(getStarTransactions) and credits any incoming payment the ledger lacks, skipping refunded ones.
"""

from __future__ import annotations

import logging

from telegram import Bot, LabeledPrice, Message, PreCheckoutQuery, TransactionPartnerUser, Update
from telegram.error import BadRequest, TelegramError
from telegram.ext import ContextTypes

from bots.telegram.members import PLATFORM
from core.billing import CURRENCY_STARS, Offer, PurchaseLedger, check_offer, new_offer, pack_title
from core.clock import Clock, system_clock
from core.i18n import N_, _, translate, use_locale
from core.moderation import Moderation
from core.quotas import QuotaBook
from core.service import Reelsmith

log = logging.getLogger(__name__)

# Shown with translate(...) in the member's language (`/buy` runs in the sender's; checkout and payment updates
# are put in the payer's here).
OFF_TEXT = N_("Buying credits isn't enabled on this bot.")
THANKS_TEXT = N_("Thank you! {credits} credits were added; you now have {balance} bought credits. See /quota.")
BANNED_TEXT = N_("You are banned from generating here, so I can't sell you credits. Ask the moderators about it.")
REFUND_USAGE = N_("Usage: /mod refund <telegram_payment_charge_id> (owners only)")


class Stars:
    def __init__(self, bot: Bot, service: Reelsmith, clock: Clock = system_clock) -> None:
        self.bot = bot
        self.service = service
        self.settings = service.settings
        self.clock = clock
        self.book = QuotaBook(service.redis, service.settings, clock)
        self.ledger = PurchaseLedger(service.redis, service.settings, self.book, clock)
        mod = Moderation.build(service.settings, service.redis, clock=clock)
        self.bans = mod.bans
        self.audit = mod.audit

    # ---- /buy ---------------------------------------------------------------------------
    async def buy(self, message: Message) -> str | None:
        """Send one invoice per pack; the text to answer with instead when there are none (or it failed)."""
        user = message.from_user
        packs = self.settings.credit_packs
        if not packs or user is None:
            return translate(OFF_TEXT)
        now = self.clock()
        for pack_id, pack in packs.items():
            offer = new_offer(self.settings, pack_id, str(user.id), now)
            title = pack_title(pack_id, pack)
            try:
                await self.bot.send_invoice(
                    message.chat_id, title, _("{credits} Reelsmith credits for {stars} Stars. They never expire and "
                                              "are used when your daily credits run out.", credits=pack.credits,
                                              stars=pack.stars), offer.payload(), CURRENCY_STARS,
                    [LabeledPrice(title, pack.stars)], provider_token="",
                    message_thread_id=message.message_thread_id if message.is_topic_message else None)
            except TelegramError as exc:
                log.warning("sendInvoice failed in chat %s (%s)", message.chat_id, type(exc).__name__)
                return _("I couldn't send the invoices here. Try /buy in a private chat with me.")
        return None

    # ---- checkout -----------------------------------------------------------------------
    async def on_pre_checkout(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Answer within Telegram's 10 s: ok only for a current offer, to its member, at its price, if not banned."""
        query = update.pre_checkout_query
        if query is None:
            return
        with use_locale(query.from_user.language_code or ""):  # the refusal is shown to the payer
            await self._pre_checkout(query)

    async def _pre_checkout(self, query: PreCheckoutQuery) -> None:
        user_id = str(query.from_user.id)
        _offer, why = check_offer(self.settings, query.invoice_payload, user_id, query.currency,
                                  query.total_amount, self.clock())
        if not why and (await self.bans.get(PLATFORM, None, user_id) is not None
                        or await self.bans.banned_anywhere(PLATFORM, user_id)):
            why = translate(BANNED_TEXT)
        if why:
            await self.audit.record("refusal", PLATFORM, user_id, user_id, "checkout", why)
        try:
            await query.answer(ok=not why, error_message=why or None)
        except TelegramError as exc:  # too late: Telegram cancels the payment itself
            log.warning("answerPreCheckoutQuery failed (%s)", type(exc).__name__)

    async def on_paid(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Credit a successful payment (once per charge id) and thank the member (once)."""
        message = update.message
        if message is None or message.successful_payment is None:
            return
        paid = message.successful_payment
        offer = Offer.parse(paid.invoice_payload)
        if offer is None or paid.currency != CURRENCY_STARS:
            log.error("payment %s with an unknown payload; not credited", paid.telegram_payment_charge_id)
            return
        charge = paid.telegram_payment_charge_id
        await self.ledger.credit(PLATFORM, charge, offer, str(message.chat_id))  # a no-op for a charge seen before
        # Thanked once per charge, whether this update, an earlier copy of it or reconciliation credited it.
        thanked = self.settings.key("telegram", "thanked", charge)
        if not await self.service.redis.set(thanked, "1", nx=True, ex=self.settings.credit_offer_ttl_s * 7):
            return
        balance = await self.book.paid_balance(PLATFORM, offer.user_id)
        payer = message.from_user.language_code if message.from_user is not None else ""
        with use_locale(payer or ""):
            thanks = translate(THANKS_TEXT).format(credits=offer.credits, balance=balance)
        try:
            await self.bot.send_message(message.chat_id, thanks)
        except TelegramError as exc:
            log.info("could not thank for payment in chat %s (%s)", message.chat_id, type(exc).__name__)

    async def reconcile(self) -> int:
        """Credit incoming Star payments the ledger lacks (their update was lost); how many were credited."""
        count = self.settings.stars_reconcile_count
        if not self.settings.credit_packs or count == 0:
            return 0
        try:
            found = await self.bot.get_star_transactions(limit=count)
        except TelegramError as exc:
            log.warning("getStarTransactions failed (%s); payments are not reconciled now", type(exc).__name__)
            return 0
        refunded = {t.id for t in found.transactions if isinstance(t.receiver, TransactionPartnerUser)}
        credited = 0
        for t in found.transactions:
            source = t.source
            if not isinstance(source, TransactionPartnerUser) or t.id in refunded or not source.invoice_payload:
                continue
            offer = Offer.parse(source.invoice_payload)
            if offer is None or offer.user_id != str(source.user.id):
                continue
            if await self.ledger.credit(PLATFORM, t.id, offer, str(source.user.id)):
                credited += 1
                log.warning("credited Star payment %s found by reconciliation (its update was lost)", t.id)
        return credited

    # ---- refunds (owners) ---------------------------------------------------------------
    async def refund(self, owner_id: str, args: list[str]) -> str:
        """`/mod refund <charge id>`: refund through Telegram, then take back what is left of the credits."""
        if not self.settings.is_owner(PLATFORM, owner_id):
            await self.audit.record("denied", PLATFORM, owner_id, owner_id, "refund", "not an owner")
            return _("Only the service owners can refund payments.")
        if len(args) != 1:
            return translate(REFUND_USAGE)
        charge = args[0]
        purchase = await self.ledger.purchase(PLATFORM, charge)
        if purchase is None:
            return _("I have no purchase with charge id {charge}. Copy it from /mod audit.", charge=charge[:80])
        if purchase.state == "refunded":
            return _("Charge {charge} was already refunded.", charge=charge)
        try:
            await self.bot.refund_star_payment(int(purchase.user_id), charge)
        except BadRequest as exc:
            if "CHARGE_ALREADY_REFUNDED" not in exc.message.upper():
                return _("Telegram refused the refund: {error}", error=exc.message)
        except TelegramError as exc:
            return _("Telegram didn't answer the refund ({problem}); try again.", problem=type(exc).__name__)
        done = await self.ledger.refund(PLATFORM, charge, owner_id)
        if done is None:
            return _("Charge {charge} was already refunded.", charge=charge)
        text = _("Refunded {stars} Stars to {user} and removed {removed} of the {credits} credits they bought.",
                 stars=purchase.stars, user=purchase.user_id, removed=done.removed, credits=done.credits)
        if done.spent:
            text += " " + _("{n} of them had already been spent, which a refund can't take back.", n=done.spent)
        return text
