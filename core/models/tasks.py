"""The tasks a model can be asked to do, and which task each job kind asks for."""

from __future__ import annotations

from enum import StrEnum

from core.types import JobKind


class Task(StrEnum):
    TEXT_TO_IMAGE = "text-to-image"
    IMAGE_TO_IMAGE = "image-to-image"
    INPAINT = "inpaint"
    UPSCALE = "upscale"
    TEXT_TO_VIDEO = "text-to-video"
    IMAGE_TO_VIDEO = "image-to-video"
    # LTX-style `conditions`: a reference clip from frame 0 (restyling), or several images at chosen frames.
    VIDEO_TO_VIDEO = "video-to-video"
    AUDIO_VIDEO = "audio+video"  # the model makes the soundtrack with the clip (LTX-2)


# What a task does, in the member's words, lives in whole sentences in core.models.task_texts (translated).


_BY_KIND = {
    JobKind.IMAGE: Task.TEXT_TO_IMAGE,
    JobKind.EDIT: Task.IMAGE_TO_IMAGE,
    JobKind.VIDEO: Task.TEXT_TO_VIDEO,
    JobKind.ANIMATE: Task.IMAGE_TO_VIDEO,
    JobKind.UPSCALE: Task.UPSCALE,
    JobKind.EXTEND: Task.IMAGE_TO_VIDEO,  # from the clip's last frame (a condition pipeline where the model has one)
    JobKind.INPAINT: Task.INPAINT,
}


def task_of(kind: JobKind) -> Task:
    """The task a job kind asks of a model (memes use no model: KeyError)."""
    return _BY_KIND[kind]
