"""The message catalogues: one gettext ``.po`` file per group of messages and language, read with
Babel's ``read_po`` when the process starts (no compile step: the ``.po`` files are the catalogues).

A message id is a key (``timeline.claim_opened``), the same in every language; ``msgstr`` is the text,
with ``{name}`` fields filled by :meth:`Catalogues.text`. Every group exists in every language of
:data:`~disputes.i18n.language.LANGUAGES` with the same keys and the same fields (``check``: a test
and the start-up refuse a catalogue that lacks one).
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Any

from babel.messages.pofile import read_po

from disputes.domain.vocabulary import LANGUAGES
from disputes.i18n.language import DEFAULT_LANGUAGE, locale_name

_FORMATTER = string.Formatter()


class MissingMessage(LookupError):
    """A key that some language's catalogue does not have (or has without text)."""


def fields(message: str) -> frozenset[str]:
    """The ``{name}`` fields a message fills."""
    return frozenset(name for _, name, _, _ in _FORMATTER.parse(message) if name)


def _locales() -> Traversable:
    return resources.files("disputes.i18n").joinpath("locales")


def read_group(language: str, group: str) -> dict[str, str]:
    """The messages of one ``.po`` file: key -> text (empty texts kept, for :meth:`Catalogues.check`)."""
    path = _locales().joinpath(locale_name(language), "LC_MESSAGES", f"{group}.po")
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=locale_name(language))
    return {str(m.id): str(m.string or "") for m in catalog if m.id and isinstance(m.id, str)}


def groups() -> list[str]:
    """The groups of messages: the ``.po`` files of the default language."""
    folder = _locales().joinpath(locale_name(DEFAULT_LANGUAGE), "LC_MESSAGES")
    return sorted(entry.name[:-3] for entry in folder.iterdir() if entry.name.endswith(".po"))


class Catalogues:
    """Every group's messages in every language."""

    def __init__(self, messages: Mapping[str, Mapping[str, Mapping[str, str]]]) -> None:
        self.messages = messages
        """language -> group -> key -> text"""
        self._flat = {
            language: {key: text for group in by_group.values() for key, text in group.items()}
            for language, by_group in messages.items()
        }

    @classmethod
    def load(cls) -> Catalogues:
        names = groups()
        return cls({language: {g: read_group(language, g) for g in names} for language in LANGUAGES})

    def problems(self) -> list[str]:
        """What is missing: a key without text in a language, or with other ``{fields}`` than in English."""
        found = []
        reference = self.messages[DEFAULT_LANGUAGE]
        for language, by_group in self.messages.items():
            for group in set(reference) | set(by_group):
                mine, theirs = by_group.get(group, {}), reference.get(group, {})
                for key in sorted(set(mine) | set(theirs)):
                    text = mine.get(key, "")
                    if not text.strip():
                        found.append(f"{language}/{group}.po: no text for {key!r}")
                    elif key in theirs and fields(text) != fields(theirs[key]):
                        found.append(
                            f"{language}/{group}.po: {key!r} fills {sorted(fields(text))}, "
                            f"{DEFAULT_LANGUAGE} fills {sorted(fields(theirs[key]))}"
                        )
        return found

    def check(self) -> None:
        missing = self.problems()
        if missing:
            raise MissingMessage("; ".join(missing))

    def has(self, key: str) -> bool:
        return key in self._flat[DEFAULT_LANGUAGE]

    def keys(self, prefix: str = "") -> list[str]:
        return sorted(key for key in self._flat[DEFAULT_LANGUAGE] if key.startswith(prefix))

    def text(self, language: str, key: str, /, **params: Any) -> str:
        """The message ``key`` in ``language``, its fields filled from ``params``."""
        try:
            message = self._flat[language][key]
        except KeyError:
            raise MissingMessage(f"no message {key!r} in {language}") from None
        return message.format_map(params)


CATALOGUES = Catalogues.load()
CATALOGUES.check()


def text(language: str, key: str, /, **params: Any) -> str:
    """The message ``key`` in ``language`` (see :meth:`Catalogues.text`)."""
    return CATALOGUES.text(language, key, **params)
