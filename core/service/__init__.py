"""The service adapters call: the facade (`facade.Reelsmith`), the chat grammar, member-facing texts, and the
feature registry that assembles moderation, quotas and labelling into one service (`features.build_service`)."""

from core.service.facade import Attachment, Outcome, Reelsmith, button_data, parse_button_data
from core.service.grammar import COMMANDS, HELP_TEXT, MAX_SEED
from core.service.texts import error_text, queued_text, rendering_text

__all__ = [
    "Attachment",
    "COMMANDS",
    "HELP_TEXT",
    "MAX_SEED",
    "Outcome",
    "Reelsmith",
    "button_data",
    "error_text",
    "parse_button_data",
    "queued_text",
    "rendering_text",
]
