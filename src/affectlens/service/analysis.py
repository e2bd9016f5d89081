"""The blocking work behind the dialogue, media and job routes (run in threads by ``app.py``).

Each helper validates what the client sent (label set, model, recognizer, pixel cap) and turns
a failure into a ``ServiceError`` with the temp file's path hidden.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

from affectlens import processing
from affectlens.dialogue.types import Dialogue
from affectlens.media_limits import media_limits
from affectlens.protocols import Recognizer
from affectlens.readiness import training_forbidden
from affectlens.service.engine import Engine, ServiceError, describe_exception
from affectlens.service.jobs import Job, scrubbed
from affectlens.service.limits import SyncMediaRunner
from affectlens.service.uploads import SavedUpload
from affectlens.types import merge_results

_MEDIA_MODALITY_WORD = {"audio": "speech", "image": "face", "video": "face"}


def media_recognizer(engine: Engine, saved: SavedUpload) -> Recognizer:
    """The recognizer for an upload, through the processing layer's file-type dispatch (501 when none)."""
    kind = saved.sniffed.kind
    file_type = processing.FILE_TYPES.get(saved.sniffed.suffix)
    word = _MEDIA_MODALITY_WORD.get(kind, kind)
    if file_type is None:
        raise ServiceError(501, f"{saved.sniffed.what} cannot be analysed yet: no {word} recognizer "
                                f"(and no reader for {saved.sniffed.suffix} files) is installed")
    try:
        return engine.recognizer_for(file_type.modality)
    except ServiceError as exc:
        if exc.status == 501:
            raise ServiceError(501, f"{saved.sniffed.what} cannot be analysed yet: no {word} recognizer "
                                    "is installed") from None
        raise


def analyze_dialogue(models: dict[Any, Any], dialogue: Dialogue, model: str | None,
                     labels: str | None, support: bool = False, supporter: str | None = None) -> dict[str, Any]:
    from affectlens.dialogue.analysis import DialogueRun, conversation_model

    key = ("support", model, supporter) if support else model
    try:
        if labels:
            processing.check_label_set(labels)
        if key not in models:  # loaded once per model name, then shared by requests
            with training_forbidden():  # a baseline over a peer that needs training: refused, not trained
                if support:
                    from affectlens.dialogue.support import support_model

                    models[key] = support_model(model, supporter)
                else:
                    models[key] = conversation_model(model)
    except Exception as exc:  # unknown label set, unknown or unfit model: the client's error, in one line
        status, message = describe_exception(exc)
        raise ServiceError(status if status < 500 else 400, message) from exc
    recognizer = models[key]
    [result] = DialogueRun([dialogue], recognizer, labels).results()  # the processing layer's dialogue walk
    if not recognizer.uses_context:
        result = replace(result, warnings=(*result.warnings, f"{recognizer.name}: turns analysed one by one"))
    return result.to_dict()


@contextmanager
def client_errors(saved: SavedUpload) -> Iterator[None]:
    """A failure caused by the upload becomes a ``ServiceError`` with the temp file's path hidden;
    an internal error (500) propagates as it is."""
    try:
        yield
    except Exception as exc:
        status, message = describe_exception(exc)
        if status == 500:
            raise
        raise ServiceError(status, saved.scrub(message)) from None


def analyze_file(engine: Engine, saved: SavedUpload, labels: str | None,
                 transcript: str | None = None, words: bool | None = None) -> dict[str, Any]:
    if transcript is not None:
        return analyze_with_transcript(saved, labels, transcript)
    if _wants_words(saved, words, engine.settings.words_by_default):
        return analyze_with_words(engine, saved, labels, required=bool(words))
    recognizer = media_recognizer(engine, saved)
    with client_errors(saved):
        analysis = processing.start_analysis(saved.path, model=recognizer, labels=labels)
        results = list(analysis.results)
    result = results[0] if len(results) == 1 else merge_results(results)
    return scrubbed(result, saved.scrub).to_dict()


def _wants_words(saved: SavedUpload, words: bool | None, by_default: bool) -> bool:
    """Asked for, or left unset where the service's ``words_by_default`` setting is on and the planner's rule
    gives an upload the words (``planner.words_by_default``: audio, multilingual Whisper installed)."""
    if words is not None or not by_default:
        return bool(words)
    from affectlens.options import AnalyzeOptions
    from affectlens.planner import words_by_default

    return words_by_default(saved.path, AnalyzeOptions())


def analyze_with_words(engine: Engine, saved: SavedUpload, labels: str | None, *, required: bool) -> dict[str, Any]:
    """A recording without a transcript: per speech segment its words, the voice's and the words' emotion, fused
    (``fusion.speech_words``, as ``affectlens analyze talk.wav``), with the service's loaded models."""
    from affectlens.fusion.speech_words import analyze_speech_with_words
    from affectlens.types import Modality

    speech = media_recognizer(engine, saved)
    with client_errors(saved):
        if labels:
            processing.check_label_set(labels)
        result = analyze_speech_with_words(saved.path, speech=speech, text=engine.recognizer_for(Modality.TEXT),
                                           transcriber=engine.words_transcriber(), required=required)
        result = processing.map_result(result, labels)
    return scrubbed(result, saved.scrub).to_dict()


def analyze_with_transcript(saved: SavedUpload, labels: str | None, transcript: str) -> dict[str, Any]:
    """Audio or video with its transcript (SRT or WebVTT text): the planner's fused route, as the CLI's
    ``--transcript``: per turn the words' emotion, the voice's, the faces' (videos), fused with a disagreement."""
    from affectlens.options import AnalyzeOptions
    from affectlens.planner import run_single

    if not transcript.strip():
        raise ServiceError(422, "transcript: empty (send SRT or WebVTT text, or leave the field out)")
    suffix = ".vtt" if transcript.lstrip("\ufeff").startswith("WEBVTT") else ".srt"
    path = saved.path.with_name(saved.path.stem + "-transcript" + suffix)
    path.write_text(transcript, encoding="utf-8")
    try:
        with client_errors(saved):
            result = run_single(saved.path, AnalyzeOptions(transcript=path, labels=labels, find_transcript=False))
    finally:
        path.unlink(missing_ok=True)
    return scrubbed(result, saved.scrub).to_dict()


def start_job_analysis(engine: Engine, saved: SavedUpload, job: Job, column: str | None,
                       id_column: str | None, labels: str | None, model: str | None) -> processing.Analysis:
    """Validate now (columns, label set, model, recognizer), return the lazy work for the job."""
    with media_limits(max_pixels=engine.settings.max_image_pixels):  # an image decodes here: cap it
        if saved.sniffed.kind == "table":
            recognizer = engine.text_recognizer(model)
        else:
            SyncMediaRunner.probe(saved)  # pixel cap from the header, before any decoding or model
            recognizer = media_recognizer(engine, saved)
        return processing.start_analysis(saved.path, model=recognizer, labels=labels, column=column,
                                         id_column=id_column, batch_size=engine.settings.job_batch_size,
                                         progress=job.on_progress)
