"""Jobs: table uploads, progress, results, cancellation, the bounded queue, temp-file cleanup."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from service_helpers import PNG_BYTES, SlowRecognizer, make_client

from affectlens.service.settings import ServiceSettings

CSV = "review_id,body\n" + "".join(f"r{i},{'so happy' if i % 2 else 'really angry'} {i}\n" for i in range(1, 41))
CSV += "r41,\n"


def wait_for(client: Any, job_id: str, *, until: tuple[str, ...] = ("done", "failed", "cancelled"),
             seconds: float = 10.0) -> dict[str, Any]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        status = client.get(f"/v1/jobs/{job_id}").json()
        if status["status"] in until:
            return status  # type: ignore[no-any-return]
        time.sleep(0.02)
    raise AssertionError(f"job {job_id} still {status['status']}")


def test_csv_table_job(client: Any, upload_dir: Path) -> None:
    submitted = client.post("/v1/jobs", files={"file": ("reviews.csv", CSV.encode(), "text/csv")},
                            data={"column": "body", "id_column": "review_id", "labels": "sentiment"})
    assert submitted.status_code == 202, submitted.text
    job = submitted.json()
    assert submitted.headers["location"] == f"/v1/jobs/{job['id']}"
    assert job["kind"] == "table" and job["status"] in ("queued", "running", "done")
    final = wait_for(client, job["id"])
    assert final["status"] == "done" and final["progress"]["done"] == 41 and final["progress"]["fraction"] == 1.0
    data = client.get(final["result_url"]).json()
    results = data["results"]
    assert len(results) == 41
    assert [r["record_id"] for r in results[:3]] == ["r1", "r2", "r3"]
    assert results[0]["segments"][0]["labels"] == ["positive"]
    assert results[1]["segments"][0]["labels"] == ["negative"]
    assert results[40]["segments"] == [] and results[40]["warnings"] == ["row 41 (id 'r41'): missing value"]
    assert all(r["source"] is None for r in results)
    assert data["job"]["id"] == job["id"]
    # the upload is gone; the results wait in one file until the job is deleted (or expires)
    assert [p.name.startswith("affectlens-job-") for p in upload_dir.iterdir()] == [True]
    assert client.delete(f"/v1/jobs/{job['id']}").json()["status"] == "done"
    assert list(upload_dir.iterdir()) == []
    assert client.get(f"/v1/jobs/{job['id']}/result").status_code == 404


def test_jsonl_table_job_and_auto_column(client: Any) -> None:
    lines = "".join(json.dumps({"text": t}) + "\n" for t in ["happy", "sad", "wow"]) + "not json\n"
    job = client.post("/v1/jobs", files={"file": ("x.jsonl", lines.encode(), "application/x-ndjson")}).json()
    final = wait_for(client, job["id"])
    results = client.get(f"/v1/jobs/{final['id']}/result").json()["results"]
    assert [r["segments"][0]["labels"][0] if r["segments"] else None for r in results] == [
        "joy", "sadness", "surprise", None]
    assert results[3]["warnings"] == ["row 4: not valid JSON"]


def test_job_errors_are_clear(client: Any, upload_dir: Path) -> None:
    missing_column = client.post("/v1/jobs", files={"file": ("a.csv", CSV.encode(), "text/csv")},
                                 data={"column": "text"})
    assert missing_column.status_code == 400
    message = missing_column.json()["error"]
    assert "column 'text' not found in upload" in message and str(upload_dir) not in message
    assert client.post("/v1/jobs", files={"file": ("a.png", PNG_BYTES, "image/png")}).status_code == 501
    wrong_kind = client.post("/v1/jobs", files={"file": ("a.png", PNG_BYTES, "image/png")}, data={"kind": "table"})
    assert wrong_kind.status_code == 415
    bad_kind = client.post("/v1/jobs", files={"file": ("a.csv", CSV.encode(), "text/csv")}, data={"kind": "pdf"})
    assert bad_kind.status_code == 422
    assert client.get("/v1/jobs/nope").status_code == 404
    assert client.delete("/v1/jobs/nope").status_code == 404
    assert list(upload_dir.iterdir()) == []


def test_cancel_a_running_job_and_result_before_done(settings: ServiceSettings, upload_dir: Path) -> None:
    slow = SlowRecognizer(delay=0.1)
    tuned = ServiceSettings(temp_dir=settings.temp_dir, job_batch_size=4)
    with make_client(tuned, [slow]) as client:
        job = client.post("/v1/jobs", files={"file": ("a.csv", CSV.encode(), "text/csv")},
                          data={"column": "body"}).json()
        running = wait_for(client, job["id"], until=("running",))
        early = client.get(f"/v1/jobs/{job['id']}/result")
        assert early.status_code == 409 and "is running" in early.json()["error"]
        deadline = time.monotonic() + 5
        while client.get(f"/v1/jobs/{job['id']}").json()["progress"]["done"] == 0 and time.monotonic() < deadline:
            time.sleep(0.02)
        cancel = client.delete(f"/v1/jobs/{running['id']}")
        assert cancel.status_code == 200 and cancel.json()["cancel_requested"] is True
        final = wait_for(client, job["id"])
        assert final["status"] == "cancelled"
        assert 0 < final["progress"]["done"] < 41  # stopped between batches
        assert slow.calls < 11
        assert list(upload_dir.iterdir()) == []
        forgotten = client.delete(f"/v1/jobs/{job['id']}")  # a finished job: forgotten
        assert forgotten.status_code == 200
        assert client.get(f"/v1/jobs/{job['id']}").status_code == 404


def test_queue_is_bounded(settings: ServiceSettings, upload_dir: Path) -> None:
    slow = SlowRecognizer(delay=0.2)
    tuned = ServiceSettings(temp_dir=settings.temp_dir, max_jobs_queued=2, job_batch_size=64)
    with make_client(tuned, [slow]) as client:
        files = {"file": ("a.csv", CSV.encode(), "text/csv")}
        first = client.post("/v1/jobs", files=files, data={"column": "body"})
        second = client.post("/v1/jobs", files=files, data={"column": "body"})
        third = client.post("/v1/jobs", files=files, data={"column": "body"})
        assert (first.status_code, second.status_code, third.status_code) == (202, 202, 429)
        assert "too many jobs" in third.json()["error"]
        queued = client.delete(f"/v1/jobs/{second.json()['id']}")  # cancelled while still queued
        assert queued.json()["status"] == "cancelled"
        assert wait_for(client, first.json()["id"])["status"] == "done"
        assert client.post("/v1/jobs", files=files, data={"column": "body"}).status_code == 202
    assert list(upload_dir.iterdir()) == []  # shutdown removed what was still queued or running


def test_finished_jobs_expire_with_their_files(settings: ServiceSettings, upload_dir: Path) -> None:
    tuned = ServiceSettings(temp_dir=settings.temp_dir, job_ttl_s=0.2)
    with make_client(tuned) as client:
        job = client.post("/v1/jobs", files={"file": ("a.csv", CSV.encode(), "text/csv")},
                          data={"column": "body"}).json()
        assert wait_for(client, job["id"])["status"] == "done"
        time.sleep(0.3)
        assert client.get(f"/v1/jobs/{job['id']}").status_code == 404
        assert list(upload_dir.iterdir()) == []
