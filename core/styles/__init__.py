"""Styles: owner-curated styles from a TOML file (template, negative prompt, model, LoRAs, aspect) and styles a
chat's moderators add, applied with `--style NAME` before the request guards run; `/styles` lists and edits them."""

from core.styles.catalog import Style, StyleError, load_styles
from core.styles.chat_styles import ChatStyles

__all__ = ["ChatStyles", "Style", "StyleError", "load_styles"]
