"""The chat command grammar every adapter shares.

    /imagine <prompt> [--ar 16:9] [--seed N] [--steps N] [--no <negative prompt>]
    /edit <prompt> [flags]       (with an attached or replied-to image)
    /video <prompt> [flags] [--frames N | --duration S]
    /animate <prompt> [flags]    (with an attached or replied-to image)
    /meme <prompt> | <top text> | <bottom text>   (or --top <text> --bottom <text>)
    /meme <top text> | <bottom text>              (with an attached or replied-to image, GIF or video)
    any generation command: [--model NAME]        (a model from /models)
    /upscale [prompt] [--scale 2|4]              (with exactly one attached or replied-to image)
    /help

Flags may stand anywhere after the command; `--no`, `--top` and `--bottom` take every word up to the
next flag. Commands may carry a bot suffix (`/imagine@ReelsmithBot`), as Telegram groups send them.

References. A request may carry up to 9 images, 3 videos and 3 audio files (configurable). They are
numbered per kind in attachment order, first the replied-to message's media, then the message's own
(a Telegram album or Discord's upload modal counts in the order the platform lists the files), and
the prompt may name them: `@image1`, `@image2`, `@video1`, `@audio1`. Naming one that was not attached
is an error that says what was attached. The first image (or the first one the prompt names) drives
/edit and /animate; /imagine with an image edits it, /video with an image animates it, /video with a
video restyles that clip (video to video), and extra images condition later frames where the video
model can. An audio file goes with a video: the clip carries it (trimmed or looped), and `--fit-audio`
times the clip to the audio. `--format gif` asks for a silent GIF instead of an MP4.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, replace

from core.errors import CommandError
from core.i18n import N_, _, ngettext, translate
from core.types import JobKind

COMMANDS: dict[str, JobKind | None] = {
    "imagine": JobKind.IMAGE,
    "edit": JobKind.EDIT,
    "video": JobKind.VIDEO,
    "animate": JobKind.ANIMATE,
    "meme": JobKind.MEME,
    "upscale": JobKind.UPSCALE,
    "help": None,
}

def command_for(kind: JobKind) -> str:
    """The chat command that makes `kind` (the inverse of COMMANDS)."""
    if kind == JobKind.INPAINT:
        return "edit"  # /edit with a mask (core.canvas)
    if kind == JobKind.EXTEND:
        return "video"  # made by the Extend button (core.extend); its prompt is a /video prompt
    return next(name for name, k in COMMANDS.items() if k == kind)


# Each flag's help, in English (translated where shown: `flag_help`); the example after "e.g." stays as typed.
FLAG_HELP = {
    "ar": N_("aspect ratio W:H, e.g. --ar 16:9"),
    "seed": N_("a whole number 0-4294967295, e.g. --seed 42"),
    "steps": N_("denoising steps, e.g. --steps 20"),
    "no": N_("things to avoid, e.g. --no blurry, text"),
    "frames": N_("video length in frames, e.g. --frames 49"),
    "duration": N_("video length in seconds, e.g. --duration 3"),
    "top": N_("meme text at the top, e.g. --top when the build passes"),
    "bottom": N_("meme text at the bottom, e.g. --bottom on the first try"),
    "fit-audio": N_("time the video to the attached audio (no value)"),
    "format": N_("output format for videos: gif or mp4, e.g. --format gif"),
    "style": N_("a style of this chat (see /styles), e.g. --style watercolor"),
    "model": N_("the model to use (see /models), e.g. --model wan-t2v"),
    "scale": N_("how much larger /upscale makes the image: 2 or 4, e.g. --scale 4"),
    "n": N_("how many images of one prompt: 1 to 4, e.g. --n 4"),
    "spoiler": N_("hide the result behind a spoiler until it is clicked (no value)"),
}


def flag_help(flag: str) -> str:
    """A flag's help in the current locale."""
    return translate(FLAG_HELP[flag])
