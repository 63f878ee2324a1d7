# ruff: noqa: UP045  (Optional[...] is evaluated at runtime by discord.py, Range[...] does not support `|`)
"""The slash commands and message context menus: each one only builds command text and hands it to core.

The generation commands get typed options (aspect ratio choices, ranges, attachments); every other command
on the menu (`bots.menus.command_menu`: the grammar's and those features registered) becomes
`/name text:<..> file:<..>`, forwarded to core as `/name <text>`.
"""

# No `from __future__ import annotations`: discord.py reads these signatures to build the command options.

from collections.abc import Callable, Coroutine
from typing import Any, Optional

import discord
from discord import app_commands

from bots.discord.interactions import Interactions
from bots.discord.texts import ASPECT_RATIOS, command_text
from bots.discord.views import UploadModal
from bots.menus import MenuEntry
from core.i18n import N_, _, use_locale
from core.model_access import ModelAccess, usable_names
from core.models import Task
from core.service import MAX_SEED, UPSCALE_SCALES, error_text
from core.styles import ChatStyles, load_styles

AR_CHOICES = [app_commands.Choice(name=ar, value=ar) for ar in ASPECT_RATIOS]
KIND_CHOICES = [app_commands.Choice(name=f"/{c}", value=c) for c in ("imagine", "edit", "video", "animate")]
SCALE_CHOICES = [app_commands.Choice(name=f"{n}x", value=n) for n in UPSCALE_SCALES]
Seed = app_commands.Range[int, 0, MAX_SEED]
Positive = app_commands.Range[int, 1, 10_000]  # core checks the real limits and says what they are
Seconds = app_commands.Range[float, 0.1, 600.0]
Images = app_commands.Range[int, 1, 4]  # --n: images of one prompt (core.variants)
MAX_MODAL_FILES = 10
DESCRIPTION_LIMIT = 100  # Discord's limit on a command's description
# How the forwarded commands present themselves here: what their text option asks for, and which ones are
# answered only to whoever used them (deferred as ephemeral). A command not listed gets the defaults.
TEXT_HINTS = {"meme": N_("Top text | bottom text, or a prompt"), "mod": N_("What to do (see /mod help)"),
              "models": N_("Empty to list; moderators: deny|allow|default|reset (see /models help)")}
PRIVATE_COMMANDS = frozenset({"quota", "help", "avatar", "models", "history", "cancel", "delete"})
DEFAULT_HINT = N_("Arguments")

# Option descriptions are English here; `bots.discord.translator` gives Discord each shipped language's.
COMMON = {
    "prompt": N_("What to make, e.g. a corgi surfing at sunset"),
    "ar": N_("Aspect ratio"),
    "seed": N_("Seed, for repeatable results"),
    "steps": N_("Denoising steps"),
    "avoid": N_("Things to avoid, e.g. blurry, text"),
    "style": N_("A style of this server (see /styles)"),
    "model": N_("The model to use (see /models)"),
    "spoiler": N_("Hide the result behind a spoiler until it is clicked"),
}
Completer = Callable[[discord.Interaction[Any], str], Coroutine[Any, Any, list[app_commands.Choice[str]]]]


def _everywhere(cmd: Any) -> Any:
    """Usable in servers, DMs with the bot and group DMs, whether a server installed the app or a member installed
    it to their account (a user install: `bots.discord.installs`)."""
    cmd = app_commands.allowed_installs(guilds=True, users=True)(cmd)
    return app_commands.allowed_contexts(guilds=True, dms=True, private_channels=True)(cmd)


def _files(*atts: Optional[discord.Attachment]) -> list[discord.Attachment]:
    return [a for a in atts if a is not None]


