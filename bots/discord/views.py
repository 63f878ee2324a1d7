"""Result buttons that keep working after a restart (custom ids `rs:<action>:<job_id>`), and the upload modals."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from re import Match
from typing import Any, Protocol, runtime_checkable

import discord

from core.service import button_data, parse_button_data
from core.types import Button

MODAL_TEXT_LIMIT = 4000  # Discord's longest text input
ModalHandler = Callable[[discord.Interaction[Any], str, list[discord.Attachment]], Awaitable[None]]


@runtime_checkable
class PressHandler(Protocol):
    """The client that received a result button press handles it (the Reelsmith bot does)."""

    async def on_result_button(self, interaction: discord.Interaction[Any], data: str) -> None: ...


class ResultButton(discord.ui.DynamicItem[discord.ui.Button[Any]],
                   template=r"rs:(?P<action>[a-z_]{1,20}):(?P<job>[A-Za-z0-9]{1,32})"):
    """One button; matched by its custom id, so no view needs to be in memory when it is pressed."""

    def __init__(self, action: str, job_id: str, label: str = "", row: int | None = None) -> None:
        style = discord.ButtonStyle.danger if action == "report" else discord.ButtonStyle.secondary
        super().__init__(discord.ui.Button(label=label or action.title(), style=style,
                                           custom_id=button_data(action, job_id), row=row))
        self.action = action

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any],
                             match: Match[str], /) -> ResultButton:
        return cls(match["action"], match["job"], getattr(item, "label", "") or "")

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        client = interaction.client
        if isinstance(client, PressHandler):
            await client.on_result_button(interaction, self.custom_id)


def result_view(buttons: list[Button]) -> discord.ui.View | None:
    """The persistent buttons under a result (`Reelsmith.result_buttons`), in their rows; None without any."""
    if not buttons:
        return None
    view = discord.ui.View(timeout=None)
    for b in buttons:
        parsed = parse_button_data(b.data)
        if parsed is not None:
            view.add_item(ResultButton(parsed[0], parsed[1], b.label, row=b.row))
    return view


def notice_view(buttons: list[Button]) -> discord.ui.View | None:
    if not buttons:
        return None
    view = discord.ui.View(timeout=None)
    for b in buttons[:25]:
        view.add_item(discord.ui.Button(label=b.label[:80], custom_id=b.data[:100],
                                        style=discord.ButtonStyle.secondary))
    return view


class UploadModal(discord.ui.Modal):
    """A prompt, optional flags and up to 10 files through Discord's File Upload component."""

    def __init__(self, command: str, on_submit: ModalHandler, *, prompt: str = "", files_required: bool = True,
                 max_files: int = 10) -> None:
        super().__init__(title=f"/{command}"[:45], timeout=600)
        self.command = command
        self._on_submit = on_submit
        self.prompt: discord.ui.TextInput[Any] = discord.ui.TextInput(
            style=discord.TextStyle.paragraph, default=prompt[:1000] or None, max_length=1000, required=True)
        self.flags: discord.ui.TextInput[Any] = discord.ui.TextInput(
            style=discord.TextStyle.short, required=False, max_length=200, placeholder="--ar 16:9 --seed 42")
        self.files: discord.ui.FileUpload[Any] = discord.ui.FileUpload(
            required=files_required, min_values=1 if files_required else 0, max_values=max_files)
        self.add_item(discord.ui.Label(text="Prompt", component=self.prompt))
        self.add_item(discord.ui.Label(text="Options", description="Flags such as --ar, --seed, --no",
                                       component=self.flags))
        self.add_item(discord.ui.Label(text="Reference files", description=f"Up to {max_files} images, videos or audio",
                                       component=self.files))

    async def on_submit(self, interaction: discord.Interaction[Any], /) -> None:
        text = " ".join(p for p in (f"/{self.command}", self.prompt.value.strip(), self.flags.value.strip()) if p)
        await self._on_submit(interaction, text, list(self.files.values))


class EditModal(discord.ui.Modal):
    """Edit: the result's command in a text box, pre-filled; on submit the text runs as a command."""

    def __init__(self, command: str, on_submit: ModalHandler) -> None:
        super().__init__(title="Edit the command", timeout=600)
        self._on_submit = on_submit
        self.command: discord.ui.TextInput[Any] = discord.ui.TextInput(
            style=discord.TextStyle.paragraph, default=command[:MODAL_TEXT_LIMIT], max_length=MODAL_TEXT_LIMIT,
            required=True)
        self.add_item(discord.ui.Label(text="Command", description="Change it, then submit to run it",
                                       component=self.command))

    async def on_submit(self, interaction: discord.Interaction[Any], /) -> None:
        await self._on_submit(interaction, self.command.value.strip(), [])
