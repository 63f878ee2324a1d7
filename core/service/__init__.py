"""The service adapters call, assembled from the feature list.

Modules: `facade` (`Reelsmith`: what adapters call), `features` (the feature list; `build_service`), `grammar`
(the chat grammar), `requests` (a parsed command to a job), `attachments` (members' files checked from their
bytes), `actions` (the built-in result buttons), `buttons` (result buttons from the features' declarations),
`texts` (member-facing texts).
"""

from core.contract import (
    Attachment,
    CommandCall,
    Outcome,
    ResultButton,
    button_data,
    image_ref,
    parse_button_data,
    parse_image_ref,
)
from core.errors import error_text
from core.service.facade import Reelsmith
from core.service.features import build_features, build_service
from core.service.grammar import COMMANDS, HELP_TEXT, MAX_SEED, UPSCALE_SCALES, parse_command
from core.service.requests import primary_first
from core.service.texts import encoding_text, progress_bar, queued_text, rendering_text

__all__ = [
    "COMMANDS", "HELP_TEXT", "MAX_SEED", "Attachment", "CommandCall", "Outcome", "Reelsmith", "build_features",
    "build_service", "button_data", "error_text", "parse_button_data", "parse_command", "primary_first",
    "encoding_text", "progress_bar", "queued_text", "rendering_text", "UPSCALE_SCALES", "ResultButton", "image_ref",
    "parse_image_ref",
]
