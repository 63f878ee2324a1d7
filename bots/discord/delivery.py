"""Reply-stream events -> Discord messages: progress edits, results with buttons, notices, deletions.

`Delivery` is this adapter's `bots.replies.ReplySink`. While a job's interaction token is fresh the status
message is edited through the interaction webhook; afterwards (tokens live 15 minutes) a normal channel
message is used, if the bot may post there, else a DM, and the old status message is marked done. The
token is a credential: it lives only in this adapter's Redis key, with a TTL below its lifetime, sealed
with a key derived from the bot token (bots/discord/token_box.py); a value that does not open is dropped
and channel messages are used instead. When Discord (or Cloudflare in front of it) answers 429, the reply
stream pauses for as long as it said (`core.queue.RetryLater`).

A result that fits the upload limit as it is (known from its stored size) is attached as a file: the filesystem
store's own file, or an S3 object spooled to a temporary file, which discord.py (aiohttp) reads in 64 KiB chunks,
so it is never whole in memory. Only what must shrink is read whole, for the decoders (core/media/fit.py).
"""

from __future__ import annotations

import asyncio
import io
import logging
import secrets
import time
from collections.abc import Iterator
from contextlib import AsyncExitStack, contextmanager
from dataclasses import dataclass
from typing import Any, BinaryIO, cast

import discord

from bots.discord.installs import placement
from bots.discord.texts import MESSAGE_LIMIT, clip
from bots.discord.token_box import TokenBox
from bots.discord.views import notice_view, result_view
from core.i18n import N_, ngettext, translate
from core.media import UploadLimits, fit_upload, fits_as_is
from core.queue import DeliveryState, RetryLater
from core.service import Reelsmith, encoding_text, error_text, queued_text, rendering_text
from core.storage import seekable
from core.types import DeleteResult, GenerationReply, Notice, Progress
from core.variants import grid_image

log = logging.getLogger(__name__)

PLATFORM = "discord"
UNKNOWN_STATUS_GRACE_MS = 30_000  # a reply may beat the command's own answer to Redis by a moment
HEADROOM = 0.95  # of the upload limit, leaving room for the multipart envelope Discord counts against it
DEFAULT_PAUSE_S = 5.0  # a 429 that does not say how long to wait
# Shown with `translate(...)` in the job's author's language (`bots.replies.dispatch` sets it).
TOO_LARGE = N_("The result is too large to upload here.")
EXPIRED = N_("The result file has expired.")
REENCODED = N_("Re-encoded smaller to fit this channel's upload limit.")
STILL_ONLY = N_("The video is too large for this channel's upload limit; here is its first frame.")
DONE_TEXT = N_("\u2705 Done: the result is in the reply below.")
DONE_DM_TEXT = N_("\u2705 Done: I sent the result to you directly (I may not post it here).")
CONTINUED_TEXT = N_("\u23e9 Continued below.")
SPOILER_PREFIX = "SPOILER_"
DM_NOTE = N_("\u2709\ufe0f Sent to you directly: I may not post in the channel you asked in, and Discord's 15 "
             "minutes for answering there had run out.")
DM_USER_INSTALL_NOTE = N_("\u2709\ufe0f Sent to you directly: you used me through your own install, where I "
                          "can answer only within Discord's 15 minutes, and this took longer. Add me to the server "
                          "to get results there every time.")


@dataclass(frozen=True)
class Upload:
    """A file to attach (its bytes, or a seekable file sent as it is), and what the member is told about how it
    was changed ("" when it was not)."""

    data: bytes | BinaryIO
    filename: str
    note: str = ""


def limits(limit: int) -> UploadLimits:
    """A channel's upload limit as `fit_upload` takes it."""
    return UploadLimits(limit, headroom=HEADROOM, image_format="WEBP", still_fallback=True)


