"""Schema-driven fuzzing (schemathesis): whatever the generated request, never a 5xx."""

from __future__ import annotations

import pytest

schemathesis = pytest.importorskip("schemathesis", reason="schemathesis is not installed (the e2e extra)")

from hypothesis import HealthCheck, settings  # noqa: E402

from affectlens.service.app import create_app  # noqa: E402
from affectlens.service.settings import ServiceSettings  # noqa: E402
from affectlens.testing import DummyRecognizer  # noqa: E402

# schemathesis's in-process client sends "Host: testserver": a name the service must be told to answer to
APP = create_app(ServiceSettings(max_upload_bytes=1 << 16, max_jobs_queued=1000, allowed_hosts="testserver"),
                 recognizers=[DummyRecognizer()])
SCHEMA = schemathesis.openapi.from_asgi("/openapi.json", APP)


@SCHEMA.parametrize()
@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_no_server_errors(case: schemathesis.Case) -> None:
    response = case.call()
    assert response.status_code < 500, f"{case.method} {case.path} -> {response.status_code}: {response.text[:300]}"
