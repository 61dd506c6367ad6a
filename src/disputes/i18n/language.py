"""Which of our languages a reader gets: ``Accept-Language`` (RFC 9110) negotiated with Babel."""

from __future__ import annotations

from babel.core import negotiate_locale

from disputes.domain.vocabulary import LANGUAGES

DEFAULT_LANGUAGE = "en"


def _preferences(header: str) -> list[str]:
    """The header's language ranges, most wanted first (``q=0`` dropped, order kept among equals)."""
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if tag.strip() and q > 0:
            ranked.append((-q, index, tag.strip()))
    return [tag for _, _, tag in sorted(ranked)]


def negotiate(accept_language: str | None, default: str = DEFAULT_LANGUAGE) -> str:
    """The language of :data:`LANGUAGES` the header asks for (``zh``, ``zh-Hans``, ``zh-cn`` all get
    zh-CN), else ``default``."""
    if not accept_language:
        return default
    preferred = []
    for tag in _preferences(accept_language[:500]):
        if tag == "*":
            return default
        lower = tag.replace("_", "-").lower()
        if lower.startswith(("zh-hans", "zh-sg", "zh-cn")) or lower == "zh":
            lower = "zh-cn"
        preferred.append(lower)
    chosen = negotiate_locale(preferred, [tag.lower() for tag in LANGUAGES], sep="-")
    if chosen is None:
        return default
    return next(tag for tag in LANGUAGES if tag.lower() == chosen.lower())


def locale_name(language: str) -> str:
    """Babel's locale identifier of a language tag (``zh-CN`` -> ``zh_CN``)."""
    return language.replace("-", "_")
