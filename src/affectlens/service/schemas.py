"""Request and response models of the HTTP API (pydantic; they are what ``/openapi.json`` shows).

Responses are built from ``EmotionResult.to_dict()`` and are not re-validated on the way
out (speed); the models below document their shape, and ``tests/service/test_service_schemas.py``
checks the result models field by field against ``types.py`` (names, types, which keys are
always written), so they cannot drift apart.  Length caps written into the
schema are hard maxima; the configured limits (``ServiceSettings``) may be lower and are
checked in the handlers.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

#: hard caps written into the OpenAPI schema (the configured limits are checked on top)
TEXT_MAX_CHARS = 100_000
BATCH_MAX_ITEMS = 1_000
NAME_MAX_CHARS = 200


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")  # a misspelt field is an error, not silently ignored


CueMethod = Literal["decomposition", "occlusion"]
CUES_HELP = ("Word cues: each word's share of the label's logit from one model pass (`decomposition`), or "
             "the probability each label loses when the word is deleted, the model re-run per word "
             "(`occlusion`: slower; texts of up to 64 words).")


class TextRequest(_Strict):
    text: str = Field(min_length=1, max_length=TEXT_MAX_CHARS, description="The text to analyse.")
    labels: str | None = Field(
        None, max_length=NAME_MAX_CHARS,
        description="Express the result in this label set (e.g. `ekman`); default: the model's own.")
    model: str | None = Field(
        None, max_length=NAME_MAX_CHARS, description="A registered text model; default: the service's.")
    cues: CueMethod = Field("decomposition", description=CUES_HELP)


class TextsRequest(_Strict):
    texts: list[str] = Field(min_length=1, max_length=BATCH_MAX_ITEMS,
                             description="Texts to analyse; one result per text, in order.")
    labels: str | None = Field(None, max_length=NAME_MAX_CHARS)
    model: str | None = Field(None, max_length=NAME_MAX_CHARS)
    cues: CueMethod = Field("decomposition", description=CUES_HELP)


class Turn(_Strict):
    text: str = Field(max_length=TEXT_MAX_CHARS)
    speaker: str | None = Field(None, max_length=NAME_MAX_CHARS)


class DialogueRequest(_Strict):
    turns: list[Turn] = Field(min_length=1, max_length=BATCH_MAX_ITEMS)
    labels: str | None = Field(None, max_length=NAME_MAX_CHARS)
    model: str | None = Field(None, max_length=NAME_MAX_CHARS)
    # the supporter's next strategy per turn (support.esconv-minilm.v1): suggestions for a human, not therapy
    support: bool = False
    supporter: str | None = Field(None, max_length=NAME_MAX_CHARS)


# -- the result JSON (docs/schema.md), for the OpenAPI document ------------------------------------


class VADModel(BaseModel):
    valence: float
    arousal: float
    dominance: float


class CueModel(BaseModel):
    kind: str
    phrase: str
    weight: float
    label: str | None = None
    span: list[int] | None = None
    time: list[float] | None = None
    region: list[int] | None = None
    turn: int | None = None
    value: float | None = None


class ProvenanceModel(BaseModel):
    recognizer: str
    version: str


class SegmentModel(BaseModel):
    modality: str
    label_set: str
    labels: list[str]
    scores: dict[str, float]
    vad: VADModel | None
    confidence: float
    cues: list[CueModel]
    provenance: ProvenanceModel
    source: str | None = None
    text: str | None = None
    start: float | None = None
    end: float | None = None
    turn: int | None = None
    speaker: str | None = None
    track_id: int | None = None
    record_id: str | None = None
    extras: dict[str, Any] | None = None


class ResultModel(BaseModel):
    """One ``EmotionResult`` (``docs/schema.md``)."""

    schema_version: str
    source: str | None
    record_id: str | None
    warnings: list[str]
    segments: list[SegmentModel]


class ResultsModel(BaseModel):
    schema_version: str
    results: list[ResultModel]


class ErrorModel(BaseModel):
    """Every error: one readable line, the status, the request id (and details for 422)."""

    error: str
    status: int
    request_id: str | None = None
    detail: list[dict[str, Any]] | None = None


JobStatusName = Literal["queued", "running", "done", "failed", "cancelled"]


class ProgressModel(BaseModel):
    done: int
    total: int | None = None
    fraction: float | None = None
    unit: str


class JobModel(BaseModel):
    id: str
    kind: str
    status: JobStatusName
    progress: ProgressModel
    created: float
    started: float | None = None
    finished: float | None = None
    error: str | None = None
    result_url: str | None = None
    cancel_requested: bool = False


class JobResultModel(BaseModel):
    schema_version: str
    job: JobModel
    results: list[ResultModel]


class HealthModel(BaseModel):
    status: str
    version: str


class ReadyModel(BaseModel):
    ready: bool
    model: str | None = None
    error: str | None = None


class ModelInfo(BaseModel):
    name: str
    modality: str
    label_set: str
    default: bool
    loaded: bool
    #: loadable now (packages installed, trained weights present): the service never trains
    ready: bool = True
    #: why not, and how to prepare it (None when ready)
    reason: str | None = None


class ModelsModel(BaseModel):
    models: list[ModelInfo]
    stream_recognizer: str | None = None


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorModel, "description": description}
    for code, description in {
        400: "Bad request (malformed JSON, unknown model or label set, unreadable upload)",
        401: "Missing or wrong API key",
        413: "Body or upload too large",
        415: "Wrong content type, or content that does not match it",
        422: "A field is missing, has the wrong type or is too long",
        409: "The model named is not ready (not trained or prepared; see /v1/models)",
        429: "Too many jobs queued",
        501: "No recognizer (or reader) for this modality is installed",
        503: "The model is not loaded yet",
        504: "The request took longer than the configured timeout",
    }.items()
}