MAX_IMAGES = 4  # --n: images of one prompt (core.variants)
VIDEO_ONLY_FLAGS = {"frames", "duration", "fit-audio"}
MEME_ONLY_FLAGS = {"top", "bottom"}
NOT_UPSCALE_FLAGS = {"ar"}  # /upscale keeps the image's shape
UPSCALE_SCALES = (2, 4)
TEXT_FLAGS = {"no", "top", "bottom"}  # take every word up to the next flag
SWITCH_FLAGS = {"fit-audio", "spoiler"}  # take no value
OUTPUT_FORMATS = ("gif", "mp4")
MAX_MEME_TEXT = 200
REFERENCE_RE = re.compile(r"(?<![\w@])@(?P<kind>image|video|audio)(?P<n>\d{1,3})\b", re.IGNORECASE)
MAX_SEED = 2**32 - 1
MAX_ASPECT = 3.0

HELP_TEXT = N_("""Reelsmith makes AI images and short videos. Every result is labelled as AI-generated.

/imagine <prompt> - an image from text
/edit <prompt> - change an attached (or replied-to) image
/video <prompt> - a short video from text
/animate <prompt> - bring an attached (or replied-to) image to life
/meme <prompt> | <top> | <bottom> - a captioned meme (or reply to an image with /meme <top> | <bottom>)
/upscale [prompt] - make an attached (or replied-to) image 2x larger (--scale 4 for 4x)
/help - this message

Flags: --ar 16:9 (aspect ratio), --seed 42, --steps 20, --no <things to avoid>,
videos also --frames 49 or --duration 3, --fit-audio (time it to an attached audio), --format gif;
--model NAME picks a model (/models lists them); /imagine and /edit also --n 4 (up to 4 images);
--spoiler hides the result until it is clicked.
Attach up to 9 images, 3 videos and 3 audio files and name them in the prompt: @image1, @video1, @audio1.
Example: /imagine a corgi surfing at sunset --ar 16:9 --no text""")  # translated where shown (`Reelsmith.help_text`)


@dataclass(frozen=True)
class ParsedCommand:
    command: str
    kind: JobKind | None
    prompt: str = ""
    negative_prompt: str = ""
    aspect_ratio: str = "1:1"
    seed: int | None = None
    steps: int | None = None
    frames: int | None = None
    duration_s: float | None = None
    args: str = ""  # the raw text after a non-generation command (e.g. /quota, /mod ban ...)
    top_text: str = ""
    bottom_text: str = ""
    meme_parts: tuple[str, ...] = ()  # /meme text split on "|", resolved by `resolve_meme`
    fit_audio: bool = False
    output_format: str | None = None  # "gif" | "mp4"
    style: str = ""  # --style NAME, applied by the styles feature
    aspect_given: bool = False  # --ar was typed (a style's aspect applies only without it)
    model: str = ""  # --model, lower-cased; the service settles and checks it before queueing
    scale: int | None = None  # /upscale --scale
    n_images: int | None = None  # --n: images of one prompt (None: the chat's default, core.variants)
    spoiler: bool = False  # --spoiler: the result is posted hidden (Discord SPOILER_, Telegram has_spoiler)


_COMMAND_RE = re.compile(r"^/(?P<name>[A-Za-z_]+)(?:@(?P<bot>[A-Za-z0-9_]+))?(?=\s|$)")
_FLAG_RE = re.compile(r"(?:(?<=\s)|^)(?:--|\u2014)(?P<flag>[A-Za-z][A-Za-z0-9_-]*)(?=\s|$)")
# Bidi overrides/isolates and zero-width characters can hide text from moderators.
_INVISIBLE = {"\u200b", "\u200c", "\u200d", "\u2060", "\ufeff"}


def clean_text(text: str) -> str:
    """NFC-normalise and drop control, bidi-override and zero-width characters; fold whitespace."""
    text = unicodedata.normalize("NFC", text)
    out = []
    for ch in text:
        if ch in _INVISIBLE:
            continue
        cat = unicodedata.category(ch)
        if ch in "\t\n\r" or cat == "Zs":
            out.append(" ")
        elif cat in ("Cc", "Cf", "Cs", "Co", "Cn"):
            continue
        else:
            out.append(ch)
    return " ".join("".join(out).split())


