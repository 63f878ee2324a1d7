"""The Feature contract: what a feature declares, and the types its parts are written against.

A feature (moderation, quotas, labelling, metrics ...) is one `Feature` value: its request steps (run first,
in feature-list order, each returning the request it settles, e.g. the model it runs on), its guards (each with an
explicit order number and stage), its chat commands, its result and review buttons, its refusal listeners,
and its worker steps (finalizers, frame steps, media signers, result gates). `core/service/features.py`
lists the features; the service (`core.service.Reelsmith`) and the worker are assembled from that list, and
nothing edits them in place afterwards.

This module sits below every feature package, so features never import the service that assembles them:
at call time they reach it through the small `Service` protocol.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, Protocol

from PIL import Image

from core.context import ChatContext
from core.types import Button, GenerationReply, GenerationRequest, Requester

if TYPE_CHECKING:
    import numpy as np
    from arq.connections import ArqRedis

    from core.queue.blobs import BlobStore, Upload
    from core.queue.finisher import JobFinisher
    from core.queue.jobs import JobQueue
    from core.settings import Settings


# ---- what adapters hand in and get back ------------------------------------------------------
@dataclass(frozen=True)
class Attachment:
    """Bytes an adapter downloaded itself; `declared_mime` is never trusted."""

    data: bytes
    filename: str = ""
    declared_mime: str = ""


@dataclass
class Outcome:
    """The answer to show in chat right away."""

    text: str
    ok: bool
    job_id: str | None = None
    position: int | None = None
    request: GenerationRequest | None = None
    private: bool = False  # show only to the member (Discord ephemeral), where the platform can
    extra: dict[str, str] = field(default_factory=dict)
    buttons: list[Button] = field(default_factory=list)  # under the answer (e.g. /history's Copy and Delete)


BUTTON_PREFIX = "rs"


def button_data(action: str, ref: str) -> str:
    """Button payload: `rs:<action>:<ref>` (a job or request id), under Telegram's 64 bytes and Discord's 100 chars."""
    return f"{BUTTON_PREFIX}:{action}:{ref}"


def image_ref(job_id: str, index: int) -> str:
    """A button ref naming one image of a several-image result (`U2`, `V3`): the job id, then its 1-based index."""
    return f"{job_id}{index}"


def parse_image_ref(ref: str) -> tuple[str, int]:
    """(job id, 1-based image index) from a button ref; a plain job id names its first image."""
    if len(ref) == 17 and ref[-1].isdigit():
        return ref[:16], int(ref[-1])
    return ref, 1


def parse_button_data(data: str) -> tuple[str, str] | None:
    """(action, ref) from a button payload, or None if it is not one of ours."""
    parts = data.split(":")
    if len(parts) != 3 or parts[0] != BUTTON_PREFIX or not parts[2].isalnum() or len(parts[2]) > 32:
        return None
    return parts[1], parts[2]


# ---- what features reach of the assembled service -------------------------------------------
class Service(Protocol):
    """The parts of the service a feature's handlers use at call time (`core.service.Reelsmith` has them)."""

    @property
    def settings(self) -> Settings: ...

    @property
    def redis(self) -> ArqRedis: ...

    @property
    def blobs(self) -> BlobStore: ...

    @property
    def queue(self) -> JobQueue: ...

    @property
    def finisher(self) -> JobFinisher: ...

    async def enqueue(self, request: GenerationRequest, ctx: ChatContext,
                      uploads: list[Upload] | None = None) -> Outcome: ...

    async def job_for_button(self, requester: Requester,
                             job_id: str) -> tuple[GenerationRequest, GenerationReply | None]: ...


@dataclass(frozen=True)
class CommandCall:
    """One chat command for a feature's handler: who sent it, where, its text after the name, its files."""

    service: Service
    requester: Requester
    ctx: ChatContext
    args: str
    attachments: list[Attachment]


# ---- the parts a feature declares -------------------------------------------------------------
class Guard(Protocol):
    """Checked before a job is queued: `check` raises `core.errors.Refusal` to refuse; `undo` gives back what
    `check` took when a later guard refuses or queueing fails, so a refused request costs nothing."""

    async def check(self, request: GenerationRequest, ctx: ChatContext) -> None: ...

    async def undo(self, request: GenerationRequest) -> None: ...


# "request" guards see only the request and run before anything is stored; "media" guards read the stored
# references and run after storing (a refusal deletes what was stored).
GuardStage = Literal["request", "media"]

# Guard order bands: guards that only look run before guards that take something, so a refusal costs nothing.
LOOKING = 100  # bans, switches, prompt and reference checks
TAKING = 900  # reservations (credits)


@dataclass(frozen=True)
class GuardSpec:
    """A guard in the line: all features' guards run by `order` (lowest first), request stage before media."""

    guard: Guard
    order: int
    stage: GuardStage = "media"


@dataclass(frozen=True)
class Shaping:
    """A generation command's request as built, for a feature's request step (before any guard sees it)."""

    service: Service
    request: GenerationRequest
    ctx: ChatContext
    aspect_given: bool = False  # the member typed --ar
    n_given: bool = False  # the member typed --n (else the chat's default number of images applies)
    # The new attachments' bytes by their references' blob keys (not stored yet), for steps that read pixels.
    media: Mapping[str, bytes] = field(default_factory=dict)


