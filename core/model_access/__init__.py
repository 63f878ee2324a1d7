"""Choosing a model: which catalog models a member may use in a chat (the owner's tiers and scopes, the chat's
own rules), settling each request's model before queueing, and `/models` (`feature` assembles them)."""

from core.model_access.choice import ModelAccess, task_for
from core.model_access.commands import MODELS_HELP, usable_names
from core.model_access.feature import model_access_feature
from core.model_access.rules import ChatRules, ModelRules

__all__ = ["MODELS_HELP", "ChatRules", "ModelAccess", "ModelRules", "model_access_feature", "task_for",
           "usable_names"]
