"""A recording with no transcript: per speech segment the words, the voice, the words' emotion, fused.

``affectlens analyze talk.wav --words`` runs this (the common case of a call or a podcast).
The speech recognizer finds the speech segments (voice activity detection) and their voice
emotion; a pinned Whisper model (``audio.transcribe``: multilingual base where installed, else
tiny.en) writes each segment's words with their times; the shipped text model reads the words
when they are English (others stay words, with ``extras["language"]``); ``fuse_timeline`` fuses voice and text
per speech segment (late fusion, disagreement score, rationale).  Each fused segment keeps
the words in ``extras["words"]`` and each modality's own result in
``extras["modalities"]``.  A segment without words keeps its voice result alone (its
``extras["missing"]`` names the text).

One encoder pass: where the speech model has heads for packed Whisper windows
(``speech.whisper-xcorpus.v5``) and the transcriber is multilingual base, the words and the voice
come from the same pass over each window (``SpeechWhisperRecognizer.analyze_windows``,
``audio.shared_pass``); otherwise the voice is analysed first and the words after, each with its
own encoder pass.
"""

from __future__ import annotations

import warnings as warnings_module
from dataclasses import replace
from pathlib import Path
from typing import Any

from affectlens.fusion.late import FusionConfig, fuse_timeline
from affectlens.types import EmotionResult, Modality, Segment

# languages whose words the text model reads (None: the transcriber was told the language, English)
TEXT_LANGUAGES = frozenset({"en", None})


def _default(modality: Modality) -> Any:
    from affectlens.processing import RecognizerPool

    return RecognizerPool().get(modality)


def analyze_speech_with_words(
    media: str | Path,
    *,
    speech: Any = None,
    text: Any = None,
    transcriber: Any = None,
    config: FusionConfig | None = None,
    required: bool = True,
) -> EmotionResult:
    """Voice + words + text emotion per speech segment of ``media`` (any audio or video file).

    ``speech``/``text``: recognizers (default: the registry's defaults); ``transcriber``: a
    ``WordTranscriber`` (default: ``WordTranscriber.default()``).  Failing text analysis is reported and
    the voice results are kept.  A transcriber that cannot load raises when the words were asked for
    (``required``); when they were only the default, the voice timeline is returned with a warning.
    """
    from affectlens.audio.decode import open_audio
    from affectlens.audio.transcribe import WordTranscriber, slice_segments
    from affectlens.inputs import TextItem

    media = Path(media)
    audio = open_audio(media)  # a clear error for a file without a readable audio track
    speech_model = speech if speech is not None else _default(Modality.SPEECH)
    speech_model.load()
    words_model = transcriber if transcriber is not None else WordTranscriber.default()
    shared = speech_model.window_encoder() if hasattr(speech_model, "window_encoder") else None
    one_pass = shared is not None and hasattr(words_model, "attach") and words_model.attach(shared)
    if not one_pass:
        [voice] = speech_model.analyze([audio])
        if not _timed(voice):  # no speech: Whisper is not even loaded
            return EmotionResult((), str(media), tuple(f"speech: {w}" for w in voice.warnings))
    try:
        words_model.load()
    except Exception as exc:
        if required:
            raise
        if one_pass:
            [voice] = speech_model.analyze([audio])
        note = f"words: the transcriber could not load ({type(exc).__name__}: {exc}); the voice alone"
        return replace(voice, warnings=(*voice.warnings, note))
    if one_pass:  # one encoder pass per Whisper window gives the words and the voice (audio.shared_pass)
        voice, words = speech_model.analyze_windows(audio, words_model)
    problems = [f"speech: {w}" for w in voice.warnings]
    voice_segments = _timed(voice)
    if not voice_segments:
        return EmotionResult((), str(media), tuple(problems))
    windows = [(float(s.start), float(s.end)) for s in voice_segments]  # type: ignore[arg-type]
    if not one_pass:  # the voice was analysed on its own: Whisper encodes the segments again
        sliced = zip(slice_segments(audio.chunks(30.0), windows), (w[0] for w in windows), strict=False)
        words = list(words_model.transcribe_many(sliced))
        words += [()] * (len(windows) - len(words))  # audio ended early: those windows have no words

    text_segments: list[Segment] = []
    said = [" ".join(w.text for w in ws).strip() for ws in words]
    languages = [next((w.language for w in ws if w.language), None) for ws in words]
    # the text model reads English: words Whisper heard in another language stay words, not text emotion
    foreign = sorted({lang for lang, t in zip(languages, said, strict=True)
                      if t and lang is not None and lang not in TEXT_LANGUAGES})
    if foreign:
        problems.append(f"text: words in {', '.join(foreign)} kept but not read for emotion (the text model "
                        "reads English)")
    items = [TextItem(t, source=str(media), start=start, end=end)
             for t, lang, (start, end) in zip(said, languages, windows, strict=True)
             if t and lang in TEXT_LANGUAGES]
    if items:
        try:
            text_model = text if text is not None else _default(Modality.TEXT)
            text_model.load()
            for item, result in zip(items, text_model.analyze(items), strict=True):
                problems.extend(f"text: {w}" for w in result.warnings)
                text_segments.extend(replace(s, start=item.start, end=item.end) for s in result.segments)
        except Exception as exc:  # the voice results must not be lost with the text model
            problems.append(f"text: {type(exc).__name__}: {exc}")

    with warnings_module.catch_warnings():
        warnings_module.simplefilter("ignore")
        fused = fuse_timeline({"speech": voice_segments, "text": text_segments}, windows,
                              config=config or FusionConfig(), reference="speech")
    by_window = {(v.start, v.end): (ws, t, lang)
                 for v, ws, t, lang in zip(voice_segments, words, said, languages, strict=True)}
    segments = []
    for s in fused.segments:
        ws, spoken, lang = by_window.get((s.start, s.end), ((), "", None))
        extras = {**dict(s.extras), "words": [w.to_dict() for w in ws],
                  "missing": [m for m in s.extras.get("missing", ()) if m != "face"]}
        if lang is not None:
            extras["language"] = lang
        segments.append(replace(s, source=str(media), text=s.text or spoken or None, extras=extras))
    return EmotionResult(tuple(segments), str(media), (*problems, *fused.warnings))


def _timed(voice: EmotionResult) -> list[Segment]:
    """The voice segments that have a time span (the ones words and fusion can be attached to)."""
    return [s for s in voice.segments if s.start is not None and s.end is not None]


__all__ = ["analyze_speech_with_words"]
