"""The one planner: whatever the library, the CLI, the service or the batch engine is given, one route.

``start(x, options)`` decides what ``x`` is and returns a lazy ``processing.Analysis``:

* ``items`` — a text, a list of texts, a document/audio/image/video file, a folder or a table:
  ``processing.plan_input`` and the batched walk (one result per input);
* ``dialogues`` — a dialogue table or JSON file (``options.dialogue``) or subtitles
  (``.srt``/``.vtt``, always): ``dialogue.analysis`` (one result per dialogue; a subtitle file
  is one dialogue, so one result);
* ``media`` — an audio/video file with a transcript (``options.transcript``, a ``.srt``/``.vtt``
  beside it, or a local ASR model): text, voice and faces fused per turn (``fusion.media``);
* ``words`` — an audio/video file with ``options.words``, or a lone audio file when
  ``options.words`` is left unset and multilingual Whisper is installed (``words_by_default``):
  words, voice and text emotion per speech segment (``fusion.speech_words``).

Options a route cannot honour raise ``UnsupportedOption`` (never silently ignored).  Every
check (the input exists, the label set and the model are known, the transcript is a subtitle
file) runs before ``start`` returns.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from affectlens import processing
from affectlens.file_types import SUBTITLE_SUFFIXES, is_media, is_subtitles
from affectlens.io import InputNotFound
from affectlens.options import AnalyzeOptions, UnsupportedOption
from affectlens.processing import Analysis, InputPlan, ModelChoice, ProgressCallback
from affectlens.recognizer_pool import AffectlensWarning
from affectlens.types import EmotionResult, Modality

#: the options each non-item route honours (any other that is set is refused)
_HONOURED: dict[str, frozenset[str]] = {
    "dialogues": frozenset({"labels", "batch_size", "dialogue", "support", "supporter"}),
    "media": frozenset({"labels", "batch_size", "fps", "start", "end", "transcript", "asr_model"}),
    "words": frozenset({"labels", "words"}),
}
_OPTION_NAMES = {"column": "--column", "id_column": "--id", "cues": "--cues", "fps": "--fps", "start": "--start",
                 "end": "--end", "batch_size": "--batch-size", "support": "--support", "supporter": "--supporter",
                 "dialogue": "--dialogue", "words": "--words", "transcript": "--transcript",
                 "asr_model": "--asr-model"}
_ROUTE_WORDS = {"dialogues": "dialogues", "media": "media with a transcript (text, voice and faces fused per turn)",
                "words": "--words (words and voice per speech segment)"}


def transcript_beside(media: Path) -> Path | None:
    """``clip.srt`` or ``clip.vtt`` next to an audio or video file ``clip.mp4``."""
    if not is_media(media) or not media.is_file():
        return None
    for suffix in SUBTITLE_SUFFIXES:
        candidate = media.with_suffix(suffix)
        if candidate.is_file():
            return candidate
    return None


def words_by_default(path: Path, options: AnalyzeOptions, model: ModelChoice = None) -> bool:
    """Whether a file takes the words route without being asked: a lone audio file (a recording: a call,
    a podcast; videos keep their faces), ``options.words`` left unset, no option that only the voice
    timeline honours, a model (if any) given by the name of a speech or text model, and multilingual
    Whisper installed (``audio.transcribe.multilingual_words_installed``)."""
    from affectlens.file_types import AUDIO_SUFFIXES

    if options.words is not None or path.suffix.lower() not in AUDIO_SUFFIXES or not path.is_file():
        return False
    if _unhonoured("words", options):
        return False
    if model is not None:
        from affectlens.registry import UnknownRecognizer, get_spec

        if not isinstance(model, str):
            return False  # a recognizer object reads the file on the item route
        try:
            if get_spec(model).modality not in (Modality.SPEECH, Modality.TEXT):
                return False
        except UnknownRecognizer:
            return False  # the item route reports the unknown name
    from affectlens.audio.transcribe import multilingual_words_installed

    return multilingual_words_installed()


def route_for(x: Any, options: AnalyzeOptions, model: ModelChoice = None) -> tuple[str, AnalyzeOptions, list[str]]:
    """The route for ``x``, the options it runs with (a transcript found beside the media filled in)
    and notes on what was chosen for the user."""
    is_path = isinstance(x, str | os.PathLike) and not options.as_text and os.fspath(x) != "-"
    path = Path(os.path.expanduser(os.fspath(x))) if is_path else None
    if path is None:
        for name in ("words", "transcript", "asr_model", "dialogue", "support", "supporter"):
            if getattr(options, name) not in (None, False):
                raise UnsupportedOption(f"{_OPTION_NAMES[name]} needs a file; got {type(x).__name__}")
        return "items", options, []
    if options.words and options.transcript is None and options.asr_model is None:
        return "words", options, []
    if options.transcript is not None or options.asr_model is not None:
        return "media", options, []
    if options.find_transcript and not options.dialogue and (found := transcript_beside(path)) is not None:
        note = f"using the transcript beside it: {found.name} (text, voice and faces fused per turn)"
        return "media", options.with_changes(transcript=found), [note]
    if options.dialogue or options.support or options.supporter is not None or is_subtitles(path):
        return "dialogues", options, []
    if words_by_default(path, options, model):
        return "words", options, []
    return "items", options, []


def _unhonoured(route: str, options: AnalyzeOptions) -> list[str]:
    """The options set (away from their defaults) that ``route`` cannot honour."""
    defaults = AnalyzeOptions()
    honoured = _HONOURED[route] | {"chunk_rows", "find_transcript", "as_text"}
    return [name for name in _OPTION_NAMES
            if name not in honoured and getattr(options, name) != getattr(defaults, name)
            and getattr(options, name) is not False]  # words=False: the voice alone, honoured everywhere


def _refuse_unhonoured(route: str, options: AnalyzeOptions) -> None:
    refused = _unhonoured(route, options)
    if refused:
        names = ", ".join(_OPTION_NAMES[n] for n in refused)
        raise UnsupportedOption(f"{names}: not available for {_ROUTE_WORDS[route]}")


def start(
    x: Any,
    options: AnalyzeOptions | None = None,
    *,
    model: ModelChoice = None,
    progress: ProgressCallback | None = None,
    notify: Callable[[str], None] | None = None,
) -> Analysis:
    """Plan ``x`` (any input kind) with ``options`` and return the lazy analysis (see the module doc).

    ``notify`` hears what the planner chose for the user (e.g. a transcript found beside the
    media); by default it becomes an ``AffectlensWarning``.
    """
    options = options or AnalyzeOptions()
    route, options, notes = route_for(x, options, model)
    for note in notes:
        if notify is not None:
            notify(note)
        else:
            warnings.warn(note, AffectlensWarning, stacklevel=2)
    if route == "items":
        return processing.start_analysis(x, model=model, progress=progress, options=options)
    _refuse_unhonoured(route, options)
    if options.labels is not None:
        processing.check_label_set(options.labels)
    if model is not None and not isinstance(model, str):
        raise UnsupportedOption(f"{_ROUTE_WORDS[route]}: give the model by its registered name")
    path = Path(os.path.expanduser(os.fspath(x)))
    if not path.is_file():
        kind = "media file" if route != "dialogues" else "file"
        raise InputNotFound(f"{kind} not found: {path}")
    if route == "dialogues":
        return _start_dialogues(path, options, model, progress)
    if route == "media" and options.transcript is not None:
        _check_transcript(Path(options.transcript))
    result = _media_result(path, route, options, model)
    plan = InputPlan(route, iter(()), frozenset(), "files", 1)
    return Analysis(plan, iter([processing.map_result(result, options.labels)]))


def _start_dialogues(path: Path, options: AnalyzeOptions, model: str | None,
                     progress: ProgressCallback | None) -> Analysis:
    from affectlens.dialogue.analysis import start_dialogue_run

    run = start_dialogue_run(path, model=model, labels=options.labels, batch_size=options.batch_size,
                             support=options.support, supporter=options.supporter, progress=progress)
    for reading_warning in run.reading_warnings:  # what looked wrong in the file (the CLI prints "warning: ...")
        warnings.warn(reading_warning, AffectlensWarning, stacklevel=3)
    kind = "subtitles" if is_subtitles(path) else "dialogues"
    plan = InputPlan(kind, iter(()), frozenset({Modality.TEXT}), "dialogues", len(run.dialogues))
    return Analysis(plan, run.results(), details=run)


def _check_transcript(transcript: Path) -> None:
    if not transcript.is_file():
        raise InputNotFound(f"transcript not found: {transcript}")
    if not is_subtitles(transcript):
        raise UnsupportedOption(f"--transcript must be an .srt or .vtt file, not {transcript.name}")


def _models_by_modality(model: str | None, route: str, batch_size: int) -> dict[str, Any]:
    """``model`` as the recognizer of its own modality for the fused routes (the others: defaults)."""
    if model is None:
        return {}
    from affectlens.registry import get_spec, load_recognizer

    spec = get_spec(model)
    if spec.modality is Modality.TEXT:
        if route == "words":
            return {"text": load_recognizer(spec.name)}
        from affectlens.dialogue.analysis import conversation_model

        return {"text": conversation_model(spec.name, batch_size=batch_size)}
    if spec.modality is Modality.SPEECH:
        return {"speech": load_recognizer(spec.name)}
    if spec.modality is Modality.FACE and route == "media":
        return {"face": load_recognizer(spec.name)}
    raise UnsupportedOption(f"--model {spec.name} reads {spec.modality.value}: not used by {_ROUTE_WORDS[route]}")


def _media_result(path: Path, route: str, options: AnalyzeOptions, model: str | None) -> EmotionResult:
    chosen = _models_by_modality(model, route, options.batch_size)
    if route == "words":
        from affectlens.fusion.speech_words import analyze_speech_with_words

        return analyze_speech_with_words(path, required=bool(options.words), **chosen)
    from affectlens.fusion.media import analyze_media_with_transcript

    transcript = options.transcript
    asr_model = None if transcript is not None else options.asr_model  # a transcript wins: the user checked it
    if "text" not in chosen and options.batch_size != AnalyzeOptions().batch_size:
        from affectlens.dialogue.analysis import conversation_model

        chosen["text"] = conversation_model(batch_size=options.batch_size)
    video = options.video() if options.samples_video else None
    return analyze_media_with_transcript(path, transcript, asr_model=asr_model, video=video, **chosen)


def run_single(x: Any, options: AnalyzeOptions | None = None, *, model: ModelChoice = None) -> EmotionResult:
    """The one result of a single input (a text, a file, subtitles, media): ``start`` then the first result."""
    analysis = start(x, options, model=model)
    if not analysis.plan.single:
        raise UnsupportedOption(f"{x!r} holds many inputs ({analysis.plan.kind}): iterate over start(...).results")
    return next(analysis.results)


def results_of(analysis: Analysis) -> EmotionResult | Iterator[EmotionResult]:
    """One result for a single input, else the lazy iterator (the library's ``analyze`` contract)."""
    return next(analysis.results) if analysis.plan.single else analysis.results


__all__ = ["results_of", "route_for", "run_single", "start", "transcript_beside"]
