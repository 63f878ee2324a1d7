"""Telegram Stars end to end through the fake Bot API and a real Redis: /buy sends XTR invoices, checkout is
answered after its checks, a payment is credited exactly once (a redelivered update, a restart between the
payment and the credit, a lost update found again at start-up), bought credits are spent when the window's run
out, and an owner's refund goes through refundStarPayment and takes back what is left; all in the audit log."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bots.telegram.app import TelegramBot
from core.moderation.audit import AuditLog
from core.moderation.bans import Bans
from core.quotas.book import QuotaBook
from core.service.facade import Reelsmith
from core.settings import CreditPack, Settings
from tests.telegram.conftest import ALICE, BOB, answer_to, make_bot, until
from tests.telegram.fake_api import Call, FakeBotAPI

PACK = CreditPack(credits=5, stars=10)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"credit_packs": {"small": PACK, "big": CreditPack(credits=50, stars=80)},
                                       "owner_ids": [f"telegram:{BOB}"]})


async def _invoices(api: FakeBotAPI, user: int = ALICE) -> list[Call]:
    api.message(user, user, "/buy")
    return await until(lambda: len(api.sent("sendInvoice", chat_id=user)) == 2 and api.sent("sendInvoice"))


async def _checkout(api: FakeBotAPI, user: int, invoice: Call, **kw: Any) -> Call:
    query_id = api.pay(user, invoice, **kw)
    return await until(lambda: api.checkout_answers.get(query_id))


async def _paid(service: Reelsmith, user: int = ALICE) -> int:
    return await QuotaBook(service.redis, service.settings).paid_balance("telegram", str(user))


async def _purchases(service: Reelsmith) -> list[str]:
    entries = await AuditLog(service.redis, service.settings).recent(count=100)
    return [e.detail for e in entries if e.kind == "purchase"]


@contextlib.asynccontextmanager
async def running(service: Reelsmith) -> AsyncIterator[TelegramBot]:
    b = make_bot(service)
    await b.start()
    try:
        yield b
    finally:
        await b.stop()


async def test_buy_sends_star_invoices(api: FakeBotAPI, bot: TelegramBot) -> None:
    small, big = await _invoices(api)
    assert small.params["currency"] == "XTR" and not small.params.get("provider_token")
    assert small.json("prices") == [{"label": "5 credits", "amount": 10}]
    assert big.json("prices")[0]["amount"] == 80
    assert small.params["payload"] != big.params["payload"]


async def test_payment_is_credited_once_across_a_restart_and_a_redelivery(
        api: FakeBotAPI, service: Reelsmith) -> None:
    async with running(service):
        [small, _big] = await _invoices(api)
        answer = await _checkout(api, ALICE, small)
        assert answer.params["ok"] == "true"
    # The bot stops after approving checkout; Telegram takes the Stars and queues successful_payment meanwhile.
    charge = api.complete_payment(ALICE, next(iter(api.checkout_answers)))
    assert await _paid(service) == 0

    async with running(service):
        thanks = await until(lambda: [c for c in api.sent("sendMessage", chat_id=ALICE)
                                      if "credits were added" in c.params["text"]])
        assert await _paid(service) == 5
        again = api.deliver_payment(charge)  # the same payment's update once more
        await until(lambda: not any(u["message"] is again for u in api.updates if "message" in u))
        assert await _paid(service) == 5
    async with running(service):  # a third start reconciles getStarTransactions: already credited
        assert await _paid(service) == 5
    assert len(thanks) == 1
    assert len([c for c in api.sent("sendMessage", chat_id=ALICE) if "credits were added" in c.params["text"]]) == 1
    [purchase] = await _purchases(service)
    assert charge in purchase and "pack small" in purchase


async def test_a_lost_payment_update_is_credited_at_the_next_start(api: FakeBotAPI, service: Reelsmith) -> None:
    async with running(service):
        [small, _big] = await _invoices(api)
        await _checkout(api, ALICE, small)
    # The update was confirmed by a bot that crashed before crediting: Telegram never sends it again.
    charge = api.complete_payment(ALICE, next(iter(api.checkout_answers)), deliver=False)
    async with running(service):
        assert await _paid(service) == 5  # found in getStarTransactions during start-up
        api.deliver_payment(charge)  # and should the update turn up after all, it credits nothing more
        await until(lambda: not api.updates)
        assert await _paid(service) == 5
    assert len(await _purchases(service)) == 1


async def test_checkout_is_declined_with_the_reason(api: FakeBotAPI, bot: TelegramBot, service: Reelsmith) -> None:
    [small, _big] = await _invoices(api)
    foreign = await _checkout(api, BOB, small)  # Alice's invoice, forwarded to Bob
    assert foreign.params["ok"] == "false" and "someone else" in foreign.params["error_message"]
    wrong = await _checkout(api, ALICE, small, amount=1)
    assert wrong.params["ok"] == "false" and "amount" in wrong.params["error_message"]
    await Bans(service.redis, service.settings).ban("telegram", None, str(ALICE))
    banned = await _checkout(api, ALICE, small)
    assert banned.params["ok"] == "false" and "banned" in banned.params["error_message"]
    assert await _paid(service) == 0


async def test_bought_credits_are_spent_after_the_window_and_refunds_take_back_the_rest(
        api: FakeBotAPI, service: Reelsmith) -> None:
    await QuotaBook(service.redis, service.settings).set_budget("telegram", str(ALICE), 1)  # one image a day
    async with running(service):
        [small, _big] = await _invoices(api)
        await _checkout(api, ALICE, small)
        charge = api.complete_payment(ALICE, next(iter(api.checkout_answers)))
        await until(lambda: any("credits were added" in c.params["text"] for c in api.sent("sendMessage")))

        for prompt in ("a fox", "a second fox"):  # one from the window, one from the bought credits
            msg = api.message(ALICE, ALICE, f"/imagine {prompt}")
            assert "Queued" in (await answer_to(api, msg)).params["text"]
        assert await _paid(service) == 4
        quota = api.message(ALICE, ALICE, "/quota")
        assert "Bought credits: 4" in (await answer_to(api, quota)).params["text"]

        denied = api.message(ALICE, ALICE, f"/mod refund {charge}")
        assert "Only the service owners" in (await answer_to(api, denied)).params["text"]
        refund = api.message(BOB, BOB, f"/mod refund {charge}")
        text = (await answer_to(api, refund)).params["text"]
        assert "removed 4 of the 5 credits" in text and "1 of them had already been spent" in text
        [call] = api.sent("refundStarPayment")
        assert call.params == {"user_id": str(ALICE), "telegram_payment_charge_id": charge}
        assert await _paid(service) == 0
        again = api.message(BOB, BOB, f"/mod refund {charge}")
        assert "already refunded" in (await answer_to(api, again)).params["text"]
        assert len(api.sent("refundStarPayment")) == 1

        usage = api.message(BOB, BOB, "/mod usage")
        revenue = (await answer_to(api, usage)).params["text"]
        assert "small: 1 sold, 5 credits, 10 stars, 1 refunded (10 stars); net 0" in revenue
    kinds = [e.kind for e in await AuditLog(service.redis, service.settings).recent(count=100)]
    assert "purchase" in kinds and "refund" in kinds


async def test_invoices_and_checkout_refusals_in_the_members_language(api: FakeBotAPI, bot: TelegramBot) -> None:
    api.message(ALICE, ALICE, "/buy", language_code="ja")
    small, _big = await until(lambda: len(api.sent("sendInvoice", chat_id=ALICE)) == 2 and api.sent("sendInvoice"))
    assert small.params["description"] == ("5 Reelsmith クレジット（10 スター）。有効期限はなく、"
                                           "毎日のクレジットがなくなったときに使われます。")
    assert small.json("prices") == [{"label": "5 クレジット", "amount": 10}]
    query_id = api.pay(BOB, small, language_code="de")  # someone else's invoice, in German
    answer = await until(lambda: api.checkout_answers.get(query_id))
    assert answer.params.get("ok") != "true"
    assert answer.params["error_message"] == "Diese Rechnung ist für jemand anderen. Schick /buy für deine eigene."