def parse_command(text: str, *, max_prompt_chars: int = 1000, max_steps: int = 60,
                  max_frames: int = 161, max_duration_s: float = 20.0,
                  extra_commands: Iterable[str] = ()) -> ParsedCommand:
    """Parse one chat command; raise CommandError with a member-facing message when it is wrong."""
    # Check the raw length first so a huge paste costs nothing to normalise.
    if len(text) > max_prompt_chars * 4 + 200:
        raise CommandError(_("That message is far too long ({length} characters). Prompts may be at most "
                             "{limit} characters.", length=f"{len(text):,}", limit=f"{max_prompt_chars:,}"))
    text = clean_text(text)
    m = _COMMAND_RE.match(text)
    if not m:
        raise CommandError(_("Start with a command such as /imagine <prompt>. Send /help to see them all."))
    name = m.group("name").lower()
    extra = set(extra_commands)
    if name in extra and name not in COMMANDS:
        return ParsedCommand(command=name, kind=None, args=text[m.end():].strip())
    if name not in COMMANDS:
        known = [*COMMANDS, *sorted(extra)]
        raise CommandError(_("Unknown command /{name}. Try {commands}.", name=name,
                             commands=", ".join(f"/{c}" for c in known)))
    kind = COMMANDS[name]
    if kind is None:
        return ParsedCommand(command=name, kind=None)

    body = text[m.end():].strip()
    flags: dict[str, str] = {}
    prompt_parts: list[str] = []
    matches = list(_FLAG_RE.finditer(body))
    prompt_parts.append(body[: matches[0].start()] if matches else body)
    for i, fm in enumerate(matches):
        flag = fm.group("flag").lower()
        end = matches[i + 1].start() if i + 1 < len(matches) else len(body)
        value = body[fm.end():end].strip()
        if flag not in FLAG_HELP:
            flag_list = ", ".join(f"--{f}" for f in FLAG_HELP)
            raise CommandError(_("Unknown flag --{flag}. Known flags: {flags}.", flag=flag, flags=flag_list))
        if flag in VIDEO_ONLY_FLAGS and not kind.is_video:
            raise CommandError(_("--{flag} only works with /video and /animate.", flag=flag))
        if flag in MEME_ONLY_FLAGS and kind != JobKind.MEME:
            raise CommandError(_("--{flag} only works with /meme.", flag=flag))
        if flag == "n" and name not in ("imagine", "edit"):
            raise CommandError(_("--n (several images) only works with /imagine and /edit, not /{name}. "
                                 "Drop --n, or use /imagine.", name=name))
        if flag == "scale" and kind != JobKind.UPSCALE:
            raise CommandError(_("--scale only works with /upscale."))
        if flag in NOT_UPSCALE_FLAGS and kind == JobKind.UPSCALE:
            raise CommandError(_("/upscale keeps the image's shape; drop --{flag}.", flag=flag))
        if flag in flags:
            raise CommandError(_("--{flag} is given twice; keep one.", flag=flag))
        if flag in SWITCH_FLAGS:
            flags[flag] = "1"
            if value:
                prompt_parts.append(value)
            continue
        if flag in TEXT_FLAGS:
            if not value:
                example = FLAG_HELP[flag].split("e.g. ")[-1]  # typed as is, in every language
                raise CommandError(_("--{flag} needs something to avoid, e.g. {example}", flag=flag, example=example)
                                   if flag == "no" else _("--{flag} needs text, e.g. {example}", flag=flag,
                                                          example=example))
            flags[flag] = value
            continue
        head, _sep, rest = value.partition(" ")
        if not head:
            raise CommandError(_("--{flag} needs a value: {help}.", flag=flag, help=flag_help(flag)))
        flags[flag] = head
        if rest:
            prompt_parts.append(rest)

    prompt = " ".join(p.strip() for p in prompt_parts if p.strip())
    meme_parts: tuple[str, ...] = ()
    if kind == JobKind.MEME:
        meme_parts = tuple(p.strip() for p in prompt.split("|")) if prompt else ()
        if len(meme_parts) > 3:
            raise CommandError(_("/meme takes at most three parts: /meme <prompt> | <top text> | <bottom text>"))
        for text_part in (*meme_parts, flags.get("top", ""), flags.get("bottom", "")):
            if len(text_part) > MAX_MEME_TEXT:
                raise CommandError(_("Meme text may be at most {limit} characters per part. Shorten it.",
                                     limit=MAX_MEME_TEXT))
        if not prompt and not (flags.get("top") or flags.get("bottom")):
            raise CommandError(_("/meme needs text, e.g. /meme a cat at a desk | monday | again, "
                                 "or reply to an image with /meme top text | bottom text"))
        prompt = prompt or " "  # the parts decide the prompt later (resolve_meme)
    if not prompt and kind != JobKind.UPSCALE:  # an upscale's prompt only steers the detail it adds
        raise CommandError(_("/{name} needs a prompt, e.g. /{name} a red fox in the snow", name=name))
    if len(prompt) > max_prompt_chars:
        raise CommandError(_("Your prompt is {length} characters; the limit is {limit}. Shorten it.",
                             length=f"{len(prompt):,}", limit=f"{max_prompt_chars:,}"))

    aspect = _parse_aspect(flags["ar"]) if "ar" in flags else "1:1"
    seed = _parse_int("seed", flags["seed"], 0, MAX_SEED) if "seed" in flags else None
    steps = _parse_int("steps", flags["steps"], 1, max_steps) if "steps" in flags else None
    if "frames" in flags and "duration" in flags:
        raise CommandError(_("Use either --frames or --duration, not both."))
    frames = _parse_int("frames", flags["frames"], 1, max_frames) if "frames" in flags else None
    duration = _parse_float("duration", flags["duration"], 0.1, max_duration_s) if "duration" in flags else None
    if "fit-audio" in flags and ("frames" in flags or "duration" in flags):
        raise CommandError(_("--fit-audio sets the length from the audio; drop --frames/--duration."))
    output_format = None
    if "format" in flags:
        output_format = flags["format"].lower()
        if output_format not in OUTPUT_FORMATS:
            raise CommandError(_("--format must be gif or mp4, not {raw}.", raw=repr(flags["format"][:20])))
    model = flags.get("model", "").lower()
    if model and not re.fullmatch(r"[a-z0-9][a-z0-9._-]{0,47}", model):
        raise CommandError(_("--model takes a model name, not {raw}; /models lists them.",
                             raw=repr(flags["model"][:30])))
    scale = None
    if "scale" in flags:
        if flags["scale"].lower().removesuffix("x") not in {str(n) for n in UPSCALE_SCALES}:
            raise CommandError(_("--scale must be 2 or 4, not {raw}: {help}.", raw=repr(flags["scale"][:20]),
                                 help=flag_help("scale")))
        scale = int(flags["scale"].lower().removesuffix("x"))
    n_images = _parse_int("n", flags["n"], 1, MAX_IMAGES) if "n" in flags else None
    return ParsedCommand(
        n_images=n_images,
        model=model,
        command=name,
        kind=kind,
        prompt=prompt,
        negative_prompt=flags.get("no", ""),
        aspect_ratio=aspect,
        seed=seed,
        steps=steps,
        frames=frames,
        duration_s=duration,
        top_text=flags.get("top", ""),
        bottom_text=flags.get("bottom", ""),
        meme_parts=meme_parts,
        fit_audio="fit-audio" in flags,
        output_format=output_format,
        style=flags.get("style", "").lower(),
        aspect_given="ar" in flags,
        scale=scale,
        spoiler="spoiler" in flags,
    )


