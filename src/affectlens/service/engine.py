"""Where the service meets the models: recognizer choice, micro-batching, threads, priorities.

* Inference never runs on the event loop: text goes to ONE inference thread (onnxruntime
  already uses every core inside a call; two calls at once only fight over them).
* Micro-batching, "batch while busy": requests that arrive while the model is busy wait
  in a queue and go to the model together as ONE call when it is free.  Before each model
  call the queue waits ``batch_wait_ms`` (default 2 ms, ``service/settings.py``) so that
  requests arriving together share it; ``batch_wait_ms`` = 0 adds no delay, and under load
  a batch forms by itself.
* Jobs yield to interactive requests: before each of its (small) batches a job waits
  until no interactive batch is running, for at most ``job_yield_ms`` (so it never starves).
* Everything goes through ``processing``: text as work items (``plan_input`` +
  ``analyze_items``), files through its file-type dispatch (``start_analysis``).
"""

from __future__ import annotations

import asyncio
import threading
from collections import OrderedDict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from affectlens import processing
from affectlens.inputs import TextItem
from affectlens.protocols import Recognizer
from affectlens.readiness import readiness, training_forbidden
from affectlens.registry import RecognizerSpec, UnknownRecognizer, available, default_for, get_spec
from affectlens.service.settings import ServiceSettings
from affectlens.types import EmotionResult, Modality


