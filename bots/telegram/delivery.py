"""Reply-stream events -> Telegram: progress edits of the status message, results, notices, deletions.

`Delivery` is this adapter's `bots.replies.ReplySink`. Every event may be delivered more than once (the
consumer acknowledges only after this returns), so each step is idempotent: the delivered marker
(`core.queue.DeliveryState`) records the messages a result became, and a redelivered reply only tidies up.
Raising leaves the entry pending for a retry.

A video, GIF or file that fits the upload limit as it is (known from its stored size) is uploaded from a file:
the filesystem store's own, or an S3 object spooled to a temporary file, wrapped in an `InputFile` that is not
read up front (`read_file_handle=False`), so httpx sends it in 64 KiB chunks and never holds it whole. Photos
are read whole (their dimensions decide what sendPhoto takes; at most `telegram_max_photo_bytes`), and so is
anything that must be re-encoded (the decoders need it).
"""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import Awaitable, Callable
from typing import BinaryIO, TypeVar

from PIL import Image
from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    InputMediaAnimation,
    InputMediaDocument,
    InputMediaPhoto,
    InputMediaVideo,
    Message,
    ReplyParameters,
)
from telegram.constants import ChatAction
from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, RetryAfter, TelegramError

from bots.telegram.recent import RecentResults, file_of
from bots.telegram.retry import retry_after_seconds, retrying
from core.i18n import N_, locale_of, translate, use_locale
from core.media import Fitted, UploadLimits, fit_upload, fits_as_is
from core.queue import DeliveryState, RetryLater
from core.service import Reelsmith, encoding_text, error_text, queued_text, rendering_text
from core.storage import MediaObject, seekable
from core.types import Button, DeleteResult, GenerationReply, MediaFile, Notice, Progress
from core.variants import image_captions

log = logging.getLogger(__name__)

T = TypeVar("T")
CAPTION_LIMIT = 1024
TEXT_LIMIT = 4096
PHOTO_MAX_SIDE_SUM = 10_000  # sendPhoto: width + height
PHOTO_MAX_RATIO = 20.0  # sendPhoto: the longer side at most 20 times the shorter
# Shown with `translate(...)` in the job's author's language (`bots.replies.dispatch` sets it; a deletion
# carries no locale, so `delete` takes it from the stored request).
REMOVED_TEXT = N_("\U0001f5d1\ufe0f This result was removed by a moderator or its author.")
DONE_TEXT = N_("\u2705 Done.")
EXPIRED_TEXT = N_("This result expired before I could post it. Send the command again.")
TOO_LARGE_TEXT = N_("The result is too large to post on Telegram even after re-encoding. "
                    "Try fewer frames or a smaller --ar.")
INLINE_NO_UPLOAD_TEXT = N_("Your result is ready, but I couldn't upload it to put it here: Telegram lets me show a "
                           "picture in an inline message only after uploading it elsewhere. Open a chat with me and "
                           "press Start, then try again.")
NEW_PROMPT_BUTTON = N_("\u270f\ufe0f New prompt")
INLINE = "inline_message_id"  # the route key of a job asked for in inline mode
# What Telegram answers when the bot may not post in a chat (blocked, kicked, muted, or the chat is gone).
UNDELIVERABLE = ("chat not found", "not enough rights", "have no rights", "need administrator rights")


class CannotFit(ValueError):
    """No re-encode got under Telegram's limit."""


def keyboard(buttons: list[Button], per_row: int = 3) -> InlineKeyboardMarkup | None:
    """An inline keyboard: the buttons' own rows, each split after `per_row` (phones are narrow)."""
    if not buttons:
        return None
    rows: list[list[Button]] = []
    for row in sorted({b.row for b in buttons}):
        in_row = [b for b in buttons if b.row == row]
        rows += [in_row[i:i + per_row] for i in range(0, len(in_row), per_row)]
    return InlineKeyboardMarkup([[InlineKeyboardButton(b.label, callback_data=b.data) for b in row]
                                 for row in rows])


