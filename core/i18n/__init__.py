"""Replies in the member's language: gettext catalogs (Babel) and a per-request current locale.

msgids are the English texts themselves, so English needs no catalog of its own and an untranslated
text reads in English. Each adapter sets the member's locale on `Requester.locale`; the service and the
worker run a request's texts under `use_locale(requester.locale)`, so `_()` needs no locale argument.
"""

from core.i18n.catalogs import SHIPPED, translations
from core.i18n.locale import (
    DEFAULT_LOCALE,
    current_locale,
    from_accept_language,
    from_platform,
    in_member_locale,
    locale_of,
    run_in_locale,
    use_locale,
)
from core.i18n.text import N_, _, lazy_gettext, ngettext, translate
from core.i18n.units import duration_units

__all__ = ["DEFAULT_LOCALE", "N_", "SHIPPED", "_", "current_locale", "duration_units", "from_accept_language",
           "from_platform", "in_member_locale", "lazy_gettext", "locale_of", "ngettext", "run_in_locale", "translate",
           "translations", "use_locale"]