def fit(data: bytes, mime: str, filename: str, limit: int) -> Upload | None:
    """What fits a channel's upload limit: the file, a smaller re-encode (sound and labels kept), or for a video
    a still of its first frame; None if nothing small enough can be made."""
    fitted = fit_upload(data, mime, filename, limits(limit))
    if fitted is None:
        return None
    note = translate(STILL_ONLY) if fitted.still else translate(REENCODED) if fitted.reencoded else ""
    return Upload(fitted.data, fitted.filename, note)


def as_file(data: bytes | BinaryIO, filename: str) -> discord.File:
    """A discord.File for one send: a file starts over from its beginning (an earlier route may have read it)."""
    if isinstance(data, bytes):
        return discord.File(io.BytesIO(data), filename=filename)
    data.seek(0)
    return discord.File(cast(io.BufferedIOBase, data), filename=filename)


def content_of(data: bytes | BinaryIO) -> bytes:
    """The bytes of an upload (for the grid, which decodes small images)."""
    if isinstance(data, bytes):
        return data
    data.seek(0)
    return data.read()


def spoiler_name(filename: str) -> str:
    """The attachment name Discord shows behind a spoiler."""
    return filename if filename.startswith(SPOILER_PREFIX) else SPOILER_PREFIX + filename


def retry_after(exc: discord.HTTPException | discord.RateLimited) -> float | None:
    """How long Discord asked us to wait, for a 429 (its header, as Cloudflare sends it too); None otherwise."""
    if isinstance(exc, discord.RateLimited):
        return exc.retry_after
    if exc.status != 429:
        return None
    headers = getattr(exc.response, "headers", None) or {}
    for name in ("Retry-After", "X-RateLimit-Reset-After"):
        try:
            return max(0.0, float(headers[name]))
        except (KeyError, TypeError, ValueError):
            continue
    return DEFAULT_PAUSE_S


@contextmanager
def pause_on_429(what: str) -> Iterator[None]:
    """A 429 discord.py gave up on (Cloudflare's, without `Via`, or over its wait) pauses the reply stream."""
    try:
        yield
    except (discord.HTTPException, discord.RateLimited) as exc:
        wait = retry_after(exc)
        if wait is None:
            raise
        raise RetryLater(wait, f"discord {what}") from exc


class NotReady(Exception):
    """The job's status message is not known yet; leave the entry pending and retry."""


