"""Printable HTML documents for people (the published rules, the case file): one file, inline CSS with
print styles, no external assets (no fonts, scripts or images fetched from anywhere)."""

from __future__ import annotations

from html import escape

STYLE = """
:root { color-scheme: light; }
body { font-family: "Noto Sans CJK SC", "WenQuanYi Zen Hei", "PingFang SC", "Microsoft YaHei", system-ui, sans-serif;
       margin: 2rem auto; max-width: 50rem; padding: 0 1rem; line-height: 1.5; color: #111; }
h1 { font-size: 1.6rem; border-bottom: 2px solid #333; padding-bottom: .3rem; }
h2 { font-size: 1.2rem; margin-top: 1.8rem; border-bottom: 1px solid #999; }
h3 { font-size: 1rem; margin-bottom: .2rem; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0; font-size: .9rem; }
th, td { border: 1px solid #bbb; padding: .3rem .4rem; text-align: left; vertical-align: top; }
th { background: #eee; }
code, .hash { font-family: "DejaVu Sans Mono", monospace; font-size: .75rem; word-break: break-all; }
.other { color: #555; font-size: .9rem; }
.meta { color: #444; font-size: .85rem; }
section { page-break-inside: avoid; }
@media print {
  body { margin: 0; max-width: none; font-size: 10.5pt; }
  a { color: inherit; text-decoration: none; }
  h2 { page-break-after: avoid; }
  tr { page-break-inside: avoid; }
  @page { size: A4; margin: 18mm 15mm; }
}
"""


def e(value: object) -> str:
    """Text made safe for HTML."""
    return escape(str(value), quote=True)


def page(title: str, language: str, body: str) -> str:
    """A whole HTML document around ``body`` (already HTML)."""
    return (
        f'<!DOCTYPE html>\n<html lang="{e(language)}">\n<head>\n<meta charset="utf-8">\n'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{e(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n"
    )
