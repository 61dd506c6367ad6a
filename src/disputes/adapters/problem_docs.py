"""The problem types' documentation (docs/problems.md, installed with the package as
``disputes/problems.md``), read into one entry per type so that each ``type`` URI can be served."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

PACKAGED_NAME = "problems.md"
_ROW = re.compile(r"^\|\s*`/problems/([a-z0-9-]+)`\s*\|\s*(\d{3})\s*\|(.*)\|\s*$")


@dataclass(frozen=True)
class ProblemDoc:
    code: str
    status: int
    title: str
    when: str
    section: str


def _text() -> str:
    packaged = resources.files("disputes") / PACKAGED_NAME
    if packaged.is_file():
        return packaged.read_text(encoding="utf-8")
    # An editable install runs from the source tree: the file is still in docs/.
    return (Path(__file__).resolve().parents[3] / "docs" / PACKAGED_NAME).read_text(encoding="utf-8")


def parse(text: str) -> dict[str, ProblemDoc]:
    """Each row of the tables (``| `/problems/code` | status | title [| when] |``) under its heading."""
    found: dict[str, ProblemDoc] = {}
    section = ""
    for line in text.splitlines():
        if line.startswith("## "):
            section = line[3:].strip()
        row = _ROW.match(line.strip())
        if row is not None:
            cells = [cell.strip() for cell in row.group(3).split(" | ")]
            title, when = cells[0], " | ".join(cells[1:]).strip(" |")
            found[row.group(1)] = ProblemDoc(row.group(1), int(row.group(2)), title, when, section)
    return found


@cache
def problem_docs() -> dict[str, ProblemDoc]:
    """Every documented problem type, by code."""
    return parse(_text())
