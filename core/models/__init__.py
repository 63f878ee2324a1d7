"""What models a deployment runs and what each can do, as data (no torch, no diffusers: bots may read it).

`tasks` names what a model can be asked to do; `family` declares one diffusers family (its checkpoint kinds,
the pipeline class for each task, how to call it); `families/` holds one module per family and the registry.
The generation package loads and calls models by these declarations; the service refuses, before queueing,
a task no configured model can do.
"""

from core.models.families import FAMILIES, family_for_class, family_named
from core.models.family import Checkpoint, Family, FrameRule
from core.models.tasks import Task, task_of

__all__ = ["FAMILIES", "Checkpoint", "Family", "FrameRule", "Task", "family_for_class", "family_named", "task_of"]
