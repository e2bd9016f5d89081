"""Small, dependency-free SRT and WebVTT parsers (cue text, times, speaker where marked).

Speakers are read from WebVTT voice tags (``<v Anna>Hi``) or from a leading
``NAME:`` prefix (``ANNA: Hi``, ``- Anna: Hi``); cues without either get no speaker.
Markup tags (``<i>``, ``{\\an8}``) are stripped.  Malformed blocks are reported, not
fatal: the parsers return ``(cues, warnings)``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_TIME = r"(?:(\d+):)?(\d{1,2}):(\d{1,2})[,.](\d{1,3})"
_TIMING = re.compile(rf"^\s*{_TIME}\s*-->\s*{_TIME}")
_TAG = re.compile(r"<[^>]*>|\{\\[^}]*\}")
_VOICE = re.compile(r"<v(?:\.[^\s>]*)?\s+([^>]+)>")
_PREFIX = re.compile(r"^\s*-?\s*([A-Z][\w .'\-]{0,30}?)\s*:\s+(\S.*)$", re.DOTALL)


@dataclass(frozen=True)
class Cue:
    start: float
    end: float
    text: str
    speaker: str | None = None
    line: int = 0  # 1-based line of the timing line in the file


def _seconds(h: str | None, m: str, s: str, ms: str) -> float:
    return int(h or 0) * 3600 + int(m) * 60 + int(s) + int(ms.ljust(3, "0")) / 1000.0


def _speaker_and_text(raw: str) -> tuple[str | None, str]:
    voice = _VOICE.search(raw)
    speaker = voice.group(1).strip() if voice else None
    text = _TAG.sub("", raw)
    text = " ".join(line.strip() for line in text.splitlines() if line.strip())
    if speaker is None:
        match = _PREFIX.match(text)
        if match:
            speaker, text = match.group(1).strip(), match.group(2).strip()
    return speaker, text


def _parse_blocks(content: str, *, vtt: bool) -> tuple[list[Cue], list[str]]:
    content = content.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    lines = content.split("\n")
    cues: list[Cue] = []
    warnings: list[str] = []
    i = 0
    if vtt and (not lines or not lines[0].startswith("WEBVTT")):
        warnings.append("WebVTT file does not start with 'WEBVTT'; read anyway")
    while i < len(lines):
        line = lines[i]
        timing = _TIMING.match(line)
        if not timing:
            stripped = line.strip()
            if vtt and stripped.startswith(("NOTE", "STYLE", "REGION")):
                while i < len(lines) and lines[i].strip():  # skip the whole block
                    i += 1
                continue
            nxt = lines[i + 1] if i + 1 < len(lines) else ""
            is_identifier = bool(stripped) and bool(_TIMING.match(nxt))
            if stripped and not is_identifier and not (vtt and i == 0):
                warnings.append(f"line {i + 1}: text outside a cue ignored: {stripped[:40]!r}")
            i += 1
            continue
        g = timing.groups()
        start, end = _seconds(*g[0:4]), _seconds(*g[4:8])
        timing_line = i + 1
        i += 1
        body: list[str] = []
        while i < len(lines) and lines[i].strip():
            body.append(lines[i])
            i += 1
        speaker, text = _speaker_and_text("\n".join(body))
        cues.append(Cue(start, end, text, speaker, timing_line))
    return cues, warnings


def parse_srt(content: str) -> tuple[list[Cue], list[str]]:
    """Cues of a SubRip (.srt) file, in file order, and warnings about what was skipped."""
    return _parse_blocks(content, vtt=False)


def parse_vtt(content: str) -> tuple[list[Cue], list[str]]:
    """Cues of a WebVTT (.vtt) file, in file order, and warnings about what was skipped."""
    return _parse_blocks(content, vtt=True)
