"""Background jobs: a bounded queue, worker threads, progress, cancellation, expiry.

A job owns one uploaded temp file and removes it whatever happens (done, failed,
cancelled, expired, service shut down).  Its results go to a temp JSON-lines file, not to
memory (a 25 MB table makes hundreds of MB of result dicts); that file lives until the job
is deleted or expires, or the service stops.  Its work is a lazy ``processing.Analysis``
started (and so validated) when the job was submitted; the worker only walks it, one
small batch at a time, and between batches checks for cancellation and lets
interactive requests go first (``InteractiveGate``).
"""

from __future__ import annotations

import logging
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, Any

from affectlens.media_limits import OperationCancelled, media_limits
from affectlens.processing import ProgressUpdate
from affectlens.service.engine import InteractiveGate, ServiceError
from affectlens.service.settings import ServiceSettings
from affectlens.service.uploads import remove_quietly
from affectlens.types import EmotionResult

log = logging.getLogger("affectlens.service")

ACTIVE = ("queued", "running")


class JobCancelled(Exception):
    pass


@dataclass
class Job:
    id: str
    kind: str
    path: Path | None  # the upload; removed when the job ends
    status: str = "queued"
    created: float = field(default_factory=time.time)
    started: float | None = None
    finished: float | None = None
    error: str | None = None
    done: int = 0
    total: int | None = None
    fraction: float | None = None
    unit: str = "rows"
    results_path: Path | None = None  # JSON lines, one result per input, while the job is kept
    result_count: int = 0
    cancel_event: threading.Event = field(default_factory=threading.Event)
    #: produces the results lazily (set before the job is queued)
    work: Callable[[], Iterator[EmotionResult]] | None = None
    #: turns a result / message into what the client may see (no temp paths)
    scrub: Callable[[str], str] = field(default=lambda s: s)
    #: called between batches: lets interactive requests go first (set by the manager)
    between_batches: Callable[[], Any] | None = None

    def on_progress(self, update: ProgressUpdate) -> None:
        """The ``processing`` progress callback (after each batch): progress, cancel, yield."""
        self.done = update.done
        self.total = update.total
        self.fraction = update.fraction
        self.unit = update.unit
        if self.cancel_event.is_set():
            raise JobCancelled()
        if self.between_batches is not None:
            self.between_batches()

    def to_dict(self) -> dict[str, Any]:
        fraction = 1.0 if self.status == "done" else self.fraction
        return {
            "id": self.id,
            "kind": self.kind,
            "status": self.status,
            "progress": {"done": self.done, "total": self.total,
                         "fraction": None if fraction is None else round(fraction, 4), "unit": self.unit},
            "created": round(self.created, 3),
            "started": None if self.started is None else round(self.started, 3),
            "finished": None if self.finished is None else round(self.finished, 3),
            "error": self.error,
            "result_url": f"/v1/jobs/{self.id}/result" if self.status == "done" else None,
            "cancel_requested": self.cancel_event.is_set(),
        }


