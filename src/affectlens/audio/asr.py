"""Speech to text with a local faster-whisper model: a transcript for recordings without one.

Used only when the user points to a model directory on disk (``--asr-model DIR``, a
CTranslate2 conversion of a Whisper model such as the folders ``faster-whisper`` itself
stores); nothing is ever downloaded: the directory must exist and hold ``model.bin``, and
the model is opened with ``local_files_only=True``.  Needs the ``asr`` extra
(``pip install 'affectlens[asr]'``).  Each recognised segment becomes a dialogue turn with
its times (speaker ``"speaker"``: Whisper does not tell speakers apart), so everything
downstream (conversation model, fusion with voice and faces) is the same as with a
subtitle file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from affectlens.dialogue.types import Dialogue, Turn
from affectlens.inputs import InputError

SPEAKER = "speaker"


class AsrUnavailable(InputError):
    """No usable speech-to-text model: missing directory, missing files, or missing package."""


def load_whisper(model_dir: str | Path, *, threads: int | None = None) -> Any:
    """faster-whisper on CPU; ``threads`` None: ``runtime_threads`` decides (CPUs, AFFECTLENS_THREADS)."""
    folder = Path(model_dir).expanduser()
    if not folder.is_dir():
        raise AsrUnavailable(f"ASR model directory not found: {folder} (affectlens never downloads models)")
    if not (folder / "model.bin").is_file():
        raise AsrUnavailable(f"{folder} is not a faster-whisper (CTranslate2) model directory: no model.bin")
    try:
        from faster_whisper import WhisperModel
    except ImportError as exc:
        raise AsrUnavailable("speech to text needs the 'asr' extra: pip install 'affectlens[asr]'") from exc
    from affectlens.runtime_threads import pool_threads

    return WhisperModel(str(folder), device="cpu", compute_type="int8", cpu_threads=pool_threads(threads),
                        local_files_only=True)


def transcribe(media: str | Path, model_dir: str | Path, *, language: str | None = None,
               model: Any = None) -> Dialogue:
    """The recording as a one-speaker dialogue of timed turns (empty segments dropped, with a note)."""
    from affectlens.audio.decode import read_audio

    whisper = model if model is not None else load_whisper(model_dir)
    clip = read_audio(media)  # 16 kHz mono, what Whisper expects
    segments, info = whisper.transcribe(clip.samples, language=language, vad_filter=False)
    turns: list[Turn] = []
    notes: list[str] = []
    for segment in segments:
        text = str(segment.text).strip()
        if not text:
            notes.append(f"ASR segment {float(segment.start):.2f}-{float(segment.end):.2f} s has no text")
            continue
        turns.append(Turn(len(turns), SPEAKER, text, round(float(segment.start), 3), round(float(segment.end), 3)))
    language_found = getattr(info, "language", None)
    notes.append(f"transcript from the ASR model in {model_dir}"
                 + (f" (language {language_found})" if language_found else "") + ": no speaker labels")
    return Dialogue(Path(media).stem, tuple(turns), source=str(media), warnings=tuple(notes))


__all__ = ["AsrUnavailable", "load_whisper", "transcribe"]
