"""One timeline for a recording and its transcript: text, voice and face fused per turn.

``affectlens analyze clip.mp4 --transcript clip.srt`` runs this.  The transcript's turns
(subtitle cues, with times) are the windows: the conversation model reads the turns as
a dialogue, the speech recognizer the recording's audio track, the face recognizer its
sampled frames (videos only); ``fuse_timeline`` pools the speech and face segments that
overlap each turn and fuses them with the turn's text result (late fusion, disagreement
score, rationale).  Each modality's own result stays in the fused segment's
``extras["modalities"]``.  A missing or failing modality is reported and left out; the
turns are never dropped.  Without a transcript there is nothing to align the text to:
the tool says so (no speech-to-text model is bundled).
"""

from __future__ import annotations

import warnings as warnings_module
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from affectlens.fusion.late import FusionConfig, fuse_timeline
from affectlens.types import EmotionResult, Modality, Segment

if TYPE_CHECKING:
    from affectlens.vision.io import VideoOptions

#: a transcript that runs this much past the end of the media is reported
LENGTH_TOLERANCE_S = 2.0


def _analyze_one(recognizer: Any, modality: Modality, item: Any, problems: list[str]) -> list[Segment]:
    """``recognizer`` (None: the registry's default for ``modality``) on one item; failures become notes."""
    from affectlens.processing import RecognizerPool

    name = modality.value
    try:
        chosen = recognizer if recognizer is not None else RecognizerPool().get(modality)
        chosen.load()
        [result] = chosen.analyze([item])
    except Exception as exc:  # one modality failing must not lose the others
        problems.append(f"{name}: {type(exc).__name__}: {exc}")
        return []
    problems.extend(f"{name}: {w}" for w in result.warnings)
    return list(result.segments)


def analyze_media_with_transcript(
    media: str | Path,
    transcript: str | Path | None = None,
    *,
    asr_model: str | Path | None = None,
    asr: Any = None,
    text: Any = None,
    speech: Any = None,
    face: Any = None,
    config: FusionConfig | None = None,
    video: VideoOptions | None = None,
) -> EmotionResult:
    """The fused per-turn timeline of ``media`` (audio or video) with its ``transcript`` (SRT/WebVTT).

    Without ``transcript``, the turns come from speech to text with the local model in
    ``asr_model`` (``affectlens.audio.asr``; ``asr`` injects a loaded model).
    ``text`` is a ``ConversationRecognizer`` (default: the shipped conversation model);
    ``speech``/``face`` are recognizers (default: the registry's); pass ``False`` to
    leave a modality out.  ``video`` says how to sample a video's frames (default: 5 per second,
    the whole video).
    """
    from affectlens.audio.decode import open_audio
    from affectlens.dialogue.analysis import conversation_model
    from affectlens.dialogue.io import read_dialogues
    from affectlens.file_types import VIDEO_SUFFIXES

    media = Path(media)
    problems: list[str] = []
    if transcript is not None:
        dialogues = read_dialogues(Path(transcript))
    elif asr_model is not None or asr is not None:
        from affectlens.audio.asr import transcribe

        dialogues = [transcribe(media, asr_model or "", model=asr)]
    else:
        raise ValueError("a transcript (.srt/.vtt) or a local ASR model directory is needed to align text")
    turns = [t for d in dialogues for t in d.turns]
    problems.extend(w for d in dialogues for w in d.warnings)
    if not any(t.start is not None and t.end is not None for t in turns):
        problems.append(f"{transcript or 'ASR'}: the transcript has no timed turns, so no text is aligned")

    audio = open_audio(media)  # a clear error for a file without a readable audio track
    duration = audio.info.duration
    last_end = max((t.end for t in turns if t.end is not None), default=None)
    if duration is not None and last_end is not None and last_end > duration + LENGTH_TOLERANCE_S:
        problems.append(f"the transcript runs to {last_end:.1f} s but the media lasts {duration:.1f} s: "
                        "is it the right transcript?")

    streams: dict[str, list[Segment]] = {}
    text_model = text if text is not None else conversation_model()
    if text_model is not False:
        text_model.load()
        streams["text"] = [s for r in text_model.analyze_dialogues(dialogues) for s in r.segments]
    if speech is not False:
        streams["speech"] = _analyze_one(speech, Modality.SPEECH, audio, problems)
    if face is not False and media.suffix.lower() in VIDEO_SUFFIXES:
        from affectlens.vision.io import open_video

        streams["face"] = _analyze_one(face, Modality.FACE, open_video(media, options=video), problems)
    with warnings_module.catch_warnings():
        warnings_module.simplefilter("ignore")  # fuse_timeline's own notes come back as result warnings
        fused = fuse_timeline(streams, config=config or FusionConfig(), reference="text")
    segments = tuple(replace(s, source=str(media)) for s in fused.segments)
    return EmotionResult(segments, str(media), (*problems, *fused.warnings))


__all__ = ["analyze_media_with_transcript"]