def again_keyboard() -> InlineKeyboardMarkup:
    """Under an inline-mode message: a button that starts a new inline query in the same chat. (Telegram reports
    the inline_message_id of a chosen result only when it carries a keyboard.)"""
    button = InlineKeyboardButton(translate(NEW_PROMPT_BUTTON), switch_inline_query_current_chat="")
    return InlineKeyboardMarkup([[button]])


def undeliverable(exc: TelegramError) -> bool:
    """Whether Telegram refused because the bot may not post in that chat at all (not a passing failure)."""
    return isinstance(exc, Forbidden) or (
        isinstance(exc, BadRequest) and any(s in exc.message.lower() for s in UNDELIVERABLE))


def fit_photo(data: bytes, mime: str, filename: str, limit: int) -> Fitted | None:
    """What sendPhoto takes (the image, or a JPEG re-encode with its label); None for a shape it never takes."""
    w, h = Image.open(io.BytesIO(data)).size
    if max(w / h, h / w) > PHOTO_MAX_RATIO:
        return None
    fitted = fit_upload(data, mime, filename, UploadLimits(limit, image_format="JPEG", max_side_sum=PHOTO_MAX_SIDE_SUM))
    if fitted is None:
        raise CannotFit(f"photo still over {limit} bytes at the smallest re-encode")
    return fitted


def fit_video(data: bytes, mime: str, filename: str, limit: int) -> Fitted:
    """An MP4 under `limit`: the original, or a re-encode with its soundtrack and labels."""
    fitted = fit_upload(data, mime, filename, UploadLimits(limit))
    if fitted is None:
        raise CannotFit(f"video still over {limit} bytes at the smallest re-encode")
    return fitted


def _ids(raw: str | None) -> list[str]:
    return [x for x in (raw or "").split(",") if x]


