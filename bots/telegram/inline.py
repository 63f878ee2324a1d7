"""Inline mode: `@Bot a corgi surfing` in any chat.

The inline query is answered at once (Telegram waits only seconds, so no job runs then) with "Generate"
articles, each carrying an inline keyboard (Telegram reports the posted message's `inline_message_id` only
then), and the member's recent results as cached photos/videos by file_id. Choosing a Generate article
(`chosen_inline_result`, which needs /setinlinefeedback) runs the command through the normal service path:
bans, switches, blocklists, consent and quotas apply as in the member's private chat with the bot, since an
inline message has no chat the bot can see (its scope is the member's own, like a DM). A refusal edits the
message with the reason and costs nothing; a queued job's result edits the message into the labelled media
(`bots.telegram.delivery.Delivery._deliver_inline`).
"""

from __future__ import annotations

import logging

from telegram import (
    Chat,
    InlineQuery,
    InlineQueryResult,
    InlineQueryResultArticle,
    InlineQueryResultCachedDocument,
    InlineQueryResultCachedMpeg4Gif,
    InlineQueryResultCachedPhoto,
    InlineQueryResultCachedVideo,
    InlineQueryResultsButton,
    InputTextMessageContent,
    Update,
    User,
)
from telegram.constants import ChatAction, ChatType
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bots.telegram.delivery import INLINE, TEXT_LIMIT, Delivery, again_keyboard
from bots.telegram.handlers import OOPS_TEXT
from bots.telegram.members import PLATFORM, ChatRoles
from bots.telegram.recent import Recent
from core.errors import UserError, error_text
from core.i18n import N_, _, translate, use_locale
from core.service import Reelsmith
from core.types import Requester

log = logging.getLogger(__name__)

GENERATE = "gen:"  # result ids: gen:<command>
# Texts in the querying member's language (`from.language_code`): translated where shown, under `use_locale`.
KINDS = (("imagine", N_("\U0001f5bc\ufe0f Generate an image")), ("video", N_("\U0001f39e\ufe0f Generate a video")))
PLACEHOLDER_TEXT = N_("\u23f3 Making it: {prompt}")
EMPTY_BUTTON = N_("Type a prompt, e.g. {example}")
EXAMPLE_PROMPT = "a corgi surfing"  # prompts reach the model as typed: the example stays as members may type it
NO_STORAGE_TEXT = N_("I can't put results into inline messages for you yet: Telegram lets me do that only with a "
                     "file I've uploaded, and you haven't started a chat with me. Open @{bot}, press Start, then "
                     "try again. Nothing was charged.")
VIDEO_TITLE = N_("Video")
RESULT_TITLE = N_("Result")
CACHE_S = 0  # personal results (recent ones) change with every job


def _cached(r: Recent, n: int) -> InlineQueryResult:
    rid = f"r:{r.job_id}:{n}"
    if r.kind == "photo":
        return InlineQueryResultCachedPhoto(rid, r.file_id, caption=r.caption)
    if r.kind == "video":
        title = r.caption.split("\n")[0][:64] or translate(VIDEO_TITLE)
        return InlineQueryResultCachedVideo(rid, r.file_id, title=title, caption=r.caption)
    if r.kind == "animation":
        return InlineQueryResultCachedMpeg4Gif(rid, r.file_id, caption=r.caption)
    return InlineQueryResultCachedDocument(rid, translate(RESULT_TITLE), r.file_id, caption=r.caption)


class InlineMode:
    def __init__(self, service: Reelsmith, roles: ChatRoles, delivery: Delivery) -> None:
        self.service = service
        self.roles = roles
        self.delivery = delivery

    async def on_query(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.inline_query
        if query is None:
            return
        try:
            with use_locale(query.from_user.language_code or ""):
                await self._answer(query)
        except TelegramError as exc:  # expired (the member typed on) or malformed: nothing to show anyway
            log.info("answerInlineQuery failed (%s)", type(exc).__name__)

    async def _answer(self, query: InlineQuery) -> None:
        prompt = query.query.strip()
        results: list[InlineQueryResult] = []
        button: InlineQueryResultsButton | None = None
        if not prompt:
            button = InlineQueryResultsButton(_(EMPTY_BUTTON, example=EXAMPLE_PROMPT)[:64],
                                              start_parameter="inline")
        else:
            try:  # parsing is cheap: a mistake is shown now and costs nothing
                self.service.parse(f"/imagine {prompt}")
            except UserError as exc:
                button = InlineQueryResultsButton(exc.message[:64], start_parameter="help")
            else:
                content = InputTextMessageContent(_(PLACEHOLDER_TEXT, prompt=prompt)[:TEXT_LIMIT])
                results += [InlineQueryResultArticle(f"{GENERATE}{cmd}", translate(title), content,
                                                     description=prompt[:100], reply_markup=again_keyboard())
                            for cmd, title in KINDS]
        recent = await self.delivery.recent.recent(str(query.from_user.id))
        results += [_cached(r, n) for n, r in enumerate(recent)]
        await query.answer(results[:50], cache_time=CACHE_S, is_personal=True, button=button)

    async def on_chosen(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        chosen = update.chosen_inline_result
        if chosen is None or not chosen.result_id.startswith(GENERATE) or chosen.inline_message_id is None:
            return  # a cached result was posted as it is
        command = chosen.result_id[len(GENERATE):]
        if command not in dict(KINDS):
            return
        inline_id = chosen.inline_message_id
        user = chosen.from_user
        with use_locale(user.language_code or ""):  # the adapter's own texts and the keyboard, as in the query
            try:
                await self._run(inline_id, user, f"/{command} {chosen.query.strip()}", context.bot.username or "")
            except Exception:
                log.exception("inline request of user %s failed", user.id)
                await self._edit(inline_id, error_text(translate(OOPS_TEXT)))

    async def _run(self, inline_id: str, user: User, text: str, bot_name: str) -> None:
        user_id = user.id
        # Telegram edits inline messages only with a file_id, so the result must be uploadable somewhere first.
        storage = self.delivery.inline_storage(str(user_id))
        if not await self.delivery.can_post(storage, None, ChatAction.UPLOAD_PHOTO):
            await self._edit(inline_id, error_text(_(NO_STORAGE_TEXT, bot=bot_name)))
            return
        me = Chat(user_id, ChatType.PRIVATE)  # an inline message's scope: the member's own chat with the bot
        ctx = await self.roles.context_for(me, user)
        ctx.extra["chat_type"] = "inline"
        requester = Requester(platform=PLATFORM, user_id=str(user_id), chat_id=str(user_id),
                              display_name=user.full_name[:100], route={INLINE: inline_id},
                              locale=user.language_code or "")
        outcome = await self.service.handle(requester, text, [], ctx)
        if outcome.job_id:
            await self.delivery.inline_status(outcome.job_id, inline_id)
            if await self.delivery.state.delivered(outcome.job_id):
                return  # already done: the message is the result now
        await self._edit(inline_id, outcome.text)

    async def _edit(self, inline_id: str, text: str) -> None:
        try:
            await self.delivery.bot.edit_message_text(text[:TEXT_LIMIT], inline_message_id=inline_id,
                                                      reply_markup=again_keyboard())
        except TelegramError as exc:
            log.info("inline message not editable (%s)", type(exc).__name__)