def register(tree: app_commands.CommandTree[Any], flow: Interactions, menu: list[MenuEntry]) -> None:
    """Add every command on the menu to the tree (the generation commands with their typed options)."""

    async def prompt_autocomplete(interaction: discord.Interaction[Any], current: str) -> list[
            app_commands.Choice[str]]:
        prompts = await flow.recent_prompts(str(interaction.user.id), current)
        return [app_commands.Choice(name=p[:100], value=p[:100]) for p in prompts]

    access = ModelAccess(flow.settings, flow.service.redis)
    styles = ChatStyles(flow.service.redis, flow.settings, load_styles(flow.settings))

    async def style_autocomplete(interaction: discord.Interaction[Any], current: str) -> list[
            app_commands.Choice[str]]:
        """The styles this server may use (the owner's and its moderators'), by name."""
        who = flow.requester(interaction)
        names = [n for n in sorted(await styles.available(who.platform, who.scope)) if current.strip().lower() in n]
        return [app_commands.Choice(name=n, value=n) for n in names[:25]]

    def models_for(task: Task) -> Completer:
        """Autocomplete for `model`: the models this member may use here for the command's task."""
        async def complete(interaction: discord.Interaction[Any], current: str) -> list[app_commands.Choice[str]]:
            usable = await access.usable(flow.requester(interaction), flow.context(interaction))
            names = [n for n in usable_names(usable, task) if current.strip().lower() in n]
            return [app_commands.Choice(name=n, value=n) for n in names[:25]]
        return complete

    @app_commands.command(name="imagine", description=N_("Make an image from text"))
    @app_commands.describe(**COMMON, reference=N_("An optional reference image"),
                           images=N_("How many images (1-4)"))
    @app_commands.choices(ar=AR_CHOICES)
    @app_commands.autocomplete(prompt=prompt_autocomplete, model=models_for(Task.TEXT_TO_IMAGE),
                               style=style_autocomplete)
    async def imagine(interaction: discord.Interaction[Any], prompt: str, ar: Optional[str] = None,
                      seed: Optional[Seed] = None, steps: Optional[Positive] = None, avoid: Optional[str] = None,
                      reference: Optional[discord.Attachment] = None, style: Optional[str] = None,
                      model: Optional[str] = None, images: Optional[Images] = None,
                      spoiler: Optional[bool] = None) -> None:
        text = command_text("imagine", prompt, ar=ar, seed=seed, steps=steps, avoid=avoid, style=style, model=model,
                            extra=f"--n {images}" if images else "", spoiler=spoiler)
        await flow.text(interaction, text, _files(reference), prompt=prompt)

    @app_commands.command(name="video", description=N_("Make a short video from text"))
    @app_commands.describe(**COMMON, frames=N_("Length in frames"), duration=N_("Length in seconds"),
                           image=N_("Optional reference image"), video=N_("Optional reference video"),
                           audio=N_("Optional reference audio"))
    @app_commands.choices(ar=AR_CHOICES)
    @app_commands.autocomplete(prompt=prompt_autocomplete, model=models_for(Task.TEXT_TO_VIDEO),
                               style=style_autocomplete)
    async def video(interaction: discord.Interaction[Any], prompt: str, ar: Optional[str] = None,
                    seed: Optional[Seed] = None, steps: Optional[Positive] = None,
                    frames: Optional[Positive] = None, duration: Optional[Seconds] = None,
                    avoid: Optional[str] = None, image: Optional[discord.Attachment] = None,
                    video: Optional[discord.Attachment] = None, audio: Optional[discord.Attachment] = None,
                    style: Optional[str] = None, model: Optional[str] = None,
                    spoiler: Optional[bool] = None) -> None:
        text = command_text("video", prompt, ar=ar, seed=seed, steps=steps, frames=frames, duration=duration,
                            avoid=avoid, style=style, model=model, spoiler=spoiler)
        await flow.text(interaction, text, _files(image, video, audio), prompt=prompt)

    @app_commands.command(name="edit", description=N_("Change an image"))
    @app_commands.describe(image=N_("The image to change"), **COMMON, images=N_("How many images (1-4)"),
                           mask=N_("Repaint part: a black and white mask of the image, white is repainted"))
    @app_commands.choices(ar=AR_CHOICES)
    @app_commands.autocomplete(prompt=prompt_autocomplete, model=models_for(Task.IMAGE_TO_IMAGE),
                               style=style_autocomplete)
    async def edit(interaction: discord.Interaction[Any], image: discord.Attachment, prompt: str,
                   ar: Optional[str] = None, seed: Optional[Seed] = None, steps: Optional[Positive] = None,
                   avoid: Optional[str] = None, style: Optional[str] = None, model: Optional[str] = None,
                   images: Optional[Images] = None, mask: Optional[discord.Attachment] = None,
                   spoiler: Optional[bool] = None) -> None:
        text = command_text("edit", prompt, ar=ar, seed=seed, steps=steps, avoid=avoid, style=style, model=model,
                            extra=f"--n {images}" if images else "", spoiler=spoiler)
        await flow.text(interaction, text, _files(image, mask), prompt=prompt)  # the mask second (Vary (Region))

    @app_commands.command(name="animate", description=N_("Bring an image to life as a short video"))
    @app_commands.describe(image=N_("The image to animate"), **COMMON, frames=N_("Length in frames"),
                           duration=N_("Length in seconds"), audio=N_("Optional reference audio"))
    @app_commands.choices(ar=AR_CHOICES)
    @app_commands.autocomplete(prompt=prompt_autocomplete, model=models_for(Task.IMAGE_TO_VIDEO),
                               style=style_autocomplete)
    async def animate(interaction: discord.Interaction[Any], image: discord.Attachment, prompt: str,
                      ar: Optional[str] = None, seed: Optional[Seed] = None, steps: Optional[Positive] = None,
                      frames: Optional[Positive] = None, duration: Optional[Seconds] = None,
                      avoid: Optional[str] = None, audio: Optional[discord.Attachment] = None,
                      style: Optional[str] = None, model: Optional[str] = None,
                      spoiler: Optional[bool] = None) -> None:
        text = command_text("animate", prompt, ar=ar, seed=seed, steps=steps, frames=frames, duration=duration,
                            avoid=avoid, style=style, model=model, spoiler=spoiler)
        await flow.text(interaction, text, _files(image, audio), prompt=prompt)

    @app_commands.command(name="upscale", description=N_("Make an image larger (2x, or 4x)"))
    @app_commands.describe(image=N_("The image to upscale"),
                           prompt=N_("Optional: what the image shows, to guide detail"), scale=N_("How much larger"),
                           seed=COMMON["seed"], steps=COMMON["steps"], model=COMMON["model"])
    @app_commands.choices(scale=SCALE_CHOICES)
    @app_commands.autocomplete(model=models_for(Task.UPSCALE))
    async def upscale(interaction: discord.Interaction[Any], image: discord.Attachment, prompt: Optional[str] = None,
                      scale: Optional[int] = None, seed: Optional[Seed] = None,
                      steps: Optional[Positive] = None, model: Optional[str] = None) -> None:
        text = command_text("upscale", prompt or "", seed=seed, steps=steps, model=model,
                            extra=f"--scale {scale}" if scale else "")
        await flow.text(interaction, text, [image], prompt=prompt or "")

    @app_commands.command(name="references", description=N_("Attach up to 10 reference files through a form"))
    @app_commands.describe(command=N_("What to make"), prompt=N_("Optional: pre-fill the prompt"))
    @app_commands.choices(command=KIND_CHOICES)
    async def references(interaction: discord.Interaction[Any], command: str, prompt: Optional[str] = None) -> None:
        async def submit(inner: discord.Interaction[Any], text: str, files: list[discord.Attachment]) -> None:
            await flow.text(inner, text, files)

        await interaction.response.send_modal(UploadModal(command, submit, prompt=prompt or ""))

    typed: tuple[app_commands.Command[Any, Any, None], ...] = (imagine, video, edit, animate, upscale, references)
    for cmd in typed:
        tree.add_command(_everywhere(cmd))

    # Every other command core answers: a one-liner each, forwarding free text to core.
    names = {c.name for c in typed}
    for entry in menu:
        if entry.name not in names and _slash_name(entry.name):
            add_text_command(tree, flow, entry.name, _description(entry.description),
                             TEXT_HINTS.get(entry.name, DEFAULT_HINT), ephemeral=entry.name in PRIVATE_COMMANDS)

    for name, command in ((N_("Edit this"), "edit"), (N_("Animate this"), "animate")):
        tree.add_command(_everywhere(app_commands.ContextMenu(name=name, callback=_context_menu(flow, command))))