class Delivery:
    def __init__(self, bot: Bot, service: Reelsmith, state: DeliveryState) -> None:
        self.bot = bot
        self.service = service
        self.settings = service.settings
        self.state = state
        self.recent = RecentResults(service.redis, service.settings)

    # ---- sending ------------------------------------------------------------------------
    async def _retry(self, call: Callable[[], Awaitable[T]], what: str) -> T:
        s = self.settings
        try:
            return await retrying(call, attempts=s.telegram_send_attempts,
                                  max_retry_after_s=s.telegram_max_retry_after_s, what=what)
        except RetryAfter as exc:  # longer than we wait in place: the stream pauses for as long as Telegram asked
            raise RetryLater(retry_after_seconds(exc), f"telegram {what}") from exc

    async def _post(self, chat_id: int, send: Callable[[int], Awaitable[T]], what: str) -> T:
        """Send with retries; follows a group that became a supergroup (ChatMigrated) once."""
        try:
            return await self._retry(lambda: send(chat_id), what)
        except ChatMigrated as exc:
            new_id = int(exc.new_chat_id)
            return await self._retry(lambda: send(new_id), what)

    # ---- status message -----------------------------------------------------------------
    async def status_posted(self, job_id: str, message: Message) -> None:
        """Remember the "Queued" message so progress and the result find it, even after a restart."""
        await self.state.remember_status(job_id, {"chat_id": str(message.chat_id),
                                                  "message_id": str(message.message_id)})
        # The job may have finished before it was remembered; then the result is out and this is stale.
        if await self.state.delivered(job_id):
            await self._drop_status(job_id)

    async def can_post(self, chat_id: int, thread: int | None, action: str = ChatAction.TYPING) -> bool:
        """Whether the bot may post in the chat, asked before a job is queued, so nothing is rendered and charged
        for a chat that blocked, removed or muted the bot. A chat action: members see the bot "typing"."""
        try:
            await self.bot.send_chat_action(chat_id, action, message_thread_id=thread)
        except TelegramError as exc:
            if undeliverable(exc):
                log.info("cannot post in chat %s (%s); not queueing its request", chat_id, type(exc).__name__)
                return False
            # Flood control, the network or a migrated group say nothing against posting: let the job go ahead.
        return True

    # ---- progress -----------------------------------------------------------------------
    async def _claim_chat(self, chat_id: int, seconds: float) -> bool:
        """At most one status edit per chat per `seconds` (Telegram: ~1/s per chat, 20/min per group)."""
        ms = max(1, int(seconds * 1000))
        key = self.settings.key("telegram", "chat-edit", str(chat_id))
        return bool(await self.service.redis.set(key, "1", nx=True, px=ms))

    async def _hold_chat(self, chat_id: int, seconds: float) -> None:
        key = self.settings.key("telegram", "chat-edit", str(chat_id))
        await self.service.redis.set(key, "1", px=max(1, int(seconds * 1000)))

    async def progress(self, p: Progress) -> None:
        """Edit the status message; advisory, so throttled and never retried."""
        status = await self.state.status(p.job_id)
        if status is None or await self.state.delivered(p.job_id):
            return
        if INLINE in status:
            await self._inline_progress(p, status[INLINE])
            return
        chat_id = int(status["chat_id"])
        s = self.settings
        interval = s.telegram_edit_interval_s if chat_id > 0 else s.telegram_group_edit_interval_s
        if not await self.state.claim_edit(p.job_id, interval) or not await self._claim_chat(chat_id, interval):
            return
        if p.state == "queued":
            text = queued_text(p.position or 1)
        elif p.state == "encoding":
            text = encoding_text(len(p.media), p.total_steps)  # an album goes out whole: the count only
        else:
            text = rendering_text(p.step, p.total_steps)
        try:  # an edit without the keyboard would drop the Cancel button
            await self.bot.edit_message_text(text, chat_id=chat_id, message_id=int(status["message_id"]),
                                             reply_markup=keyboard(self.service.status_buttons(p.job_id, emoji=True)))
        except RetryAfter as exc:
            await self._hold_chat(chat_id, retry_after_seconds(exc))
        except (BadRequest, Forbidden, NetworkError) as exc:  # "not modified", deleted, offline: skip this one
            log.debug("status edit for job %s skipped (%s)", p.job_id, type(exc).__name__)

    async def _inline_progress(self, p: Progress, inline_id: str) -> None:
        if not await self.state.claim_edit(p.job_id, self.settings.telegram_edit_interval_s):
            return
        if p.state == "queued":
            text = queued_text(p.position or 1)
        elif p.state == "encoding":
            text = encoding_text(len(p.media), p.total_steps)
        else:
            text = rendering_text(p.step, p.total_steps)
        try:
            await self.bot.edit_message_text(text, inline_message_id=inline_id, reply_markup=again_keyboard())
        except TelegramError as exc:  # advisory, as in chats
            log.debug("inline status edit for job %s skipped (%s)", p.job_id, type(exc).__name__)

    async def inline_status(self, job_id: str, inline_id: str) -> None:
        """Remember the inline message a job will become, so progress finds it."""
        await self.state.remember_status(job_id, {INLINE: inline_id})

    # ---- results ------------------------------------------------------------------------
    async def reply(self, r: GenerationReply, entry_id: str = "") -> None:
        if INLINE in r.requester.route:
            await self._deliver_inline(r, r.requester.route[INLINE])
            return
        done = await self.state.delivered(r.job_id)
        if done is None or done.get("complete") != "1":
            try:
                chat_id = int(r.requester.chat_id)
            except ValueError:
                log.error("reply for job %s has no Telegram chat id; dropping it", r.job_id)
                return
            try:
                if r.error:
                    await self._deliver_error(r, chat_id)
                else:
                    await self._deliver_media(r, chat_id, done)
            except Forbidden as exc:
                log.warning("cannot post job %s in chat %s (%s); dropping it", r.job_id, chat_id, exc.message)
                return
            except BadRequest as exc:
                if "chat not found" in exc.message.lower():
                    log.warning("chat %s of job %s is gone; dropping the reply", chat_id, r.job_id)
                    return
                raise
        await self._drop_status(r.job_id)

    def _reply_to(self, r: GenerationReply) -> tuple[ReplyParameters | None, int | None]:
        route = r.requester.route
        reply = (ReplyParameters(message_id=int(route["message_id"]), allow_sending_without_reply=True)
                 if route.get("message_id", "").isdigit() else None)
        thread = int(route["thread_id"]) if route.get("thread_id", "").isdigit() else None
        return reply, thread

    async def _deliver_error(self, r: GenerationReply, chat_id: int) -> None:
        text = error_text(r.error or "")[:TEXT_LIMIT]
        status = await self.state.status(r.job_id)
        if status is not None:
            try:
                await self._retry(lambda: self.bot.edit_message_text(
                    text, chat_id=int(status["chat_id"]), message_id=int(status["message_id"])), "error edit")
                await self.state.mark_delivered(r.job_id, {"chat_id": status["chat_id"],
                                                           "message_ids": status["message_id"], "complete": "1"})
                return
            except BadRequest as exc:  # the status message is gone: post the error instead
                log.info("status of job %s not editable (%s); posting the error", r.job_id, exc.message)
        reply, thread = self._reply_to(r)
        msg = await self._post(chat_id, lambda c: self.bot.send_message(
            c, text, reply_parameters=reply, message_thread_id=thread), "sendMessage")
        await self.state.mark_delivered(r.job_id, {"chat_id": str(msg.chat_id), "message_ids": str(msg.message_id),
                                                   "complete": "1"})

    async def _deliver_media(self, r: GenerationReply, chat_id: int, done: dict[str, str] | None) -> None:
        sent = _ids(done.get("message_ids") if done else None)
        if len(r.media) > 1 and not r.kind.is_video:
            await self._deliver_album(r, chat_id, sent)
            return
        markup = keyboard(self.service.result_buttons(r, emoji=True))
        reply, thread = self._reply_to(r)
        caption = r.caption[:CAPTION_LIMIT]
        items: list[MediaFile | None] = list(r.media) or [None]
        for i, media in enumerate(items):
            if i < len(sent):
                continue  # posted before a crash or restart
            last = i == len(items) - 1
            buttons = markup if last else None
            msg = await self._post_one(chat_id, media, caption, buttons, reply, thread, spoiler=r.spoiler)
            chat_id = msg.chat_id
            sent.append(str(msg.message_id))
            await self.recent.remember(r.requester.user_id, r.job_id, msg, caption)
            await self.state.mark_delivered(r.job_id, {"chat_id": str(chat_id), "message_ids": ",".join(sent),
                                                       "complete": "1" if last else "0"})

    def inline_storage(self, user_id: str) -> int:
        """Where inline results are uploaded first (Telegram edits inline messages only with a file_id)."""
        return self.settings.telegram_inline_storage_chat_id or int(user_id)

    async def _deliver_inline(self, r: GenerationReply, inline_id: str) -> None:
        """A job asked for in inline mode: upload its (first) result to the storage chat for a file_id, then edit
        the inline message into it, with the caption and label. Each step is recorded, so a redelivery resumes."""
        done = await self.state.delivered(r.job_id) or {}
        if done.get("complete") == "1":
            return
        edit_text = self.bot.edit_message_text
        try:
            if r.error or not r.media:
                text = error_text(r.error)[:TEXT_LIMIT] if r.error else r.caption[:TEXT_LIMIT]
                await self._retry(lambda: edit_text(text, inline_message_id=inline_id), "inline edit")
                await self.state.mark_delivered(r.job_id, {INLINE: inline_id, "complete": "1"})
                return
            caption = r.caption[:CAPTION_LIMIT]
            if "file_id" not in done:
                media = r.media[0]
                opened = await self.service.open_media(media.blob_key)
                if opened is None:
                    expired = error_text(translate(EXPIRED_TEXT))
                    await self._retry(lambda: edit_text(expired, inline_message_id=inline_id), "inline edit")
                    await self.state.mark_delivered(r.job_id, {INLINE: inline_id, "complete": "1"})
                    return
                storage = self.inline_storage(r.requester.user_id)
                try:
                    msg = await self._send_media(storage, media, opened[1], opened[0].mime or media.mime, caption,
                                                 None, None, None)
                except (Forbidden, CannotFit) as exc:
                    log.warning("inline result of job %s not uploaded (%s)", r.job_id, type(exc).__name__)
                    why = TOO_LARGE_TEXT if isinstance(exc, CannotFit) else INLINE_NO_UPLOAD_TEXT
                    text = error_text(translate(why))
                    await self._retry(lambda: edit_text(text, inline_message_id=inline_id), "inline edit")
                    await self.state.mark_delivered(r.job_id, {INLINE: inline_id, "complete": "1"})
                    return
                found = file_of(msg)
                assert found is not None
                done = {INLINE: inline_id, "chat_id": str(msg.chat_id), "message_ids": str(msg.message_id),
                        "kind": found[0], "file_id": found[1], "complete": "0"}
                await self.state.mark_delivered(r.job_id, done)
                await self.recent.remember(r.requester.user_id, r.job_id, msg, caption)
            file_id, kind = done["file_id"], done["kind"]
            new = (InputMediaPhoto(file_id, caption=caption) if kind == "photo"
                   else InputMediaVideo(file_id, caption=caption, supports_streaming=True) if kind == "video"
                   else InputMediaAnimation(file_id, caption=caption) if kind == "animation"
                   else InputMediaDocument(file_id, caption=caption))
            await self._retry(lambda: self.bot.edit_message_media(new, inline_message_id=inline_id,
                                                                  reply_markup=again_keyboard()), "editMessageMedia")
        except BadRequest as exc:  # the member deleted the inline message: the copy (if any) is all there is
            log.warning("inline message of job %s not editable (%s)", r.job_id, exc.message)
        await self.state.mark_delivered(r.job_id, {**done, INLINE: inline_id, "complete": "1"})

    async def _deliver_album(self, r: GenerationReply, chat_id: int, sent: list[str]) -> None:
        """Several images of one prompt (core.variants): one album (sendMediaGroup, each photo with its own
        caption and label), then one message with the keyboard (albums cannot carry one)."""
        reply, thread = self._reply_to(r)
        if not sent:
            photos: list[InputMediaPhoto] = []
            for media, caption in zip(r.media, image_captions(r, CAPTION_LIMIT), strict=True):
                blob = await self.service.media(media.blob_key)
                photo = None if blob is None else await asyncio.to_thread(
                    fit_photo, blob[0], blob[1] or media.mime, media.filename, self.settings.telegram_max_photo_bytes)
                if photo is None:  # expired or a shape sendPhoto never takes: one by one, as files if need be
                    await self._deliver_one_by_one(r, chat_id, sent)
                    return
                photos.append(InputMediaPhoto(photo.data, caption=caption, filename=photo.filename,
                                              has_spoiler=r.spoiler))
            album = await self._post(chat_id, lambda c: self.bot.send_media_group(
                c, photos, reply_parameters=reply, message_thread_id=thread), "sendMediaGroup")
            chat_id = album[0].chat_id
            sent = [str(m.message_id) for m in album]
            await self.state.mark_delivered(r.job_id, {"chat_id": str(chat_id), "message_ids": ",".join(sent),
                                                       "complete": "0"})
        markup = keyboard(self.service.result_buttons(r, emoji=True))
        text = r.caption[:TEXT_LIMIT]
        msg = await self._post(chat_id, lambda c: self.bot.send_message(
            c, text, reply_markup=markup, reply_parameters=reply, message_thread_id=thread), "sendMessage")
        sent.append(str(msg.message_id))
        await self.state.mark_delivered(r.job_id, {"chat_id": str(msg.chat_id), "message_ids": ",".join(sent),
                                                   "complete": "1"})

    async def _deliver_one_by_one(self, r: GenerationReply, chat_id: int, sent: list[str]) -> None:
        markup = keyboard(self.service.result_buttons(r, emoji=True))
        reply, thread = self._reply_to(r)
        captions = image_captions(r, CAPTION_LIMIT)
        for i, media in enumerate(r.media):
            last = i == len(r.media) - 1
            msg = await self._post_one(chat_id, media, captions[i], markup if last else None, reply, thread,
                                       spoiler=r.spoiler)
            chat_id = msg.chat_id
            sent.append(str(msg.message_id))
            await self.state.mark_delivered(r.job_id, {"chat_id": str(chat_id), "message_ids": ",".join(sent),
                                                       "complete": "1" if last else "0"})

    async def _post_one(self, chat_id: int, media: MediaFile | None, caption: str,
                        markup: InlineKeyboardMarkup | None, reply: ReplyParameters | None,
                        thread: int | None, *, spoiler: bool = False) -> Message:
        if media is None:
            return await self._post(chat_id, lambda c: self.bot.send_message(
                c, caption, reply_markup=markup, reply_parameters=reply, message_thread_id=thread), "sendMessage")
        opened = await self.service.open_media(media.blob_key)
        if opened is None:
            expired = error_text(translate(EXPIRED_TEXT))
            return await self._post(chat_id, lambda c: self.bot.send_message(
                c, expired, reply_parameters=reply, message_thread_id=thread), "sendMessage")
        info, obj = opened
        try:
            return await self._send_media(chat_id, media, obj, info.mime or media.mime, caption, markup, reply, thread,
                                          spoiler=spoiler)
        except CannotFit:
            log.warning("result %s too large for Telegram after re-encoding", media.filename)
            too_large = error_text(translate(TOO_LARGE_TEXT))
            return await self._post(chat_id, lambda c: self.bot.send_message(
                c, too_large, reply_parameters=reply, message_thread_id=thread), "sendMessage")

    async def _send_media(self, chat_id: int, media: MediaFile, obj: MediaObject, mime: str, caption: str | None,
                          markup: InlineKeyboardMarkup | None, reply: ReplyParameters | None,
                          thread: int | None, *, spoiler: bool = False) -> Message:
        """Photo for images, streamable video for MP4s, animation for GIFs, a file otherwise; `obj` is closed.
        What goes as it is is uploaded from a file, unread; photos and re-encodes are read whole."""
        photo = mime.startswith("image/") and mime != "image/gif"
        if photo or not fits_as_is(obj.size, mime, UploadLimits(self.settings.telegram_max_upload_bytes)):
            if not photo and not mime.startswith("video/"):  # nothing but a video is re-encoded smaller
                await obj.aclose()
                raise CannotFit(f"{media.filename or 'result'} is over the upload limit")
            data = await obj.read_and_close()  # photos and re-encodes: their decoders need it whole
            return await self._send_bytes(chat_id, media, data, mime, caption, markup, reply, thread, spoiler=spoiler)
        async with seekable(obj) as f:
            return await self._send_file(chat_id, media, f, mime, caption, markup, reply, thread, spoiler=spoiler)

    async def _send_file(self, chat_id: int, media: MediaFile, f: BinaryIO, mime: str, caption: str | None,
                         markup: InlineKeyboardMarkup | None, reply: ReplyParameters | None,
                         thread: int | None, *, spoiler: bool = False) -> Message:
        """A GIF, video or file under the upload limit, sent as it is from `f` in chunks (each try from its start)."""
        name = media.filename or "result"

        def upload() -> InputFile:  # the type is guessed from the name, as for bytes with a filename
            return InputFile(f, filename=name, read_file_handle=False)

        if mime == "image/gif":
            return await self._post(chat_id, lambda c: self.bot.send_animation(
                c, upload(), caption=caption, reply_markup=markup, reply_parameters=reply,
                message_thread_id=thread, has_spoiler=spoiler), "sendAnimation")
        if mime.startswith("video/"):
            duration = max(1, round(media.duration_s)) if media.duration_s else None
            try:
                return await self._post(chat_id, lambda c: self.bot.send_video(
                    c, upload(), caption=caption, reply_markup=markup, reply_parameters=reply,
                    message_thread_id=thread, supports_streaming=True, duration=duration, has_spoiler=spoiler,
                    width=media.width, height=media.height), "sendVideo")
            except BadRequest as exc:
                log.warning("sendVideo refused (%s); sending the video as a file", exc.message)
        return await self._post(chat_id, lambda c: self.bot.send_document(
            c, upload(), caption=caption, reply_markup=markup, reply_parameters=reply,
            message_thread_id=thread), "sendDocument")

    async def _send_bytes(self, chat_id: int, media: MediaFile, data: bytes, mime: str, caption: str | None,
                          markup: InlineKeyboardMarkup | None, reply: ReplyParameters | None,
                          thread: int | None, *, spoiler: bool = False) -> Message:
        """A photo, or a video too large to go as it is: read whole, fitted, and sent."""
        s = self.settings
        name = media.filename or "result"
        if mime.startswith("image/") and mime != "image/gif":
            photo = await asyncio.to_thread(fit_photo, data, mime, name, s.telegram_max_photo_bytes)
            if photo is not None:
                try:
                    return await self._post(chat_id, lambda c: self.bot.send_photo(
                        c, photo.data, filename=photo.filename, caption=caption, reply_markup=markup,
                        reply_parameters=reply, message_thread_id=thread, has_spoiler=spoiler), "sendPhoto")
                except BadRequest as exc:  # e.g. dimensions Telegram rejects: a file always works
                    log.warning("sendPhoto refused (%s); sending the image as a file", exc.message)
        elif mime == "image/gif":
            if len(data) <= s.telegram_max_upload_bytes:
                return await self._post(chat_id, lambda c: self.bot.send_animation(
                    c, data, filename=name, caption=caption, reply_markup=markup, reply_parameters=reply,
                    message_thread_id=thread, has_spoiler=spoiler), "sendAnimation")
        elif mime.startswith("video/"):
            video = await asyncio.to_thread(fit_video, data, mime, name, s.telegram_max_upload_bytes)
            same = not video.reencoded
            duration = max(1, round(media.duration_s)) if media.duration_s else None
            try:
                return await self._post(chat_id, lambda c: self.bot.send_video(
                    c, video.data, filename=video.filename, caption=caption, reply_markup=markup,
                    reply_parameters=reply, message_thread_id=thread, supports_streaming=True, duration=duration,
                    has_spoiler=spoiler,
                    width=media.width if same else None, height=media.height if same else None), "sendVideo")
            except BadRequest as exc:
                log.warning("sendVideo refused (%s); sending the video as a file", exc.message)
                data = video.data
        if len(data) > s.telegram_max_upload_bytes:
            raise CannotFit(f"{name} is over the upload limit")
        return await self._post(chat_id, lambda c: self.bot.send_document(
            c, data, filename=name, caption=caption, reply_markup=markup, reply_parameters=reply,
            message_thread_id=thread), "sendDocument")

    async def _drop_status(self, job_id: str) -> None:
        """Delete the "Queued/Rendering" message once the result is there (unless it became the result)."""
        status = await self.state.status(job_id)
        done = await self.state.delivered(job_id)
        if status is None or done is None or INLINE in status or status["message_id"] in _ids(done.get("message_ids")):
            return
        try:
            await self._retry(lambda: self.bot.delete_message(int(status["chat_id"]), int(status["message_id"])),
                              "deleteMessage")
        except BadRequest:  # already deleted, or too old to delete: mark it done instead
            try:
                await self.bot.edit_message_text(translate(DONE_TEXT), chat_id=int(status["chat_id"]),
                                                 message_id=int(status["message_id"]))
            except TelegramError:
                pass
        except (Forbidden, NetworkError) as exc:
            log.info("could not remove the status message of job %s (%s)", job_id, type(exc).__name__)

    # ---- notices and deletions ----------------------------------------------------------
    async def notice(self, n: Notice, entry_id: str) -> None:
        """Post a message core asked for (e.g. a report into the review chat), once."""
        marker = self.settings.key("telegram", "notice", entry_id)
        if await self.service.redis.exists(marker):
            return
        try:
            chat_id = int(n.chat_id)
        except ValueError:
            log.error("notice for non-Telegram chat id %r dropped", n.chat_id[:40])
            return
        markup = keyboard(n.buttons)
        caption = n.text[:CAPTION_LIMIT] if len(n.text) <= CAPTION_LIMIT else None
        try:
            if not n.media or caption is None:
                await self._post(chat_id, lambda c: self.bot.send_message(
                    c, n.text[:TEXT_LIMIT], reply_markup=None if n.media else markup), "sendMessage")
            for i, media in enumerate(n.media):
                last = i == len(n.media) - 1
                opened = await self.service.open_media(media.blob_key)
                if opened is None:
                    continue
                await self._send_media(chat_id, media, opened[1], opened[0].mime or media.mime,
                                       caption if i == 0 else None, markup if last else None, None, None)
        except Forbidden as exc:
            log.warning("cannot post a notice in chat %s (%s); dropping it", chat_id, exc.message)
            return
        await self.service.redis.set(marker, "1", ex=self.settings.result_ttl_s)

    async def delete(self, d: DeleteResult) -> None:
        """Remove a job's result messages; where Telegram no longer allows deleting, blank them instead."""
        done = await self.state.delivered(d.job_id)
        if done is None:
            log.info("delete for job %s: nothing was posted", d.job_id)
            return
        request = await self.service.queue.load_request(d.job_id)
        if request is not None:
            await self.recent.forget(request.requester.user_id, d.job_id)
        with use_locale(locale_of(request)):  # a blanked result tells its author, in the author's language
            await self._remove(d.job_id, done)

    async def _remove(self, job_id: str, done: dict[str, str]) -> None:
        if INLINE in done:
            await self._blank_inline(done[INLINE])
            if "chat_id" not in done:
                return
        chat_id = int(done["chat_id"])
        for mid in map(int, _ids(done.get("message_ids"))):
            try:
                await self._retry(lambda: self.bot.delete_message(chat_id, mid), "deleteMessage")  # noqa: B023
            except BadRequest:
                await self._blank(chat_id, mid)
            except Forbidden as exc:
                log.warning("cannot delete result of job %s (%s)", job_id, exc.message)

    async def _blank_inline(self, inline_id: str) -> None:
        """An inline message can't be deleted by the bot: its text (or caption) says it was removed."""
        try:
            await self.bot.edit_message_caption(inline_message_id=inline_id, caption=translate(REMOVED_TEXT),
                                                reply_markup=None)
        except TelegramError:
            try:
                await self.bot.edit_message_text(translate(REMOVED_TEXT), inline_message_id=inline_id)
            except TelegramError as exc:
                log.warning("could not blank inline message %s (%s)", inline_id[:40], type(exc).__name__)

    async def _blank(self, chat_id: int, message_id: int) -> None:
        """A media result can lose its caption, a text one its text; either way the buttons go."""
        try:
            await self.bot.edit_message_caption(chat_id=chat_id, message_id=message_id, caption=translate(REMOVED_TEXT),
                                                reply_markup=None)
        except TelegramError:
            try:
                await self.bot.edit_message_text(translate(REMOVED_TEXT), chat_id=chat_id, message_id=message_id)
            except TelegramError as exc:
                log.warning("could not remove message %s in chat %s (%s)", message_id, chat_id, type(exc).__name__)
