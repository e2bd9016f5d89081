"""One result of every kind the service returns, built from ``types.py`` (so their JSON is the
library's ``to_dict``), for the web-page tests: what the page must draw for each is known here.
"""

from __future__ import annotations

import struct
import zlib
from typing import Any

from affectlens.types import VAD, Cue, EmotionResult, Modality, Provenance, Segment

EKMAN = ("anger", "disgust", "fear", "joy", "sadness", "surprise", "neutral")
FACE_LABELS = ("happy", "sad", "angry", "neutral")


def _scores(labels: tuple[str, ...], top: str, score: float) -> dict[str, float]:
    rest = (1.0 - score) / (len(labels) - 1)
    return {label: (score if label == top else rest) for label in labels}


def _segment(modality: Modality, labels: tuple[str, ...], top: str, score: float, valence: float,
             recognizer: str, **fields: Any) -> Segment:
    return Segment(modality, "ekman" if labels == EKMAN else "face7", _scores(labels, top, score), (top,),
                   VAD(valence, 0.3, 0.1), score, Provenance(recognizer, "v1"), **fields)


def text_result() -> EmotionResult:
    text = "I am thrilled but a little nervous."
    cues = (Cue("word", "'thrilled' -> joy", 0.7, label="joy", span=(5, 13)),
            Cue("word", "'nervous' -> fear", 0.4, label="fear", span=(27, 34)))
    return EmotionResult((_segment(Modality.TEXT, EKMAN, "joy", 0.72, 0.6, "text.fake.v1", text=text, cues=cues),))


def _face(top: str, score: float, box: tuple[int, int, int, int], *, track: int | None = None,
          frame: int | None = None, start: float | None = None) -> Segment:
    x, y, w, h = box
    extras: dict[str, Any] = {"box": list(box), "detector_score": 0.97}
    if frame is not None:
        extras["frame"] = frame
    cue = Cue("face_region", f"mouth corners up -> {top}", 0.5, label=top,
              region=(x + w // 4, y + h // 2, w // 2, h // 4))
    return _segment(Modality.FACE, FACE_LABELS, top, score, 0.5 if top == "happy" else -0.4, "face.fake.v1",
                    cues=(cue,), start=start, end=None if start is None else start + 0.5, track_id=track,
                    extras=extras)


def image_result() -> EmotionResult:
    return EmotionResult((_face("happy", 0.81, (30, 40, 80, 90)), _face("sad", 0.66, (190, 50, 70, 80))))


def video_result() -> EmotionResult:
    """Two tracked faces; frame 2 is the one with both, so it is the one drawn."""
    faces = [_face("happy", 0.7, (30, 40, 80, 90), track=0, frame=0, start=0.0),
             _face("happy", 0.8, (32, 41, 80, 90), track=0, frame=1, start=0.5),
             _face("angry", 0.6, (34, 42, 80, 90), track=0, frame=2, start=1.0),
             _face("sad", 0.75, (190, 50, 70, 80), track=1, frame=2, start=1.0),
             _face("sad", 0.7, (192, 52, 70, 80), track=1, frame=3, start=1.5)]
    return EmotionResult(tuple(faces))


def audio_result() -> EmotionResult:
    def voice(start: float, end: float, top: str, z: float) -> Segment:
        cue = Cue("prosody", f"pitch {z:+.1f} sd -> {top}", 0.3, label=top, time=(start, end), value=z)
        return _segment(Modality.SPEECH, EKMAN, top, 0.6, -0.3 if top != "joy" else 0.4, "speech.fake.v1",
                        cues=(cue,), start=start, end=end)

    return EmotionResult((voice(0.0, 1.2, "anger", 1.8), voice(1.5, 2.4, "sadness", -1.1),
                          voice(2.6, 3.9, "joy", 0.9)), warnings=("speech: one stretch below the noise floor",))


def dialogue_result(*, support: bool = False) -> EmotionResult:
    turns = [("Ann", "I got the job!", "joy", 0.8, 0.7), ("Ben", "That's wonderful!", "joy", 0.7, 0.6),
             ("Ann", "But I have to move away.", "sadness", 0.6, -0.5),
             ("Ben", "Oh no. I will miss you.", "sadness", 0.7, -0.6)]
    segments = []
    for i, (speaker, text, top, score, valence) in enumerate(turns):
        cues: list[Cue] = []
        extras: dict[str, Any] = {}
        if i == 2:
            cues.append(Cue("emotion_shift", "Ann: joy -> sadness after turn 1 (Ben)", 0.0, label="sadness", turn=1))
        if i == 3:
            cues.append(Cue("cause", 'sadness caused by turn 2 (Ann: "move away")', 0.62, label="sadness", turn=2))
            extras["causes"] = [{"turn": 2, "probability": 0.62, "span": {"text": "move away", "start": 14, "end": 23}},
                                {"turn": 3, "probability": 0.41}]
        if support and speaker == "Ann":
            extras["support"] = {"probabilities": {"Question": 0.2, "Reflection of feelings": 0.5, "Affirmation": 0.3},
                                 "seeker_emotion": {"emotion": top}, "cues": [{"phrase": "seeker sounds sad"}],
                                 "notice": "suggestions for a human supporter, not therapy"}
        if support and speaker == "Ben":
            extras["strategy"] = "Affirmation"
        segments.append(_segment(Modality.DIALOGUE, EKMAN, top, score, valence, "dialogue.fake.v1", text=text,
                                 turn=i, speaker=speaker, cues=tuple(cues), extras=extras))
    return EmotionResult(tuple(segments))


def words_result() -> EmotionResult:
    """A recording analysed with ``--words``: fused voice + words per speech segment."""
    def fused(start: float, end: float, words: list[tuple[str, float, float]], top: str,
              disagreement: float) -> Segment:
        voice = _segment(Modality.SPEECH, EKMAN, "anger", 0.5, -0.4, "speech.fake.v1", start=start, end=end)
        text = _segment(Modality.TEXT, EKMAN, top, 0.7, 0.3, "text.fake.v1", start=start, end=end)
        extras = {"modalities": {"speech": voice.to_dict(), "text": text.to_dict()}, "disagreement": disagreement,
                  "missing": [], "words": [{"word": " " + w, "start": a, "end": b, "probability": 0.9}
                                           for w, a, b in words]}
        cues = (Cue("rationale", f"text says {top}, voice says anger", 0.6, label=top),
                Cue("disagreement", f"modalities disagree: JSD {disagreement:.2f}", 0.0, value=disagreement))
        return _segment(Modality.FUSED, EKMAN, top, 0.6, 0.1, "fusion.late.v1", start=start, end=end,
                        text=" ".join(w for w, _, _ in words), cues=cues, extras=extras)

    return EmotionResult((fused(0.3, 1.9, [("that", 0.3, 0.6), ("is", 0.6, 0.8), ("great", 0.8, 1.4)], "joy", 0.31),
                          fused(2.2, 3.0, [("really", 2.2, 2.6), ("great", 2.6, 3.0)], "surprise", 0.12)))


def png_bytes(width: int = 300, height: int = 200) -> bytes:
    """A plain grey RGB PNG (no imaging package needed)."""
    row = b"\x00" + b"\x90\x98\xa0" * width
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(row * height))
            + chunk(b"IEND", b""))
