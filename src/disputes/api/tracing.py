"""Optional OpenTelemetry tracing: when ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set and the ``otel`` extra is
installed (``pip install 'disputes[otel]'``), every request is a span exported over OTLP/HTTP, in the
caller's trace when it sent a ``traceparent``. The exporter reads the standard ``OTEL_*`` variables
(service name, headers, batch delays) itself.
"""

from __future__ import annotations

import logging
import os

from fastapi import FastAPI

ENDPOINT_VARIABLE = "OTEL_EXPORTER_OTLP_ENDPOINT"
log = logging.getLogger("disputes.tracing")


def install_tracing(api: FastAPI) -> bool:
    """Trace the app's requests if an OTLP endpoint is configured; whether it does."""
    if not os.environ.get(ENDPOINT_VARIABLE):
        return False
    try:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
        from opentelemetry.sdk.resources import SERVICE_NAME, Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
    except ImportError as missing:
        log.warning(
            "%s is set but OpenTelemetry is not installed (pip install 'disputes[otel]'): %s",
            ENDPOINT_VARIABLE,
            missing.name,
        )
        return False
    service = os.environ.get("OTEL_SERVICE_NAME", "disputes")
    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: service}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    FastAPIInstrumentor.instrument_app(api, tracer_provider=provider, excluded_urls="healthz,metrics")
    api.state.tracer_provider = provider  # flushed and shut down with the app
    return True
