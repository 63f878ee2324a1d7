"""Platform-neutral data that crosses process boundaries: requests, replies, progress."""

from __future__ import annotations

import time
import uuid
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, Field, model_validator


class JobKind(StrEnum):
    IMAGE = "image"  # text-to-image
    EDIT = "edit"  # image-to-image
    VIDEO = "video"  # text-to-video
    ANIMATE = "animate"  # image-to-video
    MEME = "meme"  # captions on a member's image/video/GIF, no model
    UPSCALE = "upscale"  # a member's image, larger (an upscale model, or the image model's image-to-image)
    EXTEND = "extend"  # a video result, continued from its last frame (core.extend)
    INPAINT = "inpaint"  # a canvas and a mask (white: repaint): Zoom out, Pan, Vary (Region) (core.canvas)

    @property
    def family(self) -> str:
        """The model family that renders this kind: "image", "video", or "none" (memes of a member's picture)."""
        if not self.uses_model:
            return "none"
        return "video" if self.is_video else "image"

    @property
    def is_video(self) -> bool:
        return self in (JobKind.VIDEO, JobKind.ANIMATE, JobKind.EXTEND)

    @property
    def needs_image(self) -> bool:
        return self in (JobKind.EDIT, JobKind.ANIMATE, JobKind.MEME, JobKind.UPSCALE, JobKind.INPAINT)

    @property
    def uses_model(self) -> bool:
        return self != JobKind.MEME


class MediaType(StrEnum):
    IMAGE = "image"
    VIDEO = "video"
    AUDIO = "audio"


class Requester(BaseModel):
    """Who asked, and where the answer goes."""

    platform: str
    user_id: str
    chat_id: str
    display_name: str = ""
    # Opaque, non-secret routing data an adapter needs to answer (e.g. a message id to reply to).
    route: dict[str, str] = Field(default_factory=dict)
    # Where this chat's moderators rule (bans, pause, blocklists, chat budgets): the Telegram chat, the Discord
    # server (guild id) of a channel or thread. Empty means the chat itself (`chat_id`), e.g. a DM.
    scope: str = ""
    # The member's language as their platform reports it (Discord `pt-BR`, Telegram `ja`, a browser's choice):
    # texts made for this request, here or in the worker, use it (`core.i18n.use_locale`). Empty: English.
    locale: str = ""

    @model_validator(mode="after")
    def _scope_defaults_to_chat(self) -> Requester:
        if not self.scope:
            self.scope = self.chat_id
        return self


class MediaRef(BaseModel):
    """A stored blob the job can read; never a platform URL."""

    blob_key: str
    mime: str
    media_type: MediaType
    name: str = ""
    size: int = 0
    width: int | None = None
    height: int | None = None
    duration_s: float | None = None


def new_job_id() -> str:
    """Short unique id: fits Telegram's 64-byte callback data and Discord's 100-char custom ids."""
    return uuid.uuid4().hex[:16]


class LoraUse(BaseModel):
    """A LoRA a job runs with: its file stem under REELSMITH_LORAS_DIR (never a path) and its weight."""

    name: str
    weight: float = 1.0


