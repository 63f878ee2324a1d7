"""What a style is, the owner's styles file (`REELSMITH_STYLES_FILE`), and where a named LoRA's file is.

    [[style]]
    name = "watercolor"
    template = "{prompt}, soft watercolor painting"
    negative = "photo, harsh lines"
    model = "sdxl-turbo"          # optional: a catalog model name
    loras = [{ name = "watercolor", weight = 0.8 }]
    aspect = "3:2"                # optional: used when the member gives no --ar

LoRAs are named by file stem only: `watercolor` is `<REELSMITH_LORAS_DIR>/watercolor.safetensors`, never a
path, so neither a chat nor a queued request can point the worker at another file.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, ValidationError

from core.i18n import _
from core.settings import Settings
from core.types import LoraUse

NAME_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,23}$")
LORA_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
PROMPT_FIELD = "{prompt}"
MAX_ASPECT = 3.0  # as the grammar's --ar
MAX_LORA_WEIGHT = 2.0
MAX_LORAS = 4


class StyleError(ValueError):
    """A style that is not valid; the message says what is wrong and how to fix it."""


class Style(BaseModel):
    """A named way to render a prompt: its template (with `{prompt}`), negative prompt, model, LoRAs, aspect."""

    name: str
    template: str = PROMPT_FIELD
    negative: str = ""
    model: str = ""
    loras: list[LoraUse] = Field(default_factory=list)
    aspect: str = ""
    source: Literal["owner", "chat"] = "owner"

    def render(self, prompt: str) -> str:
        """The template with the member's prompt in it (a plain replace: no other format fields exist)."""
        return self.template.replace(PROMPT_FIELD, prompt)

    def summary(self) -> str:
        """One line for /styles: name, what it does, its LoRAs, model and aspect."""
        parts = [f"{self.name} - {self.template}"]
        if self.negative:
            parts.append(_("avoids: {negative}", negative=self.negative))
        if self.loras:
            parts.append("LoRA " + ", ".join(f"{lora.name} x{lora.weight:g}" for lora in self.loras))
        if self.model:
            parts.append(_("model {model}", model=self.model))
        if self.aspect:
            parts.append(_("aspect {aspect}", aspect=self.aspect))
        return "; ".join(parts)


def check_name(name: str) -> str:
    """A style name, lower-cased: letters, digits and -, at most 24 characters."""
    low = name.lower()
    if not NAME_RE.match(low):
        raise StyleError(_("Style name {name} is not allowed: use up to 24 letters, digits or -, starting with a "
                           "letter or digit, e.g. watercolor or neon-noir.", name=repr(name[:30])))
    return low


def check_template(template: str, max_chars: int) -> str:
    """A template holds `{prompt}` (once or more) and no other braces, within `max_chars`."""
    if PROMPT_FIELD not in template:
        # No fields given: `_` leaves the literal {prompt} unformatted.
        raise StyleError(_("A style's template needs {prompt} where the member's prompt goes, "
                           "e.g. {prompt}, soft watercolor painting."))
    if "{" in template.replace(PROMPT_FIELD, "") or "}" in template.replace(PROMPT_FIELD, ""):
        raise StyleError(_("A style's template may use only {prompt}; remove the other { } fields."))
    if len(template) > max_chars:
        raise StyleError(_("That template is {n} characters; the limit is {limit}. Shorten it.", n=len(template),
                           limit=max_chars))
    return template


def check_aspect(aspect: str) -> str:
    """An aspect ratio W:H within 1:3 to 3:1, or "" for none."""
    if not aspect:
        return ""
    m = re.fullmatch(r"(\d{1,3}):(\d{1,3})", aspect)
    if not m or int(m.group(1)) == 0 or int(m.group(2)) == 0:
        raise StyleError(_("Aspect {aspect} must look like 16:9 (both sides above zero).", aspect=repr(aspect[:20])))
    w, h = int(m.group(1)), int(m.group(2))
    if max(w / h, h / w) > MAX_ASPECT:
        raise StyleError(_("Aspect {aspect} is too extreme; keep it between 1:3 and 3:1.", aspect=aspect))
    return f"{w}:{h}"


def lora_file(loras_dir: Path, name: str) -> Path:
    """The file of the LoRA named `name`: an existing `<loras_dir>/<name>.safetensors`, nothing else.

    Refuses any name that is not a plain stem (`..`, `/`, `\\`, a drive, a dot) before touching the disk.
    """
    if not LORA_RE.fullmatch(name):
        raise StyleError(f"LoRA name {name[:40]!r} is not a file stem: use letters, digits, - and _ only "
                         f"(the file is {loras_dir}/<name>.safetensors).")
    path = loras_dir / f"{name}.safetensors"
    if not path.is_file():
        raise StyleError(f"Unknown LoRA {name!r}: there is no {path}. Put the file there or fix the name.")
    return path


def check_style(style: Style, settings: Settings, models: set[str] | None = None) -> Style:
    """A style whose fields are all valid (LoRA files exist; the model is known where `models` is given)."""
    check_name(style.name)
    check_template(style.template, settings.max_style_template_chars)
    if len(style.negative) > settings.max_style_template_chars:
        raise StyleError(f"The negative prompt is longer than {settings.max_style_template_chars} characters.")
    check_aspect(style.aspect)
    if len(style.loras) > MAX_LORAS:
        raise StyleError(f"A style may use at most {MAX_LORAS} LoRAs.")
    for lora in style.loras:
        lora_file(settings.resolved_loras_dir(), lora.name)
        if not -MAX_LORA_WEIGHT <= lora.weight <= MAX_LORA_WEIGHT:
            raise StyleError(f"LoRA {lora.name} weight {lora.weight:g} is out of range "
                             f"(-{MAX_LORA_WEIGHT:g} to {MAX_LORA_WEIGHT:g}).")
    if style.model and models is not None and style.model not in models:
        raise StyleError(f"Unknown model {style.model!r}; known: {', '.join(sorted(models)) or 'none'}.")
    return style


def load_styles(settings: Settings, models: set[str] | None = None) -> dict[str, Style]:
    """The owner's styles by name from `REELSMITH_STYLES_FILE` (none when unset), each checked.

    Raises StyleError naming the file and the style on the first problem, so a bad file stops start-up.
    """
    path = settings.styles_file
    if path is None:
        return {}
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise StyleError(f"REELSMITH_STYLES_FILE {path}: cannot read it ({exc}).") from exc
    styles: dict[str, Style] = {}
    tables = data.get("style", [])
    if not isinstance(tables, list):
        raise StyleError(f"{path}: write each style as a [[style]] table.")
    for i, table in enumerate(tables, 1):
        label = table.get("name", f"#{i}") if isinstance(table, dict) else f"#{i}"
        try:
            style = Style.model_validate({**table, "source": "owner"})
            check_style(style, settings, models)
        except (ValidationError, StyleError, TypeError) as exc:
            raise StyleError(f"{path}: style {label}: {exc}") from exc
        style = style.model_copy(update={"name": style.name.lower(), "aspect": check_aspect(style.aspect)})
        if style.name in styles:
            raise StyleError(f"{path}: style {style.name} is declared twice; keep one.")
        styles[style.name] = style
    return styles