class Delivery:
    def __init__(self, client: discord.Client, service: Reelsmith) -> None:
        self.client = client
        self.service = service
        self.settings = service.settings
        self.redis = service.redis
        self.state = DeliveryState(service.redis, service.settings, PLATFORM)
        token = self.settings.discord_token
        # No bot token means no bot to deliver for; a one-off key still keeps Redis free of tokens.
        self.tokens = TokenBox(token.get_secret_value().encode() if token else secrets.token_bytes(32))

    # ---- what we remember per job -------------------------------------------------------
    def _token_key(self, job_id: str) -> str:
        return self.settings.key("discord", "itoken", job_id)

    async def remember(self, job_id: str, interaction: discord.Interaction[Any], message_id: int | None) -> None:
        """Where the job's status message is, and (briefly) the token that may edit it."""
        age_s = time.time() - interaction.created_at.timestamp()
        ttl = int(self.settings.discord_token_ttl_s - age_s)
        if ttl > 0:
            await self.redis.set(self._token_key(job_id), self.tokens.seal(interaction.token, job_id), ex=ttl)
        channel = interaction.channel
        perms = interaction.app_permissions
        where = placement(interaction)
        # Through a member's own install (a group DM, a server the bot is not in) only the token reaches the chat.
        can_post = where.can_post_here and (interaction.guild_id is None or (
            perms.view_channel and perms.send_messages and perms.attach_files))
        await self.state.remember_status(job_id, {
            "app_id": str(interaction.application_id),
            "channel_id": str(interaction.channel_id or (channel.id if channel else "")),
            "message_id": str(message_id or ""),
            "guild_id": str(interaction.guild_id or ""),
            "user_id": str(interaction.user.id),
            "limit": str(interaction.filesize_limit or self.settings.discord_default_upload_limit),
            "can_post": "1" if can_post else "",
            "user_install": "1" if where.user_install_only else "",
        })

    async def _webhook(self, job_id: str, status: dict[str, str]) -> discord.Webhook | None:
        raw = await self.redis.get(self._token_key(job_id))
        if raw is None or not status.get("app_id"):
            return None
        token = self.tokens.open(raw if isinstance(raw, bytes) else str(raw).encode(), job_id)
        if token is None:
            log.warning("job %s: the stored interaction token does not open (altered, or sealed for another job "
                        "or bot token); using channel messages", job_id)
            await self._token_expired(job_id)
            return None
        return discord.Webhook.partial(int(status["app_id"]), token, client=self.client)

    async def _token_expired(self, job_id: str) -> None:
        await self.redis.delete(self._token_key(job_id))

    # ---- events -------------------------------------------------------------------------
    async def progress(self, p: Progress) -> None:
        status = await self.state.status(p.job_id)
        if status is None or await self.state.delivered(p.job_id) is not None:
            return
        if not await self.state.claim_edit(p.job_id, self.settings.discord_edit_interval_s):
            return  # throttled: Discord rate-limits message edits
        if p.state == "queued" and p.position is not None:
            text = queued_text(p.position)
        elif p.state == "encoding":
            text = encoding_text(len(p.media), p.total_steps)  # the files go in the one result message
        else:
            text = rendering_text(p.step, p.total_steps)
        await self._edit_status(p.job_id, status, text)

    async def _edit_status(self, job_id: str, status: dict[str, str], text: str) -> None:
        hook = await self._webhook(job_id, status)
        if hook is not None and status.get("message_id"):
            try:
                await hook.edit_message(int(status["message_id"]), content=text)
                return
            except (discord.NotFound, discord.Forbidden):
                await self._token_expired(job_id)
            except discord.HTTPException as exc:
                if exc.status != 401:
                    raise
                await self._token_expired(job_id)
        channel = self.client.get_partial_messageable(int(status["channel_id"]))
        if status.get("fallback_id"):
            await channel.get_partial_message(int(status["fallback_id"])).edit(content=text)
        elif status.get("can_post"):
            msg = await channel.send(text, allowed_mentions=discord.AllowedMentions.none(),
                                     **self._reference(status))
            await self.state.remember_status(job_id, {**status, "fallback_id": str(msg.id)})
            await self._retire_original(status, translate(CONTINUED_TEXT))

    async def _retire_original(self, status: dict[str, str], text: str) -> None:
        """The interaction's status message, once its token is gone: marked with `text` through the channel (the
        bot wrote it), or else deleted, so it does not stay at "Rendering" forever; left as it is where the bot
        cannot reach it."""
        if not status.get("message_id") or status.get("user_install"):
            return  # through a member's own install the bot cannot reach that channel at all
        channel = self.client.get_partial_messageable(int(status["channel_id"]))
        message = channel.get_partial_message(int(status["message_id"]))
        try:
            await message.edit(content=text)
        except discord.HTTPException:
            try:
                await message.delete()
            except discord.HTTPException as exc:
                log.info("could not retire status message %s (%s)", message.id, exc.status)

    @staticmethod
    def _reference(status: dict[str, str]) -> dict[str, Any]:
        """Answer the original status message, if there is one (it may since have been deleted)."""
        if not status.get("message_id"):
            return {}
        return {"reference": discord.MessageReference(message_id=int(status["message_id"]),
                                                      channel_id=int(status["channel_id"]), fail_if_not_exists=False)}

    async def _upload(self, stack: AsyncExitStack, blob_id: str, filename: str, limit: int) -> Upload | str:
        """The attachment for a stored medium, or the note saying why there is none. One that fits as it is goes
        as a file (open until `stack` closes), unread; one that must shrink is read whole for the re-encode."""
        opened = await self.service.open_media(blob_id)
        if opened is None:
            return translate(EXPIRED)
        info, obj = opened
        if fits_as_is(obj.size, info.mime, limits(limit)):
            return Upload(await stack.enter_async_context(seekable(obj)), filename)
        data = await obj.read_and_close()
        return await asyncio.to_thread(fit, data, info.mime, filename, limit) or translate(TOO_LARGE)

    async def reply(self, r: GenerationReply, entry_id: str) -> None:
        with pause_on_429("result"):
            async with AsyncExitStack() as stack:  # the result files stay open until every route is tried
                await self._reply(r, entry_id, stack)

    async def _reply(self, r: GenerationReply, entry_id: str, stack: AsyncExitStack) -> None:
        if await self.state.delivered(r.job_id) is not None:
            return  # a redelivered entry: the result is already posted
        status = await self.state.status(r.job_id)
        if status is None:
            if time.time() * 1000 - int(entry_id.split("-")[0]) < UNKNOWN_STATUS_GRACE_MS:
                raise NotReady(r.job_id)
            status = {"channel_id": r.requester.chat_id, "user_id": r.requester.user_id, "can_post": "1"}
        limit = int(status.get("limit") or self.settings.discord_default_upload_limit)
        text = error_text(r.error) if r.error else r.caption
        files: list[tuple[bytes | BinaryIO, str]] = []
        notes: list[str] = []
        several = not r.error and not r.kind.is_video and len(r.media) > 1  # --n: every image of the prompt
        for media in [] if r.error else r.media if several else r.media[:1]:
            fitted = await self._upload(stack, media.blob_key, media.filename, limit)
            if isinstance(fitted, str):
                notes.append(fitted)
                continue
            files.append((fitted.data, fitted.filename))
            if fitted.note:
                notes.append(fitted.note)
        if several and len(files) > 1:
            seeds = ", ".join(str((r.seed + i) % 2**32) for i in range(len(r.media)))
            notes.insert(0, ngettext("{n} image (1-{n} as the buttons number them), seeds {seeds}",
                                     "{n} images (1-{n} as the buttons number them), seeds {seeds}",
                                     len(r.media), seeds=seeds))
            if self.settings.discord_grid:  # one numbered 2x2 grid image instead of one attachment per image
                grid = await asyncio.to_thread(grid_image, [content_of(data) for data, _ in files])
                files = [(grid, f"reelsmith-{r.job_id}-grid.png")]
        if r.spoiler:  # Discord hides an attachment whose name starts with SPOILER_ until it is clicked
            files = [(data, spoiler_name(name)) for data, name in files]
        content = clip("\n".join([text, *notes]))
        view = result_view(self.service.result_buttons(r))
        ref = await self._post_result(r.job_id, status, content, files, view)
        await self.state.mark_delivered(r.job_id, ref)

    async def _post_result(self, job_id: str, status: dict[str, str], content: str,
                           files: list[tuple[bytes | BinaryIO, str]], view: discord.ui.View | None) -> dict[str, str]:
        def make_files() -> list[discord.File]:
            return [as_file(data, name) for data, name in files]

        hook = await self._webhook(job_id, status)
        if hook is not None:
            try:
                if status.get("message_id"):
                    # The status message becomes the result: its Cancel button goes (an error keeps none).
                    msg = await hook.edit_message(int(status["message_id"]), content=content,
                                                  attachments=make_files(), view=view)
                else:
                    msg = await hook.send(content, files=make_files(), view=view or discord.utils.MISSING, wait=True)
                return {"channel_id": status["channel_id"], "message_id": str(msg.id), "via": "interaction"}
            except (discord.NotFound, discord.Forbidden):
                await self._token_expired(job_id)
            except discord.HTTPException as exc:
                if exc.status != 401:
                    raise  # 429 / 5xx: leave the entry pending, it is retried
                await self._token_expired(job_id)
        kwargs: dict[str, Any] = {"allowed_mentions": discord.AllowedMentions(users=True)}
        if view is not None:
            kwargs["view"] = view
        mention = f"<@{status['user_id']}> " if status.get("user_id") and status.get("guild_id") else ""
        if status.get("can_post"):
            channel = self.client.get_partial_messageable(int(status["channel_id"]))
            try:
                sent = await channel.send(clip(mention + content), files=make_files(), **self._reference(status),
                                          **kwargs)
                if status.get("fallback_id"):  # the interim status message has served its purpose
                    await self._quietly_delete(channel.get_partial_message(int(status["fallback_id"])))
                await self._retire_original(status, translate(DONE_TEXT))
                return {"channel_id": status["channel_id"], "message_id": str(sent.id), "via": "channel"}
            except (discord.NotFound, discord.Forbidden):
                log.info("cannot post in channel %s; sending job %s by DM", status["channel_id"], job_id)
        note = translate(DM_USER_INSTALL_NOTE if status.get("user_install") else DM_NOTE)
        sent_ref = await self._direct(job_id, status, clip(content, MESSAGE_LIMIT - len(note) - 1) + "\n" + note,
                                      make_files(), kwargs)
        if sent_ref["via"] == "dm":
            await self._retire_original(status, translate(DONE_DM_TEXT))
        return sent_ref

    async def _direct(self, job_id: str, status: dict[str, str], content: str, files: list[discord.File],
                      kwargs: dict[str, Any]) -> dict[str, str]:
        """Last resort where the bot may not post: a DM to the member; if even that is closed, give up loudly."""
        try:
            user = await self.client.fetch_user(int(status["user_id"]))
            msg = await user.send(content, files=files, **kwargs)
            return {"channel_id": str(msg.channel.id), "message_id": str(msg.id), "via": "dm"}
        except (discord.NotFound, discord.Forbidden, KeyError, ValueError):
            log.error("job %s: no channel, token or DM to deliver to; result stays in the job store", job_id)
            return {"via": "undeliverable"}

    @staticmethod
    async def _quietly_delete(message: discord.PartialMessage) -> None:
        try:
            await message.delete()
        except discord.HTTPException:
            log.info("could not delete interim status message %s", message.id)

    async def notice(self, n: Notice, entry_id: str) -> None:
        with pause_on_429("notice"):
            async with AsyncExitStack() as stack:
                await self._notice(n, entry_id, stack)

    async def _notice(self, n: Notice, entry_id: str, stack: AsyncExitStack) -> None:
        marker = "n" + entry_id.replace("-", "")
        if await self.state.delivered(marker) is not None:
            return
        files = []
        for media in n.media[:10]:
            fitted = await self._upload(stack, media.blob_key, media.filename,
                                        self.settings.discord_default_upload_limit)
            if not isinstance(fitted, str):
                files.append(as_file(fitted.data, fitted.filename))
        channel = self.client.get_partial_messageable(int(n.chat_id))
        view = notice_view(n.buttons)
        kwargs: dict[str, Any] = {"view": view} if view is not None else {}
        try:
            msg = await channel.send(clip(n.text), files=files, allowed_mentions=discord.AllowedMentions.none(),
                                     **kwargs)
        except (discord.NotFound, discord.Forbidden):
            log.error("cannot post a notice in channel %s (missing or not allowed); check the setting", n.chat_id)
            return
        await self.state.mark_delivered(marker, {"channel_id": n.chat_id, "message_id": str(msg.id)})

    async def delete(self, d: DeleteResult) -> None:
        with pause_on_429("delete"):
            await self._delete(d)

    async def _delete(self, d: DeleteResult) -> None:
        ref = await self.state.delivered(d.job_id)
        if not ref or not ref.get("message_id"):
            return
        channel = self.client.get_partial_messageable(int(ref["channel_id"]))
        try:
            await channel.get_partial_message(int(ref["message_id"])).delete()
        except discord.NotFound:
            return  # already gone
        except discord.Forbidden:
            status = await self.state.status(d.job_id) or {}
            hook = await self._webhook(d.job_id, status)
            if hook is None:
                log.error("cannot delete the result of job %s: not allowed and the token has expired", d.job_id)
                return
            await hook.delete_message(int(ref["message_id"]))
