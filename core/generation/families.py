"""How a catalog entry's pipelines are loaded and derived, by its family declaration in `core.models`.

A worker loads one base pipeline per model with `from_pretrained` (as the class the checkpoint's
model_index.json names; undeclared image families through diffusers' AutoPipeline) and derives the other
tasks' pipelines from it with `from_pipe`, sharing the weights. A task the entry does not serve has no
pipeline, and the member is told so before queueing (the service) or, failing that, by the worker.
"""

from __future__ import annotations

from core.models import Task
from core.models.catalog import AUTO_IMAGE, ModelEntry


def loader_for(entry: ModelEntry) -> str:
    """The diffusers class whose `from_pretrained` loads the entry's base pipeline."""
    return AUTO_IMAGE.checkpoints[0].loader if entry.family == AUTO_IMAGE.name else "DiffusionPipeline"


def pipeline_for(entry: ModelEntry, loaded_class: str, task: Task) -> str | None:
    """The class that does `task` for the entry's base loaded as `loaded_class`: `loaded_class` when the base does
    it itself, another class to derive with `from_pipe`, or None when the entry does not serve the task."""
    name = entry.checkpoint.pipelines.get(task) if entry.serves(task) else None
    if name is None:
        return None
    return loaded_class if task == base_task(entry) or name == loaded_class else name


def base_task(entry: ModelEntry) -> Task:
    """The task the base pipeline does itself: the one whose class the checkpoint loads as."""
    pipelines = entry.checkpoint.pipelines
    return next((t for t in entry.tasks if pipelines.get(t) == entry.checkpoint.loader), entry.tasks[0])