def resolve_meme(parsed: ParsedCommand, *, has_media: bool) -> ParsedCommand:
    """Decide what a /meme makes once its attachments are known.

    With an image/GIF/video: `top | bottom` captions it as it is; `prompt | top | bottom` edits it first.
    Without: `prompt | top | bottom` generates an image and captions it. `--top/--bottom` override the parts.
    """
    parts = list(parsed.meme_parts)
    if has_media and len(parts) < 3:
        kind, prompt, texts = JobKind.MEME, "", parts
    else:
        kind = JobKind.EDIT if has_media else JobKind.IMAGE
        prompt, texts = (parts[0] if parts else ""), parts[1:]
        if not prompt:
            raise CommandError(_("/meme needs a picture: describe one (/meme a cat at a desk | monday | again) "
                                 "or reply to an image with /meme top text | bottom text"))
    top = parsed.top_text or (texts[0] if texts else "")
    bottom = parsed.bottom_text or (texts[1] if len(texts) > 1 else "")
    if kind == JobKind.MEME:
        if not (top or bottom):
            raise CommandError(_("/meme needs caption text, e.g. /meme top text | bottom text"))
        prompt = " | ".join(t for t in (top, bottom) if t)
    return replace(parsed, kind=kind, prompt=prompt, top_text=top, bottom_text=bottom)


def named_references(prompt: str) -> list[tuple[str, int]]:
    """The references a prompt names, in order: [("image", 1), ("audio", 1)]."""
    return [(m.group("kind").lower(), int(m.group("n"))) for m in REFERENCE_RE.finditer(prompt)]