class ServiceError(Exception):
    """An error with the HTTP status it maps to (the message is shown to the client)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class InteractiveGate:
    """Counts running interactive batches; background work waits (bounded) until there are none."""

    def __init__(self) -> None:
        self._busy = 0
        self._cond = threading.Condition()

    def enter(self) -> None:
        with self._cond:
            self._busy += 1

    def leave(self) -> None:
        with self._cond:
            self._busy -= 1
            if self._busy == 0:
                self._cond.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        """True when idle now or within ``timeout`` seconds; False when it gave up waiting."""
        with self._cond:
            return self._cond.wait_for(lambda: self._busy == 0, timeout=timeout)


@dataclass
class _Pending:
    items: list[TextItem]
    future: asyncio.Future[list[EmotionResult]]


@dataclass
class _Batcher:
    """Per recognizer: the queue of waiting requests and whether a drain loop runs."""

    recognizer: Recognizer
    pending: list[_Pending] = field(default_factory=list)
    draining: bool = False
    task: asyncio.Task[None] | None = None  # the drain loop (kept referenced while it runs)


class Engine:
    """Recognizers by modality and name, and the threads they run in."""

    def __init__(self, settings: ServiceSettings, recognizers: Sequence[Recognizer] = ()) -> None:
        self.settings = settings
        self.gate = InteractiveGate()
        self._text_executor: ThreadPoolExecutor | None = None
        self._media_executor: ThreadPoolExecutor | None = None
        self._injected: dict[str, Recognizer] = {r.name: r for r in recognizers}
        self._defaults: dict[Modality, Recognizer] = {}
        for rec in recognizers:
            self._defaults.setdefault(rec.modality, rec)
        self._loaded: OrderedDict[str, Recognizer] = OrderedDict()
        self._lock = threading.Lock()
        self._transcriber: Any = None  # audio.transcribe.WordTranscriber, built on the first request for words
        self._batchers: dict[tuple[str, str], _Batcher] = {}  # (model, cues): one queue each
        self.default_error: str | None = None
        self.default_text: Recognizer | None = None
        self.batches_run = 0  # how many model calls the text path made (for tests and metrics)
        self.texts_run = 0

    # -- threads (made on first use, so an app can be started again after a shutdown) ------------
    @property
    def text_executor(self) -> ThreadPoolExecutor:
        if self._text_executor is None:
            self._text_executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="affectlens-text")
        return self._text_executor

    @property
    def media_executor(self) -> ThreadPoolExecutor:
        if self._media_executor is None:
            self._media_executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="affectlens-media")
        return self._media_executor

    # -- which recognizer -------------------------------------------------------------------
    def default_text_name(self) -> str:
        if Modality.TEXT in self._defaults:
            return self._defaults[Modality.TEXT].name
        if self.settings.model:
            return self.settings.model
        try:
            return default_for(Modality.TEXT).name
        except UnknownRecognizer as exc:
            raise ServiceError(503, str(exc)) from None

    def load_default_text(self) -> Recognizer:
        """Build and load the default text model (blocking: call it in a thread)."""
        try:
            rec = self.text_recognizer(None)
        except ServiceError as exc:
            self.default_error = exc.message
            raise
        self.default_text = rec
        self.default_error = None
        return rec

    def text_recognizer(self, name: str | None) -> Recognizer:
        """The loaded text recognizer called ``name`` (None: the default); blocking on first use."""
        if name is None and self.default_text is not None:
            return self.default_text
        wanted = name or self.default_text_name()
        if wanted in self._injected:
            rec = self._injected[wanted]
            if rec.modality != Modality.TEXT:
                raise ServiceError(400, f"model {wanted!r} is a {rec.modality.value} model, not a text model")
            return rec
        try:
            spec = get_spec(wanted) if name is None or self._is_listed(wanted) else None
        except UnknownRecognizer:
            spec = None
        if spec is None and name is None:
            raise ServiceError(503, f"the default text model {wanted!r} is not registered")
        if spec is None:
            known = ", ".join(sorted({*self._injected, *(s.name for s in available(Modality.TEXT))}))
            raise ServiceError(400, f"unknown model {wanted!r}; available text models: {known}")
        if spec.modality != Modality.TEXT:
            raise ServiceError(400, f"model {spec.name!r} is a {spec.modality.value} model, not a text model")
        with self._lock:
            if spec.name in self._loaded:
                self._loaded.move_to_end(spec.name)
                return self._loaded[spec.name]
            try:
                with training_forbidden():  # a request never makes the service train a model
                    reason = readiness(spec)
                    if reason is not None:
                        raise ServiceError(409, f"model {spec.name!r} is not ready: {reason}")
                    rec = spec.build()
                    rec.load()
            except ServiceError:
                raise
            except ImportError as exc:
                raise ServiceError(501, f"model {spec.name!r} needs a package that is not installed "
                                        f"({exc.name or exc})") from exc
            except Exception as exc:
                raise ServiceError(503, f"model {spec.name!r} could not be loaded: {exc}") from exc
            self._loaded[spec.name] = rec
            default = self.default_text.name if self.default_text else None
            while len(self._loaded) > max(1, self.settings.max_loaded_models):
                oldest = next(n for n in self._loaded if n != default)
                del self._loaded[oldest]
            return rec

    @staticmethod
    def _is_listed(name: str) -> bool:
        """Registered (not made on request by a prefix resolver such as ``llm:``)."""
        names = {s.name for s in available()}
        return name in names or any(n.rsplit(".", 1)[0] == name for n in names)

    def recognizer_for(self, modality: Modality) -> Recognizer:
        """The recognizer for a media modality: the injected one, else the registry's (blocking)."""
        if modality == Modality.TEXT:
            return self.text_recognizer(None)
        if modality in self._defaults:
            return self._defaults[modality]
        key = f"<default {modality.value}>"
        with self._lock:
            if key in self._loaded:
                return self._loaded[key]
        try:
            rec = processing.RecognizerPool().get(modality)
        except processing.NoRecognizer:
            raise ServiceError(501, f"no {modality.value} recognizer is installed") from None
        except processing.MissingDependency as exc:
            raise ServiceError(501, str(exc)) from None
        with self._lock:
            self._loaded[key] = rec
        return rec

    def words_transcriber(self) -> Any:
        """The pinned Whisper that writes a recording's words (``WordTranscriber.default()``), one per service;
        it loads on first use (``fusion.speech_words``)."""
        with self._lock:
            if self._transcriber is None:
                from affectlens.audio.transcribe import WordTranscriber

                self._transcriber = WordTranscriber.default()
            return self._transcriber

    def stream_recognizer(self) -> Recognizer | None:
        """The speech recognizer for the audio stream, or None when none is installed."""
        try:
            return self.recognizer_for(Modality.SPEECH)
        except ServiceError:
            return None

    def model_rows(self) -> list[dict[str, object]]:
        """``/v1/models``: every text model a request may name, loaded or not, ready or not and why
        (blocking: readiness may hash a corpus to find a cache file; call it in a thread)."""
        loaded = self.loaded_names()
        default = self.default_text.name if self.default_text else None
        rows: dict[str, dict[str, object]] = {}

        def add(model: Recognizer | RecognizerSpec, is_loaded: bool, reason: str | None = None) -> None:
            rows[model.name] = {"name": model.name, "modality": model.modality.value, "label_set": model.label_set,
                                "default": model.name == default, "loaded": is_loaded,
                                "ready": reason is None, "reason": reason}

        for spec in available(Modality.TEXT):
            if spec.name in loaded:
                add(spec, True)
            else:
                with training_forbidden():
                    add(spec, False, readiness(spec))
        for rec in self._injected.values():
            add(rec, True)
        return sorted(rows.values(), key=lambda r: str(r["name"]))

    def loaded_names(self) -> set[str]:
        names = set(self._loaded)
        if self.default_text is not None:
            names.add(self.default_text.name)
        return names | set(self._injected)

    # -- text, micro-batched ------------------------------------------------------------------------
    @staticmethod
    def with_cues(recognizer: Recognizer, cues: str) -> Recognizer:
        """``recognizer`` set to explain with ``cues``: its ``with_params`` copy, sharing its loaded model."""
        params = recognizer.get_params() if callable(getattr(recognizer, "get_params", None)) else {}
        if cues == params.get("cues", "decomposition"):
            return recognizer
        if "cues" not in params:
            raise ServiceError(400, f"model {recognizer.name!r} offers no {cues} cues")
        return recognizer.with_params(cues=cues)

    async def analyze_texts(
        self, items: list[TextItem], *, model: str | None, labels: str | None, cues: str = "decomposition",
    ) -> list[EmotionResult]:
        loop = asyncio.get_running_loop()
        if labels is not None:
            try:
                processing.check_label_set(labels)
            except KeyError as exc:
                raise ServiceError(400, _one_line(exc.args[0] if exc.args else exc)) from None
        if model is None and self.default_text is not None:
            rec = self.default_text
        else:
            rec = await loop.run_in_executor(self.media_executor, self.text_recognizer, model)
        key = (rec.name, cues)
        if key not in self._batchers:
            self._batchers[key] = _Batcher(self.with_cues(rec, cues))
        batcher = self._batchers[key]
        future: asyncio.Future[list[EmotionResult]] = loop.create_future()
        batcher.pending.append(_Pending(items, future))
        if not batcher.draining:
            batcher.draining = True
            batcher.task = loop.create_task(self._drain(batcher))
        results = await future
        return [processing.map_result(r, labels) for r in results]

    async def _drain(self, batcher: _Batcher) -> None:
        loop = asyncio.get_running_loop()
        try:
            while batcher.pending:
                if self.settings.batch_wait_ms > 0:
                    await asyncio.sleep(self.settings.batch_wait_ms / 1000)
                taken: list[_Pending] = []
                count = 0
                while batcher.pending and (not taken or count + len(batcher.pending[0].items)
                                           <= self.settings.max_model_batch):
                    entry = batcher.pending.pop(0)
                    if entry.future.done():  # timed out or the client went away
                        continue
                    taken.append(entry)
                    count += len(entry.items)
                if not taken:
                    continue
                items = [item for entry in taken for item in entry.items]
                try:
                    results = await loop.run_in_executor(self.text_executor, self._infer, batcher.recognizer, items)
                except Exception as exc:
                    for entry in taken:
                        if not entry.future.done():
                            entry.future.set_exception(exc)
                    continue
                position = 0
                for entry in taken:
                    part = results[position : position + len(entry.items)]
                    position += len(entry.items)
                    if not entry.future.done():
                        entry.future.set_result(part)
        finally:
            batcher.draining = False

    def _infer(self, recognizer: Recognizer, items: list[TextItem]) -> list[EmotionResult]:
        self.gate.enter()
        try:
            plan = processing.plan_input(items)
            pool = processing.RecognizerPool(recognizer)
            results = list(processing.analyze_items(plan.items, pool, batch_size=max(1, len(items))))
        finally:
            self.gate.leave()
        self.batches_run += 1
        self.texts_run += len(items)
        return results

    def shutdown(self) -> None:
        for executor in (self._text_executor, self._media_executor):
            if executor is not None:
                executor.shutdown(wait=False, cancel_futures=True)
        self._text_executor = self._media_executor = None
        self._batchers.clear()  # their futures belonged to the stopped event loop


def _one_line(value: object) -> str:
    return " ".join(str(value).split())


__all__ = ["Engine", "InteractiveGate", "ServiceError"]


def describe_exception(exc: BaseException) -> tuple[int, str]:
    """An exception from the library as (HTTP status, one-line message), from the one error table
    (``affectlens.errors``) that also gives the CLI's exit codes."""
    from affectlens.errors import describe

    if isinstance(exc, ServiceError):
        return exc.status, exc.message
    row, message = describe(exc)
    if row.http_status == 500:  # an internal error: its type helps whoever reads the log
        return 500, f"{type(exc).__name__}: {_one_line(exc)}"
    return row.http_status, message