def _slash_name(name: str) -> bool:
    """What Discord takes as a slash command name (lowercase, 1-32 characters)."""
    return 0 < len(name) <= 32 and name == name.lower() and all(c.isalnum() or c in "-_" for c in name)


def _description(line: str) -> str:
    """A menu line as a Discord description: a capital first letter, within the limit."""
    text = line[:1].upper() + line[1:]
    return text if len(text) <= DESCRIPTION_LIMIT else text[: DESCRIPTION_LIMIT - 1] + "\u2026"


menu_description = _description  # for the translator: a menu line in any language reads the same way


def add_text_command(tree: app_commands.CommandTree[Any], flow: Interactions, name: str, description: str,
                     text_help: str = DEFAULT_HINT, *, ephemeral: bool = False) -> None:
    """`/name text:<..> file:<..>` -> core's `/name ..`: how to expose any command core knows."""

    @app_commands.command(name=name, description=description)
    @app_commands.describe(text=text_help, file=N_("An optional file"))
    async def forward(interaction: discord.Interaction[Any], text: Optional[str] = None,
                      file: Optional[discord.Attachment] = None) -> None:
        await flow.text(interaction, f"/{name} {text or ''}".strip(), _files(file), ephemeral=ephemeral)

    tree.add_command(_everywhere(forward))


def _context_menu(flow: Interactions, command: str) -> Any:
    async def on_message(interaction: discord.Interaction[Any], message: discord.Message) -> None:
        found = [a for a in message.attachments
                 if (a.content_type or "").startswith(("image/", "video/")) or not a.content_type]
        if not found:
            with use_locale(flow.locale(interaction)):  # refused here, before core: in the member's language
                refusal = error_text(_("That message has no image. Use this on a message with an image attached."))
            await interaction.response.send_message(refusal, ephemeral=True)
            return
        found = found[: MAX_MODAL_FILES - 1]

        async def submit(inner: discord.Interaction[Any], text: str, files: list[discord.Attachment]) -> None:
            await flow.text(inner, text, found + files)

        await interaction.response.send_modal(UploadModal(command, submit, files_required=False,
                                                          max_files=MAX_MODAL_FILES - len(found)))

    return on_message