def check_references(prompt: str, counts: dict[str, int]) -> None:
    """Raise CommandError when the prompt names a reference that was not attached."""
    for kind, n in named_references(prompt):
        have = counts.get(kind, 0)
        if not 1 <= n <= have:
            attached = ", ".join(_count_of(k, c) for k, c in counts.items() if c)
            names = " ".join(f"@{k}{i}" for k, c in counts.items() for i in range(1, c + 1))
            ref = f"@{kind}{n}"
            raise CommandError(
                _("{ref} is not attached: this message has {attached} ({names}).", ref=ref, attached=attached,
                  names=names) if names else
                _("{ref} is not attached: this message has nothing. Attach the file or reply to a message that "
                  "has it.", ref=ref))


def _count_of(kind: str, n: int) -> str:
    """"2 images", "1 audio" in the current language (the kinds a request names: image, video, audio)."""
    if kind == "image":
        return ngettext("{n} image", "{n} images", n)
    if kind == "video":
        return ngettext("{n} video", "{n} videos", n)
    return ngettext("{n} audio", "{n} audios", n)


def check_reference_limits(counts: dict[str, int], limits: dict[str, int]) -> None:
    """Raise CommandError when more references of a kind were attached than allowed."""
    for kind, have in counts.items():
        limit = limits.get(kind, 0)
        if have > limit:
            raise CommandError(translate(_TOO_MANY[kind]).format(have=have, limit=limit, extra=have - limit))


_TOO_MANY = {
    "image": N_("You attached {have} image files; a request takes at most {limit}. Remove {extra} and try again."),
    "video": N_("You attached {have} video files; a request takes at most {limit}. Remove {extra} and try again."),
    "audio": N_("You attached {have} audio files; a request takes at most {limit}. Remove {extra} and try again."),
}



def model_prompt(prompt: str) -> str:
    """The prompt as the model reads it: `@image2` becomes `image 2` (text encoders know words, not handles)."""
    return REFERENCE_RE.sub(lambda m: f"{m.group('kind').lower()} {m.group('n')}", prompt)


def _parse_int(flag: str, raw: str, lo: int, hi: int) -> int:
    if not re.fullmatch(r"[+-]?\d{1,30}", raw):
        raise CommandError(_("--{flag} must be a whole number, not {raw}: {help}.", flag=flag, raw=repr(raw[:30]),
                             help=flag_help(flag)))
    value = int(raw)
    if not lo <= value <= hi:
        raise CommandError(_("--{flag} must be between {lo} and {hi}; you gave {raw}.", flag=flag, lo=lo, hi=hi,
                             raw=raw[:30]))
    return value


def _parse_float(flag: str, raw: str, lo: float, hi: float) -> float:
    if not re.fullmatch(r"\d{1,6}(\.\d{1,3})?", raw):
        raise CommandError(_("--{flag} must be a number, not {raw}: {help}.", flag=flag, raw=repr(raw[:30]),
                             help=flag_help(flag)))
    value = float(raw)
    if not lo <= value <= hi:
        raise CommandError(_("--{flag} must be between {lo} and {hi}; you gave {raw}.", flag=flag, lo=f"{lo:g}",
                             hi=f"{hi:g}", raw=raw))
    return value


def _parse_aspect(raw: str) -> str:
    m = re.fullmatch(r"(\d{1,3})[:x/](\d{1,3})", raw)
    if not m:
        raise CommandError(_("--ar must look like 16:9, not {raw}.", raw=repr(raw[:30])))
    w, h = int(m.group(1)), int(m.group(2))
    if w == 0 or h == 0:
        raise CommandError(_("--ar sides must be above zero, e.g. --ar 16:9."))

    if max(w / h, h / w) > MAX_ASPECT:
        raise CommandError(_("--ar {w}:{h} is too extreme; keep it between 1:3 and 3:1.", w=w, h=h))
    return f"{w}:{h}"


def frames_for(frames: int | None, duration_s: float | None, fps: int, default: int, max_frames: int) -> int:
    """Frame count of the form 8k+1 (what LTX/Wan-class video models expect), within limits."""
    if frames is not None:
        n = frames
    elif duration_s is not None:
        n = round(duration_s * fps)
    else:
        n = default
    n = max(1, min(n, max_frames))
    return ((n - 1) // 8) * 8 + 1
