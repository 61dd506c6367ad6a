"""Words for people in their language: the message catalogues (gettext ``.po`` files read with Babel),
choosing a language from ``Accept-Language``, and dates and money in each language's forms.

Below everything but the domain (the import-linter layers): the views, the application, the API and the
CLI all speak through it. How to add a message or a group of them: docs/language.md.
"""

from __future__ import annotations

from disputes.domain.vocabulary import LANGUAGES
from disputes.i18n.catalogues import CATALOGUES, Catalogues, MissingMessage, text
from disputes.i18n.formats import duration_words, moment, money
from disputes.i18n.language import DEFAULT_LANGUAGE, negotiate

__all__ = [
    "CATALOGUES",
    "DEFAULT_LANGUAGE",
    "LANGUAGES",
    "Catalogues",
    "MissingMessage",
    "duration_words",
    "moment",
    "money",
    "negotiate",
    "text",
]
