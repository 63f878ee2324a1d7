"""What goes wrong with one file a member sent, one whole sentence per kind of file ("That photo is 25 MB."), so
each translates with its own grammar (gender, particles) instead of a noun glued into a sentence. Keyed by
`MediaItem.label`; marked with `N_`, shown with `translate(...)`."""

from __future__ import annotations

from core.i18n import N_

KINDS = ("photo", "animation", "video", "video note", "file", "audio file",
         "voice note", "animated sticker", "video sticker", "sticker")

# Its size is known: {size}.
IS_SIZE = {
    "photo": N_("That photo is {size}."),
    "animation": N_("That animation is {size}."),
    "video": N_("That video is {size}."),
    "video note": N_("That video note is {size}."),
    "file": N_("That file is {size}."),
    "audio file": N_("That audio file is {size}."),
    "voice note": N_("That voice note is {size}."),
    "animated sticker": N_("That animated sticker is {size}."),
    "video sticker": N_("That video sticker is {size}."),
    "sticker": N_("That sticker is {size}."),
}

# Telegram says it is too big without a size.
TOO_BIG_TO_FETCH = {
    "photo": N_("That photo is too big to fetch."),
    "animation": N_("That animation is too big to fetch."),
    "video": N_("That video is too big to fetch."),
    "video note": N_("That video note is too big to fetch."),
    "file": N_("That file is too big to fetch."),
    "audio file": N_("That audio file is too big to fetch."),
    "voice note": N_("That voice note is too big to fetch."),
    "animated sticker": N_("That animated sticker is too big to fetch."),
    "video sticker": N_("That video sticker is too big to fetch."),
    "sticker": N_("That sticker is too big to fetch."),
}

# getFile refused it.
NOT_HANDED = {
    "photo": N_("Telegram would not hand me that photo. Send it again, please."),
    "animation": N_("Telegram would not hand me that animation. Send it again, please."),
    "video": N_("Telegram would not hand me that video. Send it again, please."),
    "video note": N_("Telegram would not hand me that video note. Send it again, please."),
    "file": N_("Telegram would not hand me that file. Send it again, please."),
    "audio file": N_("Telegram would not hand me that audio file. Send it again, please."),
    "voice note": N_("Telegram would not hand me that voice note. Send it again, please."),
    "animated sticker": N_("Telegram would not hand me that animated sticker. Send it again, please."),
    "video sticker": N_("Telegram would not hand me that video sticker. Send it again, please."),
    "sticker": N_("Telegram would not hand me that sticker. Send it again, please."),
}

# getFile failed.
NOT_FETCHED = {
    "photo": N_("I couldn't fetch that photo from Telegram just now. Try again."),
    "animation": N_("I couldn't fetch that animation from Telegram just now. Try again."),
    "video": N_("I couldn't fetch that video from Telegram just now. Try again."),
    "video note": N_("I couldn't fetch that video note from Telegram just now. Try again."),
    "file": N_("I couldn't fetch that file from Telegram just now. Try again."),
    "audio file": N_("I couldn't fetch that audio file from Telegram just now. Try again."),
    "voice note": N_("I couldn't fetch that voice note from Telegram just now. Try again."),
    "animated sticker": N_("I couldn't fetch that animated sticker from Telegram just now. Try again."),
    "video sticker": N_("I couldn't fetch that video sticker from Telegram just now. Try again."),
    "sticker": N_("I couldn't fetch that sticker from Telegram just now. Try again."),
}

# The download failed.
NOT_DOWNLOADED = {
    "photo": N_("I couldn't download that photo from Telegram. Try again."),
    "animation": N_("I couldn't download that animation from Telegram. Try again."),
    "video": N_("I couldn't download that video from Telegram. Try again."),
    "video note": N_("I couldn't download that video note from Telegram. Try again."),
    "file": N_("I couldn't download that file from Telegram. Try again."),
    "audio file": N_("I couldn't download that audio file from Telegram. Try again."),
    "voice note": N_("I couldn't download that voice note from Telegram. Try again."),
    "animated sticker": N_("I couldn't download that animated sticker from Telegram. Try again."),
    "video sticker": N_("I couldn't download that video sticker from Telegram. Try again."),
    "sticker": N_("I couldn't download that sticker from Telegram. Try again."),
}