class JobManager:
    def __init__(self, settings: ServiceSettings, gate: InteractiveGate) -> None:
        self.settings = settings
        self.gate = gate
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        self._executor: ThreadPoolExecutor | None = None

    # -- queue ----------------------------------------------------------------------------------
    def new_job(self, kind: str, path: Path | None) -> Job:
        return Job(id=uuid.uuid4().hex, kind=kind, path=path)

    def check_capacity(self) -> None:
        self._expire()
        with self._lock:
            active = sum(1 for j in self._jobs.values() if j.status in ACTIVE)
        if active >= self.settings.max_jobs_queued:
            raise ServiceError(429, f"too many jobs queued ({active}); try again when one has finished")

    def submit(self, job: Job) -> Job:
        """Queue ``job`` (429 when the queue is full: the caller still owns the upload then)."""
        self.check_capacity()
        with self._lock:
            self._jobs[job.id] = job
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=max(1, self.settings.job_workers),
                                                thread_name_prefix="affectlens-job")
        try:
            self._executor.submit(self._run, job)
        except RuntimeError:  # shutting down
            with self._lock:
                self._jobs.pop(job.id, None)
            raise ServiceError(503, "the service is shutting down") from None
        return job

    def get(self, job_id: str) -> Job:
        self._expire()
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None:
            raise ServiceError(404, f"no job {job_id!r} (unknown, deleted or expired)")
        return job

    def cancel_or_delete(self, job_id: str) -> Job:
        """Cancel a queued/running job; forget a finished one (and its results)."""
        job = self.get(job_id)
        if job.status in ACTIVE:
            job.cancel_event.set()
            if job.status == "queued":
                self._finish(job, "cancelled")
        else:
            with self._lock:
                self._jobs.pop(job.id, None)
            self._forget(job)
        return job

    def open_results(self, job: Job) -> IO[bytes]:
        """The results file of a done job, opened now (so a concurrent delete cannot break a download)."""
        if job.results_path is None:
            raise ServiceError(404, f"no results for job {job.id!r}")
        try:
            return job.results_path.open("rb")
        except FileNotFoundError:
            raise ServiceError(404, f"no job {job.id!r} (deleted or expired)") from None

    # -- work -----------------------------------------------------------------------------------
    def _run(self, job: Job) -> None:
        if job.cancel_event.is_set() or job.status != "queued":
            self._finish(job, "cancelled")
            return
        job.status = "running"
        job.started = time.time()
        wait_s = self.settings.job_yield_ms / 1000
        job.between_batches = lambda: self.gate.wait_idle(wait_s)  # interactive requests first, bounded
        try:
            assert job.work is not None
            handle = tempfile.NamedTemporaryFile(  # noqa: SIM115  (closed below, removed by _forget)
                "w", encoding="utf-8", prefix="affectlens-job-", suffix=".jsonl",
                dir=self.settings.temp_folder(), delete=False)
            job.results_path = Path(handle.name)
            # inside one file too: stop at the next audio chunk / video frame when cancelled, and let
            # interactive requests go first there (a 90-minute file is one "batch")
            scope = media_limits(max_pixels=self.settings.max_image_pixels, cancel=job.cancel_event,
                                 between=job.between_batches)
            with handle, scope:
                for result in job.work():
                    if job.cancel_event.is_set():
                        raise JobCancelled()
                    handle.write(scrubbed(result, job.scrub).to_json())
                    handle.write("\n")
                    job.result_count += 1
            self._finish(job, "done")
        except (JobCancelled, OperationCancelled):
            self._finish(job, "cancelled")
        except Exception as exc:
            from affectlens.service.engine import describe_exception

            _, message = describe_exception(exc)
            log.warning("job %s failed: %s", job.id, job.scrub(message))
            self._finish(job, "failed", job.scrub(message))

    def _finish(self, job: Job, status: str, error: str | None = None) -> None:
        if job.finished is None:
            job.status = status
            job.error = error
            job.finished = time.time()
        remove_quietly(job.path)
        job.work = None  # drops the analysis (and its open file handles)
        if job.status != "done":
            remove_quietly(job.results_path)  # partial results are never served

    @staticmethod
    def _forget(job: Job) -> None:
        remove_quietly(job.path)
        remove_quietly(job.results_path)

    def _expire(self) -> None:
        now = time.time()
        with self._lock:
            finished = sorted((j for j in self._jobs.values() if j.finished is not None), key=lambda j: j.finished or 0)
            for job in finished:
                if now - (job.finished or now) > self.settings.job_ttl_s:
                    self._forget(self._jobs.pop(job.id))
            finished = [j for j in finished if j.id in self._jobs]
            for job in finished[: max(0, len(finished) - self.settings.max_jobs_kept)]:
                self._forget(self._jobs.pop(job.id))

    def active_count(self) -> int:
        with self._lock:
            return sum(1 for j in self._jobs.values() if j.status in ACTIVE)

    def shutdown(self) -> None:
        with self._lock:
            jobs = list(self._jobs.values())
        for job in jobs:
            job.cancel_event.set()
            if job.status == "queued":
                self._finish(job, "cancelled")
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None
        for job in jobs:  # the running ones stopped at their next batch
            self._forget(job)
        with self._lock:
            self._jobs.clear()


def scrubbed(result: EmotionResult, scrub: Callable[[str], str]) -> EmotionResult:
    """A result as the client sees it: no temp-file paths (no ``source``; paths in warnings hidden)."""
    segments = tuple(replace(seg, source=None) for seg in result.segments)
    return replace(result, segments=segments, source=None, warnings=tuple(scrub(w) for w in result.warnings))
