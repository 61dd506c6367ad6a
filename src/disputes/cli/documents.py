"""``disputes case-file CLAIM_ID --out FILE.html``: a claim's case file for a court or arbitrator, the
same printable document as ``GET /claims/{id}/case-file``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from disputes.cli.common import ERROR_STATUS, PROG, opened_container
from disputes.domain.vocabulary import LANGUAGES


def register(subparsers: Any) -> None:
    case_file = subparsers.add_parser(
        "case-file", help="write a claim's case file (printable HTML) for a court or arbitrator"
    )
    case_file.add_argument("claim_id", metavar="CLAIM_ID")
    case_file.add_argument("--out", required=True, type=Path, metavar="FILE.html")
    case_file.add_argument(
        "--language", choices=LANGUAGES, help="en or zh-CN (default: the policy's default_language)"
    )
    case_file.set_defaults(handler=run_case_file)


def run_case_file(args: argparse.Namespace) -> int:
    from disputes.documents.case_file import case_file_html

    with opened_container() as container:
        app = container.app
        claim = app.load_claim(args.claim_id)
        language = args.language or app.policy.default_language
        html = case_file_html(app, container.settings.database, claim, language, container.clock())
    try:
        args.out.write_text(html, encoding="utf-8")
    except OSError as exc:
        print(f"{PROG}: error: cannot write {args.out}: {exc.strerror or exc}", file=sys.stderr)
        return ERROR_STATUS
    print(f"{args.out}: case file of claim {claim.id} ({language})")
    return 0
