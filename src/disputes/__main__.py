"""``python -m disputes``: the same as the ``disputes`` command."""

from __future__ import annotations

from disputes.cli.main import main

raise SystemExit(main())
