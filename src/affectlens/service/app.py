"""The HTTP service: ``create_app(settings, recognizers=...)`` builds a FastAPI app.

Endpoints (``docs/service.md``, ``docs/openapi.json``): text, batch of texts, dialogue,
audio/image/video uploads, jobs (table files and long media), a WebSocket audio stream,
``/healthz``, ``/readyz`` and the web page at ``/``.  Every response body is the
library's JSON (``EmotionResult.to_dict()``); every error is ``{"error", "status",
"request_id"}``.  ``recognizers`` injects ready recognizers (tests, embedding); without
them the registry's defaults are used (``text.minilm-goemotions.v1`` for text).
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Iterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

from fastapi import Depends, FastAPI, File, Form, Request, UploadFile, WebSocket
from fastapi.responses import FileResponse, JSONResponse, StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from affectlens import processing
from affectlens.dialogue.types import Dialogue, Turn
from affectlens.inputs import TextItem
from affectlens.protocols import Recognizer
from affectlens.service import analysis, schemas
from affectlens.service.engine import Engine, ServiceError, describe_exception
from affectlens.service.jobs import JobManager
from affectlens.service.limits import SyncMediaRunner
from affectlens.service.middleware import RequestContext, install_error_handlers
from affectlens.service.security import HostOriginGuard, install_log_redaction, stream_credentials
from affectlens.service.settings import ServiceSettings
from affectlens.service.stream import run_stream
from affectlens.service.uploads import remove_quietly, save_upload
from affectlens.types import SCHEMA_VERSION, Modality

log = logging.getLogger("affectlens.service")
STATIC_DIR = Path(__file__).resolve().parent / "static"
T = TypeVar("T")


# -- the app -----------------------------------------------------------------------------------------


class ServiceState:
    def __init__(self, settings: ServiceSettings, recognizers: Sequence[Recognizer]) -> None:
        self.settings = settings
        self.engine = Engine(settings, recognizers)
        self.jobs = JobManager(settings, self.engine.gate)
        self.sync_media = SyncMediaRunner(settings, self.engine.gate)
        self.loading: asyncio.Task[Any] | None = None


#: module level: with postponed annotations, FastAPI resolves a parameter's ``Annotated`` metadata in the
#: module's globals, not in ``create_app``'s locals
TRANSCRIPT_HELP = ("Optional: the media's transcript as SRT or WebVTT text (`NAME: text` or `<v NAME>` names the "
                   "speaker): per turn the words', the voice's and (videos) the faces' emotions fused, with a "
                   "disagreement score, as `affectlens analyze MEDIA --transcript FILE`.")
WORDS_HELP = ("Optional, without a transcript: `true` gives each speech segment its words (pinned Whisper), the "
              "voice's and the words' emotions fused with a disagreement score, as `affectlens analyze MEDIA "
              "--words`; `false` the voice alone. Unset: words for audio where multilingual Whisper is installed "
              "(and the service's `words_by_default` setting is on).")


def create_app(settings: ServiceSettings | None = None, *, recognizers: Sequence[Recognizer] = ()) -> FastAPI:
    """The service.  ``recognizers`` become the defaults of their modalities (and are addressable
    by name); anything else comes from the registry, loaded on first use."""
    from affectlens import __version__

    settings = settings or ServiceSettings()
    state = ServiceState(settings, recognizers)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state.loading = asyncio.create_task(_warm_up(state))
        try:
            yield
        finally:
            state.loading.cancel()
            state.jobs.shutdown()
            state.sync_media.shutdown()
            state.engine.shutdown()

    app = FastAPI(
        title="affectlens",
        version=__version__,
        summary="Local, offline, explainable emotion recognition over HTTP.",
        description="Every result is the library's `EmotionResult` JSON (docs/schema.md). "
        "Errors are `{error, status, request_id}`. Send `Authorization: Bearer <key>` when the "
        "service was started with an API key.",
        lifespan=lifespan,
        docs_url=None,  # Swagger UI / ReDoc load scripts from a CDN; this service stays offline
        redoc_url=None,
    )
    app.state.affectlens = state
    install_error_handlers(app)
    app.add_middleware(HostOriginGuard, settings=settings)  # inside RequestContext
    app.add_middleware(RequestContext, settings=settings)
    _add_public_routes(app, state)
    _add_api_routes(app, state)
    return app


async def _warm_up(state: ServiceState) -> None:
    loop = asyncio.get_running_loop()
    try:
        rec = await loop.run_in_executor(state.engine.media_executor, state.engine.load_default_text)
        log.info("default text model %s loaded", rec.name)
    except Exception as exc:
        _, message = describe_exception(exc)
        state.engine.default_error = message
        log.error("default text model could not be loaded: %s", message)


async def _with_timeout(state: ServiceState, work: Awaitable[T]) -> T:
    try:
        return await asyncio.wait_for(work, timeout=state.settings.request_timeout_s)
    except asyncio.TimeoutError:
        raise ServiceError(504, f"the request took longer than {state.settings.request_timeout_s:g} s") from None


def _add_public_routes(app: FastAPI, state: ServiceState) -> None:
    from affectlens import __version__

    @app.get("/healthz", response_model=schemas.HealthModel, tags=["health"])
    async def healthz() -> dict[str, str]:
        """The process is up (no model needed)."""
        return {"status": "ok", "version": __version__}

    @app.get("/readyz", response_model=schemas.ReadyModel, tags=["health"],
             responses={503: {"model": schemas.ReadyModel, "description": "The default model is not loaded (yet)"}})
    async def readyz() -> JSONResponse:
        """Ready once the default text model is loaded."""
        engine = state.engine
        if engine.default_text is not None:
            return JSONResponse({"ready": True, "model": engine.default_text.name, "error": None})
        if state.loading is None:  # no lifespan (embedded without startup): load on demand
            state.loading = asyncio.create_task(_warm_up(state))
        return JSONResponse({"ready": False, "model": None, "error": engine.default_error or "loading"},
                            status_code=503)

    @app.get("/", include_in_schema=False)
    async def index() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html", media_type="text/html")

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")


_BEARER = HTTPBearer(auto_error=False, description="The API key, when the service has one")


def _require_key(state: ServiceState) -> Any:
    async def check(credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_BEARER)]) -> None:
        key = state.settings.api_key
        if not key:
            return
        given = credentials.credentials if credentials else ""
        if not hmac.compare_digest(given.encode(), key.encode()):
            raise StarletteHTTPException(401, "missing or wrong API key (send 'Authorization: Bearer <key>')",
                                         headers={"WWW-Authenticate": "Bearer"})

    return check


def _add_api_routes(app: FastAPI, state: ServiceState) -> None:
    settings = state.settings
    engine = state.engine
    dialogue_models: dict[Any, Any] = {}  # conversation models, loaded on first use
    auth = [Depends(_require_key(state))]
    errors = schemas.ERROR_RESPONSES

    def check_text(text: str, where: str = "text") -> None:
        if len(text) > settings.max_text_chars:
            raise ServiceError(422, f"{where}: longer than the limit of {settings.max_text_chars} characters "
                                    f"({len(text)}); send long documents as a job")

    def check_count(count: int, what: str) -> None:
        if count > settings.max_batch_texts:
            raise ServiceError(422, f"{what}: more than the limit of {settings.max_batch_texts} ({count})")

    @app.get("/v1/models", response_model=schemas.ModelsModel, tags=["models"], dependencies=auth,
             responses=errors)
    async def models() -> dict[str, Any]:
        """Text models a request may name: loaded or not, ready or not (and why); the stream's recognizer.

        The service never trains: a model that needs training first is listed with ``ready: false``."""
        rows = await asyncio.get_running_loop().run_in_executor(None, engine.model_rows)
        stream = engine._defaults.get(Modality.SPEECH)
        return {"models": rows, "stream_recognizer": stream.name if stream else None}

    @app.post("/v1/analyze/text", tags=["analyze"], dependencies=auth, response_model=schemas.ResultModel,
              responses=errors)
    async def analyze_text(body: schemas.TextRequest) -> JSONResponse:
        """One text -> one result: scores, labels, VAD, confidence and word cues (with spans)."""
        check_text(body.text)
        [result] = await _with_timeout(state, engine.analyze_texts([TextItem(body.text)], model=body.model,
                                                                   labels=body.labels, cues=body.cues))
        return JSONResponse(result.to_dict())

    @app.post("/v1/analyze/texts", tags=["analyze"], dependencies=auth, response_model=schemas.ResultsModel,
              responses=errors)
    async def analyze_texts(body: schemas.TextsRequest) -> JSONResponse:
        """Many texts -> one result per text, in order (an empty text gives an empty result + warning)."""
        check_count(len(body.texts), "texts")
        for i, text in enumerate(body.texts):
            check_text(text, f"texts[{i}]")
        items = [TextItem(t, record_id=str(i + 1)) for i, t in enumerate(body.texts)]
        results = await _with_timeout(state, engine.analyze_texts(items, model=body.model, labels=body.labels,
                                                                  cues=body.cues))
        return JSONResponse({"schema_version": SCHEMA_VERSION, "results": [r.to_dict() for r in results]})

    @app.post("/v1/analyze/dialogue", tags=["analyze"], dependencies=auth, response_model=schemas.ResultModel,
              responses=errors)
    async def analyze_dialogue(body: schemas.DialogueRequest) -> JSONResponse:
        """A conversation -> one result with one segment per non-empty turn (``turn``, ``speaker``).

        The shipped conversation model reads every turn with the whole dialogue (MELD's
        7 classes, emotion shifts and causes as cues); ``model`` naming a text model gives
        the context-free baseline over it, and a warning says so."""
        check_count(len(body.turns), "turns")
        for i, turn in enumerate(body.turns):
            check_text(turn.text, f"turns[{i}].text")
        turns = tuple(Turn(i, t.speaker or "unknown", t.text) for i, t in enumerate(body.turns))
        empty = tuple(f"turn {t.index + 1}: empty text" for t in turns if t.is_empty)
        dialogue = Dialogue("dialogue", turns, warnings=empty)
        loop = asyncio.get_running_loop()
        result = await _with_timeout(state, loop.run_in_executor(
            engine.media_executor, analysis.analyze_dialogue, dialogue_models, dialogue, body.model, body.labels,
            body.support, body.supporter))
        return JSONResponse(result)

    async def analyze_media(kind: str, file: UploadFile, labels: str | None, request: Request,
                            transcript: str | None = None, words: bool | None = None) -> JSONResponse:
        saved = await save_upload(file, kinds=(kind,), max_bytes=settings.max_upload_bytes,
                                  temp_dir=settings.temp_folder())
        try:  # duration and pixel caps from the header, own threads, cancelled when abandoned (limits.py)
            result = await state.sync_media.run(
                request, saved, lambda: analysis.analyze_file(engine, saved, labels, transcript, words))
        finally:
            remove_quietly(saved.path)
        return JSONResponse(result)

    media_doc = ("Upload (multipart field `file`) -> one result, segments with `start`/`end`. Checked: size (413), "
                 "content type and magic bytes (415), duration and pixel caps from the header (413: send long "
                 "media to `/v1/jobs`); 501 while no {word} recognizer is installed.")

    @app.post("/v1/analyze/audio", tags=["analyze"], dependencies=auth, response_model=schemas.ResultModel,
              responses=errors, description=media_doc.format(word="speech"))
    async def analyze_audio(request: Request, file: Annotated[UploadFile, File()],
                            labels: Annotated[str | None, Form(max_length=200)] = None,
                            transcript: Annotated[str | None, Form(max_length=2_000_000,
                                                                   description=TRANSCRIPT_HELP)] = None,
                            words: Annotated[bool | None, Form(description=WORDS_HELP)] = None,
                            ) -> JSONResponse:
        return await analyze_media("audio", file, labels, request, transcript, words)

    @app.post("/v1/analyze/image", tags=["analyze"], dependencies=auth, response_model=schemas.ResultModel,
              responses=errors, description=media_doc.format(word="face"))
    async def analyze_image(request: Request, file: Annotated[UploadFile, File()],
                            labels: Annotated[str | None, Form(max_length=200)] = None) -> JSONResponse:
        return await analyze_media("image", file, labels, request)

    @app.post("/v1/analyze/video", tags=["analyze"], dependencies=auth, response_model=schemas.ResultModel,
              responses=errors, description=media_doc.format(word="face"))
    async def analyze_video(request: Request, file: Annotated[UploadFile, File()],
                            labels: Annotated[str | None, Form(max_length=200)] = None,
                            transcript: Annotated[str | None, Form(max_length=2_000_000,
                                                                   description=TRANSCRIPT_HELP)] = None,
                            words: Annotated[bool | None, Form(description=WORDS_HELP)] = None,
                            ) -> JSONResponse:
        return await analyze_media("video", file, labels, request, transcript, words)

    @app.post("/v1/jobs", tags=["jobs"], dependencies=auth, status_code=202, response_model=schemas.JobModel,
              responses=errors)
    async def submit_job(
        file: Annotated[UploadFile, File(description="A table (.csv .tsv .jsonl .parquet) or a media file")],
        kind: Annotated[Literal["auto", "table", "audio", "image", "video"], Form()] = "auto",
        column: Annotated[str | None, Form(max_length=200, description="Table column with the texts")] = None,
        id_column: Annotated[str | None, Form(max_length=200, description="Table column with record ids")] = None,
        labels: Annotated[str | None, Form(max_length=200)] = None,
        model: Annotated[str | None, Form(max_length=200)] = None,
    ) -> JSONResponse:
        """Start a job: one result per table row (or per media file); poll ``GET /v1/jobs/{id}``.

        429 when ``max_jobs_queued`` jobs are queued or running."""
        state.jobs.check_capacity()  # before reading a large upload
        kinds = ("table", "audio", "image", "video") if kind == "auto" else (kind,)
        saved = await save_upload(file, kinds=kinds, max_bytes=settings.max_upload_bytes,
                                  temp_dir=settings.temp_folder())
        handed_over = False
        try:
            job = state.jobs.new_job(saved.sniffed.kind, saved.path)
            job.scrub = saved.scrub
            loop = asyncio.get_running_loop()
            with analysis.client_errors(saved):
                started = await _with_timeout(state, loop.run_in_executor(
                    engine.media_executor, analysis.start_job_analysis, engine, saved, job, column, id_column,
                    labels, model))
            job.work = lambda: started.results
            state.jobs.submit(job)
            handed_over = True
        finally:
            if not handed_over:
                remove_quietly(saved.path)
        return JSONResponse(job.to_dict(), status_code=202, headers={"Location": f"/v1/jobs/{job.id}"})

    @app.get("/v1/jobs/{job_id}", tags=["jobs"], dependencies=auth, response_model=schemas.JobModel,
             responses=errors)
    async def job_status(job_id: str) -> JSONResponse:
        """Status and progress (done, total when known, fraction)."""
        return JSONResponse(state.jobs.get(job_id).to_dict())

    @app.get("/v1/jobs/{job_id}/result", tags=["jobs"], dependencies=auth, response_model=schemas.JobResultModel,
             responses={**errors, 409: {"model": schemas.ErrorModel, "description": "The job has not finished"}})
    async def job_result(job_id: str) -> StreamingResponse:
        """The results, one per input row, in order (409 until the job is done)."""
        job = state.jobs.get(job_id)
        if job.status != "done":
            reason = f": {job.error}" if job.error else ""
            raise ServiceError(409, f"job {job_id} is {job.status}{reason}")
        handle = state.jobs.open_results(job)
        head = json.dumps({"schema_version": SCHEMA_VERSION, "job": job.to_dict()})[:-1] + ', "results": ['

        def body() -> Iterator[bytes]:  # streamed from the job's file: memory stays flat
            with handle:
                yield head.encode()
                for number, line in enumerate(handle):
                    yield (b",\n" if number else b"\n") + line.rstrip(b"\n")
                yield b"\n]}\n"

        return StreamingResponse(body(), media_type="application/json")

    @app.delete("/v1/jobs/{job_id}", tags=["jobs"], dependencies=auth, response_model=schemas.JobModel,
                responses=errors)
    async def cancel_job(job_id: str) -> JSONResponse:
        """Cancel a queued or running job (it stops at its next batch); forget a finished one."""
        return JSONResponse(state.jobs.cancel_or_delete(job_id).to_dict())

    @app.websocket("/v1/stream/audio")
    async def stream_audio(websocket: WebSocket) -> None:
        """PCM16 mono 16 kHz in, one message per speech segment out (see ``affectlens.service.stream``)."""
        allowed, subprotocol = stream_credentials(websocket.headers, websocket.query_params, settings.api_key)
        if not allowed:
            await websocket.close(code=1008, reason="missing or wrong API key")
            return
        labels = websocket.query_params.get("labels") or None
        rate = websocket.query_params.get("sample_rate", "16000")
        await websocket.accept(subprotocol=subprotocol)
        if rate != "16000":
            await websocket.send_json({"type": "error", "error": "only sample_rate=16000 (PCM16 mono) is supported"})
            await websocket.close(code=1003)
            return
        if labels is not None:
            try:
                processing.check_label_set(labels)
            except KeyError as exc:
                await websocket.send_json({"type": "error", "error": str(exc.args[0] if exc.args else exc)})
                await websocket.close(code=1008)
                return
        loop = asyncio.get_running_loop()
        recognizer = await loop.run_in_executor(engine.media_executor, engine.stream_recognizer)
        await run_stream(websocket, recognizer=recognizer, executor=engine.media_executor,
                         max_seconds=settings.stream_max_seconds,
                         max_message_bytes=settings.stream_max_message_bytes, labels=labels)


def run_server(settings: ServiceSettings, *, log_level: str = "info", recognizers: Sequence[Recognizer] = ()) -> None:
    """Serve until interrupted (``affectlens serve``)."""
    import uvicorn

    if not log.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        log.addHandler(handler)
        log.setLevel(log_level.upper())
    if settings.host not in ("127.0.0.1", "localhost", "::1") and not settings.api_key:
        log.warning("listening on %s without an API key: anyone who can reach it can use it", settings.host)
    app = create_app(settings, recognizers=recognizers)
    config = uvicorn.Config(app, host=settings.host, port=settings.port, log_level=log_level, access_log=False,
                            limit_concurrency=settings.max_connections)
    install_log_redaction()  # after uvicorn set up its loggers: ?api_key= never reaches a log
    uvicorn.Server(config).run()
