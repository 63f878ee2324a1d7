"""Extend: a video result continued from its last frame(s), stitched into one clip.

The source clip's frames arrive decoded at the request's size (`Job.video`). The continuation is one run of the
video model for the added frames plus the overlap it starts from:
- a model with a condition pipeline (LTX's `LTXConditionPipeline`) is conditioned on the source's last
  `CONDITION_FRAMES` frames at frame 0, so motion carries across the join;
- otherwise image-to-video starts from the source's last frame.
The run's overlapping frames repeat the source's and are dropped: the result is the source's frames, then the
new ones (`request.num_frames` of them), at the source's frame rate. The source part is labelled already
(`GenerationResult.labelled`); the worker labels the new part.
"""

from __future__ import annotations

import time

from PIL import Image

from core.errors import GenerationError
from core.generation.pipeline import GenerationResult, Job, PipelineSet
from core.i18n import _
from core.models import Task
from core.types import JobKind

# How many of the source's last frames a condition pipeline continues from: one LTX latent frame (8k+1).
CONDITION_FRAMES = 9


def overlap_frames(source_frames: int, conditioned: bool) -> int:
    """Frames of the run that repeat the source's end: its last 8k+1 frames (at most CONDITION_FRAMES) for a
    condition pipeline, else its last frame."""
    if not conditioned:
        return 1
    k = min(source_frames, CONDITION_FRAMES)
    return max(1, (k - 1) // 8 * 8 + 1)


def stitch(source: list[Image.Image], run: list[Image.Image], overlap: int) -> list[Image.Image]:
    """The source's frames, then the run's after the `overlap` frames it repeats (the join is not doubled)."""
    return [*source, *run[overlap:]]


def extend(pipes: PipelineSet, job: Job) -> GenerationResult:
    """Run one extend job (blocking): the continuation, stitched after the source clip."""
    request = job.request
    source = list(job.video or [])
    if not source:
        raise GenerationError(_("The clip to extend could not be read. Send a new /video command."))
    entry = pipes.entry_for(JobKind.EXTEND, request.model)
    conditioned = pipes.condition_pipe(entry.name) is not None
    if not conditioned and not entry.serves(Task.IMAGE_TO_VIDEO):
        raise GenerationError(_("The video model {model} cannot continue a clip. Ask an owner for an image-to-video "
                                "model (see /models).", model=entry.label))
    overlap = overlap_frames(len(source), conditioned)
    base = dict(num_frames=request.num_frames + overlap, references=[], source_job="", source_frames=0)
    size = (request.width, request.height)
    if conditioned:
        tail = [f.convert("RGB").resize(size) for f in source[-overlap:]]
        run = Job(request.model_copy(update={**base, "kind": JobKind.VIDEO}), video=tail, progress=job.progress,
                  should_stop=job.should_stop, continues=True)
    else:
        last = source[-1].convert("RGB").resize(size)
        run = Job(request.model_copy(update={**base, "kind": JobKind.ANIMATE}), images=[last],
                  progress=job.progress, should_stop=job.should_stop)
    started = time.perf_counter()
    [made] = pipes.render([run])
    frames = stitch([f.convert("RGB").resize(size) for f in source], made.frames, overlap)
    return GenerationResult(frames=frames, is_video=True, model=made.model, seconds=time.perf_counter() - started,
                            flagged=made.flagged, fps=float(request.fps), notes=made.notes, labelled=len(source))