# Reshapes a member's new request from a typed command before the guards run (a style's template, negative,
# aspect, LoRAs), so the guards check what will be generated; raises `core.errors.UserError` for a mistake the
# member can fix. Buttons (reroll, vary) re-queue a shaped request and skip these steps.
CommandStep = Callable[[Shaping], Awaitable[GenerationRequest]]
# (request, where) -> the request settled: run at the start of `Service.enqueue`, before any guard, for typed
# commands and buttons alike; raise `core.errors.Refusal` to refuse (nothing was taken or stored yet).
RequestStep = Callable[[GenerationRequest, ChatContext], Awaitable[GenerationRequest]]
CommandHandler = Callable[[CommandCall], Awaitable[Outcome]]
# (service, who pressed, where, the button's ref) -> the answer
ActionHandler = Callable[[Service, Requester, ChatContext, str], Awaitable[Outcome]]
# (who was refused, the refusal's reason, its message)
RefusalListener = Callable[[Requester, str, str], Awaitable[None]]
# Run once per finished job, after its reply is published (refunds, provenance, metrics).
Finalizer = Callable[[GenerationRequest, GenerationReply], Awaitable[None]]
# Run on finished frames before encoding (the visible badge, the invisible watermark). A video's frames are
# its job's own (fresh from the pipeline): a step may change them in place and return them.
FramePostprocessor = Callable[[GenerationRequest, list[Image.Image]], list[Image.Image]]


@dataclass(frozen=True)
class ClipMark:
    """A static luma change every new frame of a video gets, the last change to its pixels, made by the encoder.

    The MP4 writer adds `change(request, (width, height))` (int16 (H, W), full-range levels, or None for no
    change) to the Y plane it converts each frame to anyway, instead of a pass over three RGB channels before
    it; every other video encoder (GIF) gets the frames through `apply`, which makes the same change in RGB.
    """

    change: Callable[[GenerationRequest, tuple[int, int]], np.ndarray | None]
    apply: FramePostprocessor


# (request, model, data, mime) -> data: run on each encoded file before it is stored (C2PA signing).
MediaSigner = Callable[[GenerationRequest, str, bytes, str], bytes]


@dataclass(frozen=True)
class ResultFacts:
    """What the worker knows about a rendered result before it is encoded, for result gates."""

    flagged: bool = False  # the model's own safety checker flagged it


# (request, facts) -> a member-facing reason to refuse the result (the job fails, refunded), or None.
ResultGate = Callable[[GenerationRequest, ResultFacts], str | None]


def _always(_reply: GenerationReply) -> bool:
    return True


# Whether a button belongs under a finished result (e.g. images only).
ReplyTest = Callable[[GenerationReply], bool]


class Row:
    """Where a result button goes, top to bottom: the row groups every feature places its buttons in. Groups
    pack: a group joins the row above when it fits in it (five buttons), so a one-image result stays compact and
    a four-image one gets its U, V and S rows."""

    UPSCALE = 0  # U1..U4 (or one "Upscale")
    VARY = 1  # V1..V4
    VARY_STRONG = 2  # S1..S4
    NEXT = 3  # what to make from it: Reroll, Animate, Extend
    CANVAS = 4  # Zoom out, Vary (Region): one-image results
    PAN = 5  # the four Pan arrows
    MANAGE = 6  # Copy, Edit, Delete, Report


@dataclass(frozen=True)
class ResultButton:
    """A button every platform shows under finished results; pressing it runs the feature's action of that name.

    `row` is its `Row` group (Discord shows at most 5 rows of 5); `per_image` makes one per image of a
    several-image result (labelled `U1`..`U4` from `short` "U", else from `label`; the ref naming that image:
    `image_ref`);
    `private` answers only the presser (Discord ephemeral); `queues` says it queues a new job (adapters check
    they can post its result).
    """

    action: str
    label: str
    emoji: str = ""
    row: int = Row.NEXT
    show: ReplyTest = _always
    per_image: bool = False
    private: bool = False
    queues: bool = True
    short: str = ""  # the per-image label's stem ("U" -> U1..U4); `label` stays for a one-image result


@dataclass(frozen=True)
class CommandSpec:
    """A chat command a feature answers (`/quota`, `/mod` ...); `help` is its line in /help and command menus."""

    name: str
    handler: CommandHandler
    help: str = ""


@dataclass(frozen=True)
class Feature:
    """Everything one feature adds. The service side (command and request steps, guards, commands, actions, result
    buttons, refusal listeners) and the worker side (finalizers, frame steps, media signers, result gates); each
    runs in feature-list order, guards by their order number. A command, action or result button replaces one
    of the same name declared before it (in its place)."""

    name: str
    command_steps: tuple[CommandStep, ...] = ()  # typed commands, in `submit` (styles)
    request_steps: tuple[RequestStep, ...] = ()  # every request, first in `enqueue` (its model)
    guards: tuple[GuardSpec, ...] = ()
    commands: tuple[CommandSpec, ...] = ()
    actions: Mapping[str, ActionHandler] = field(default_factory=dict)
    result_buttons: tuple[ResultButton, ...] = ()
    status_buttons: tuple[ResultButton, ...] = ()  # on a queued or running job's status message (Cancel)
    refusal_listeners: tuple[RefusalListener, ...] = ()
    finalizers: tuple[Finalizer, ...] = ()
    frame_steps: tuple[FramePostprocessor, ...] = ()
    clip_marks: tuple[ClipMark, ...] = ()  # after every frame step, in the video's encoder
    media_signers: tuple[MediaSigner, ...] = ()
    result_gates: tuple[ResultGate, ...] = ()
