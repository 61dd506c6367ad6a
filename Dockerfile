# Disputes API. Data: SQLite in /app/var by default (mount a volume there), or PostgreSQL via
# DISPUTES_DATABASE_URL=postgresql://user:pass@host:5432/db.
# Least privilege on PostgreSQL: DISPUTES_DATABASE_URL names a login user in role disputes_app, and
# DISPUTES_MIGRATION_DATABASE_URL the schema's owner; the start command migrates with the latter, then
# serves with the former (see docs/operations.md).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN groupadd --system disputes \
    && useradd --system --gid disputes --home-dir /app --no-create-home --shell /usr/sbin/nologin disputes

WORKDIR /app

# The same install as `make venv`, but not editable and without the dev tools.
COPY pyproject.toml README.md ./
COPY src ./src
COPY migrations ./migrations
RUN pip install --no-cache-dir . \
    && mkdir -p /app/var \
    && chown disputes:disputes /app/var

ENV DISPUTES_DATABASE_URL=sqlite:////app/var/disputes.sqlite \
    DISPUTES_HOST=0.0.0.0

USER disputes
VOLUME ["/app/var"]
EXPOSE 8000

# slim has no curl: ask Python.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status == 200 else 1)"]

CMD ["sh", "-c", "disputes migrate && exec disputes serve --host 0.0.0.0 --port 8000"]