class GenerationRequest(BaseModel):
    """One generation job, as queued."""

    job_id: str = Field(default_factory=new_job_id)
    requester: Requester
    kind: JobKind
    prompt: str
    negative_prompt: str = ""
    aspect_ratio: str = "1:1"
    width: int
    height: int
    seed: int
    steps: int
    num_frames: int = 1
    fps: int = 24
    references: list[MediaRef] = Field(default_factory=list)
    created_at: float = Field(default_factory=time.time)
    # Fair-queue share of the requester's quota tier (set by the quota guard; 2 = twice the default's share).
    priority: float = Field(default=1.0, gt=0)
    # The quota tier it was admitted under (set by the quota guard); "relax": the relax lane (core/quotas/relax.py).
    tier: str = ""
    # Set by the NSFW guard where the channel allows age-restricted results; elsewhere the worker refuses a result
    # the model's own safety checker flagged (moderation's result gate).
    nsfw_allowed: bool = False
    # The catalog model that renders it (`core.models.catalog`), settled before queueing; its cost factor.
    model: str = ""
    cost_factor: float = Field(default=1.0, gt=0)
    # What the member set themselves ("steps", "frames"): the model's own defaults fill in only the rest.
    typed: list[Literal["steps", "frames"]] = Field(default_factory=list)
    # --- media (references, memes, output format) ---
    meme_top: str = ""
    meme_bottom: str = ""
    fit_audio: bool = False  # the clip was timed to the audio reference
    output_format: Literal["auto", "mp4", "gif"] = "auto"
    notes: list[str] = Field(default_factory=list)  # said in the reply (e.g. references that were not used)
    # --- styles ---
    style: str = ""  # the style applied (its template, negative and aspect are already in the fields above)
    loras: list[LoraUse] = Field(default_factory=list)
    # --- extend (core.extend): `num_frames` counts the frames added to the source clip ---
    source_job: str = ""  # the job whose clip this one continues (provenance links it)
    source_frames: int = Field(default=0, ge=0)  # that clip's length in frames
    # --- several images (core.variants) ---
    n_images: int = Field(default=1, ge=1, le=4)  # images of one prompt, seeds seed..seed+n-1, one pipeline call
    strength: float | None = Field(default=None, gt=0, le=1)  # image-to-image strength; None: edit_strength
    # --- canvas (core.canvas) ---
    # Pixels the job is priced by when not all of width x height are new (a zoom-out pays for its border).
    billed_pixels: int | None = Field(default=None, ge=0)
    # --- spoilers: posted hidden (--spoiler, or the chat's default; moderation's request step) ---
    spoiler: bool = False


def size_for(aspect_ratio: str, long_side: int, multiple: int = 32) -> tuple[int, int]:
    """Width and height for an aspect ratio, long side fixed, both multiples of `multiple`: the size every
    request of that aspect ratio is rendered at (and the sizes /verify reads watermarks back at)."""
    w, h = (int(x) for x in aspect_ratio.split(":"))
    width, height = (float(long_side), long_side * h / w) if w >= h else (long_side * w / h, float(long_side))

    def snap(v: float) -> int:
        return max(multiple, int(round(v / multiple)) * multiple)
    return snap(width), snap(height)


class MediaFile(BaseModel):
    """A finished output, stored as a blob."""

    blob_key: str
    mime: str
    filename: str
    size: int
    width: int
    height: int
    duration_s: float | None = None


# Whose failure a job's error is: "member" (their attachment could not be used when the job ran: charged)
# or "service" (everything else: refunded).
Fault = Literal["member", "service"]


class GenerationReply(BaseModel):
    """What the worker publishes when a job ends, successfully or not."""

    job_id: str
    requester: Requester
    kind: JobKind
    prompt: str
    seed: int
    media: list[MediaFile] = Field(default_factory=list)
    caption: str = ""
    error: str | None = None
    fault: Fault | None = None  # set with `error`; unset counts as "service"
    model: str = ""
    elapsed_s: float = 0.0
    gpu_s: float = 0.0  # the pipeline's render time (0 when nothing was rendered): GPU time per tier
    notes: list[str] = Field(default_factory=list)  # e.g. "extra reference images were not used: ..."
    # Post the media hidden until clicked (`core.queue.replies.spoiler_for`): Discord `SPOILER_` files,
    # Telegram `has_spoiler`.
    spoiler: bool = False


class Progress(BaseModel):
    """A progress update for a running job."""

    job_id: str
    requester: Requester
    state: Literal["queued", "running", "encoding"]
    step: int = 0
    total_steps: int = 0
    position: int | None = None
    # While a job's several images are being encoded: the files ready so far (state "encoding", `step` of
    # `total_steps` ready). Advisory like all progress: the final reply still carries every file.
    media: list[MediaFile] = Field(default_factory=list)

    @property
    def fraction(self) -> float:
        return self.step / self.total_steps if self.total_steps else 0.0


class Button(BaseModel):
    """A button under a message; `data` is a `core.contract.button_data` payload. `row` places it (rows from the
    top; Discord has at most 5 rows of 5)."""

    label: str
    data: str
    row: int = Field(default=0, ge=0)


class Notice(BaseModel):
    """A message core asks an adapter to post in some chat (e.g. a report in the moderators' review chat)."""

    platform: str
    chat_id: str
    text: str
    media: list[MediaFile] = Field(default_factory=list)
    buttons: list[Button] = Field(default_factory=list)
    ref: str = ""  # what this notice is about (e.g. the reported job id)


class DeleteResult(BaseModel):
    """Ask an adapter to delete the result message(s) it posted for a job."""

    platform: str
    job_id: str
