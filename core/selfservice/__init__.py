"""Member self-service: Copy command, Edit prompt, Delete my result, Cancel my job, /history.

Modules: `command_text` (a request back to the command that makes it again), `history` (each member's recent
results), `access` (only the requester and moderators delete or cancel), `actions` (the buttons and commands),
`feature` (the `Feature`).
"""

from core.selfservice.actions import COMMAND, PREFILL
from core.selfservice.command_text import command_text
from core.selfservice.feature import selfservice_feature

__all__ = ["COMMAND", "PREFILL", "command_text", "selfservice_feature"]
