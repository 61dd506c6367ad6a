# Disputes: one image for every process. Data: SQLite in /app/var by default (mount a volume there), or
# PostgreSQL via DISPUTES_DATABASE_URL=postgresql://user:pass@host:5432/db.
# The default command serves the API; run `disputes migrate` before it (and before each new release),
# as its own one-shot container: compose.yaml runs it with the schema owner's
# DISPUTES_MIGRATION_DATABASE_URL, and the API and the worker with the application role's
# DISPUTES_DATABASE_URL only, so a serving process never holds the owner's password
# (docs/operations.md). Workers run `disputes deadlines` or `disputes project` from the same image.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN groupadd --system disputes \
    && useradd --system --gid disputes --home-dir /app --no-create-home --shell /usr/sbin/nologin disputes

WORKDIR /app

# The same install as `make venv`, but not editable, without the dev tools, with the tracing extra.
# docs/problems.md is packaged: the server answers each problem type's URI with its entry.
COPY pyproject.toml README.md ./
COPY src ./src
COPY migrations ./migrations
COPY docs/problems.md ./docs/problems.md
RUN pip install --no-cache-dir '.[otel]' \
    && mkdir -p /app/var /keys \
    && chown disputes:disputes /app/var /keys

ENV DISPUTES_DATABASE_URL=sqlite:////app/var/disputes.sqlite \
    DISPUTES_HOST=0.0.0.0

USER disputes
VOLUME ["/app/var"]
EXPOSE 8000

# slim has no curl: ask Python.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status == 200 else 1)"]

CMD ["disputes", "serve", "--host", "0.0.0.0", "--port", "8000"]
