"""The playground page in the browser's language: index.html filled with texts from the catalogs.

The server negotiates `Accept-Language` (`core.i18n.from_accept_language`) and fills the page's own texts
(title, labels, the Send button, the hint) into the HTML; the texts its script writes (alt texts, download
links, the mask brush) go in as a JSON object the script reads. An untranslated text reads in English, the
msgid itself. Example prompts and commands stay as typed: members type them. index.html is a
`string.Template`: a literal dollar sign in it is written `$$`.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping
from importlib import resources
from string import Template

from aiohttp import web

from core.i18n import N_, from_accept_language, translate

# Texts the script writes, by the key it looks them up with; `{n}` and `{name}` are filled there.
SCRIPT_TEXTS = {
    "image": N_("AI-generated image"),
    "image_n": N_("AI-generated image {n}"),
    "download_n": N_("{n}: download"),
    "download_name": N_("Download {name}"),
    "spoiler": N_("Spoiler: click to reveal"),
    "brush_prompt": N_("What to paint there"),
    "repaint": N_("Repaint"),
}
TITLE = N_("Reelsmith playground")
TAGLINE = N_("local playground \u00b7 every result is labelled as AI-generated")
COMMAND_LABEL = N_("Command")
ATTACH_LABEL = N_("Attach files")
SEND = N_("Send")
HINT = N_("Try {imagine}, {video}, attach an image with {edit} or {animate}, pick a model with {model} "
          "({models} lists them), or {help}.")
# The commands the hint names, typed as members type them.
HINT_CODE = {"imagine": "/imagine a red fox", "video": "/video a red fox running", "edit": "/edit",
             "animate": "/animate", "model": "--model NAME", "models": "/models", "help": "/help"}


def html_lang(locale: str) -> str:
    """A shipped locale as an HTML `lang` tag (BCP 47): `pt_BR` -> `pt-BR`, `zh_Hans` -> `zh-Hans`."""
    return locale.replace("_", "-")


def request_locale(request: web.Request) -> str:
    """The shipped locale the browser's `Accept-Language` settles to (English when none fits)."""
    return from_accept_language(request.headers.get("Accept-Language", ""))


def html_text(text: str, locale: str, code: Mapping[str, str] | None = None) -> str:
    """`text` in `locale`, HTML-escaped; with `code`, its {fields} filled with those values as `<code>` (commands
    and paths, shown as typed)."""
    escaped = html.escape(translate(text, locale))
    return escaped.format(**{k: f"<code>{html.escape(v)}</code>" for k, v in code.items()}) if code else escaped


def script_texts(locale: str) -> dict[str, str]:
    """The texts the page's script writes, in `locale`."""
    return {key: translate(text, locale) for key, text in SCRIPT_TEXTS.items()}


def render(locale: str) -> str:
    """index.html with its texts in `locale` (a shipped locale; anything else reads English)."""
    page = Template(resources.files("bots.web").joinpath("static/index.html").read_text("utf-8"))

    def t(text: str) -> str:
        return html_text(text, locale)

    hint = html_text(HINT, locale, HINT_CODE)
    # Inside <script>: "</" would end the element, so it is written "<\/" (the same string to JSON).
    texts = json.dumps(script_texts(locale), ensure_ascii=False).replace("</", "<\\/")
    return page.substitute(lang=html_lang(locale), title=t(TITLE), tagline=t(TAGLINE),
                           command_label=t(COMMAND_LABEL), attach_label=t(ATTACH_LABEL), send=t(SEND), hint=hint,
                           texts=texts)
