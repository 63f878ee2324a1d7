"""`--style NAME`: a request step that puts the style into the request before any guard sees it."""

from __future__ import annotations

from core.contract import Shaping
from core.errors import CommandError
from core.i18n import _
from core.models import task_of
from core.models.catalog import catalog_for
from core.styles.chat_styles import ChatStyles
from core.types import GenerationRequest, size_for


class ApplyStyle:
    """The request step: template around the prompt, negative added, aspect (without --ar), LoRAs and model."""

    def __init__(self, styles: ChatStyles) -> None:
        self.styles = styles

    async def __call__(self, shaping: Shaping) -> GenerationRequest:
        request = shaping.request
        if not request.style:
            return request
        who = request.requester
        if not request.kind.uses_model:
            raise CommandError(_("--style changes how a model draws; a meme of your own picture uses none. "
                                 "Drop --style."))
        style = await self.styles.find(who.platform, who.scope, request.style)
        if style is None:
            names = ", ".join(await self.styles.available(who.platform, who.scope))
            style_name = repr(request.style)
            raise CommandError(_("There is no style {style} here. Styles: {styles}. See /styles.", style=style_name,
                                 styles=names) if names else
                               _("There is no style {style} here, and this chat has no styles yet. See /styles.",
                                 style=style_name))
        update: dict[str, object] = {
            "style": style.name,
            "prompt": style.render(request.prompt),
            "negative_prompt": ", ".join(p for p in (request.negative_prompt, style.negative) if p),
            "loras": list(style.loras),
        }
        if style.model and not request.model:  # the member's own --model choice wins
            entry = catalog_for(shaping.service.settings).entry(style.model)
            if entry is None or not entry.serves(task_of(request.kind)):
                raise CommandError(_("Style {style} draws with {model}, which cannot make this kind of result. Use "
                                     "the style with another command or drop --style.", style=style.name,
                                     model=style.model))
            update.update(model=entry.name, cost_factor=entry.cost)
        if style.aspect and not shaping.aspect_given:
            width, height = size_for(style.aspect, max(request.width, request.height))
            update.update(aspect_ratio=style.aspect, width=width, height=height)
        return request.model_copy(update=update)
