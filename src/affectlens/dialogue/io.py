"""Read dialogues from tables (CSV/TSV/JSONL/Parquet), JSON, SRT and WebVTT.

Every reader returns ``Dialogue`` objects whose ``warnings`` say what looked wrong:
empty turns, missing or unknown speakers, unsorted, overlapping or inverted
timestamps.  Nothing is dropped silently: suspicious turns are kept and flagged.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from affectlens.dialogue.subtitles import parse_srt, parse_vtt
from affectlens.dialogue.types import UNKNOWN_SPEAKER, Dialogue, Turn
from affectlens.file_types import DIALOGUE_JSON_SUFFIX, TABLE_FORMATS
from affectlens.file_types import DIALOGUE_SUFFIXES as DIALOGUE_SUFFIXES  # re-exported: the one suffix table
from affectlens.file_types import SUBTITLE_SUFFIXES as SUBTITLE_SUFFIXES
from affectlens.file_types import TABLE_SUFFIXES as TABLE_SUFFIXES
from affectlens.io.text_checks import EMPTY_TEXT, text_problem

REQUIRED_COLUMNS = ("dialogue_id", "speaker", "text")


class DialogueFormatError(ValueError):
    """The file cannot be read as dialogues (the message says what is missing)."""


def _none(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    try:
        import pandas as pd

        if value is pd.NA or value is pd.NaT:
            return None
    except ImportError:  # pragma: no cover - pandas is a core dependency
        pass
    return value


def _float(value: Any, where: str, warnings: list[str]) -> float | None:
    value = _none(value)
    if value is None or value == "":
        return None
    try:
        out = float(value)
    except (TypeError, ValueError):
        warnings.append(f"{where}: unreadable time {value!r} ignored")
        return None
    if not math.isfinite(out):
        warnings.append(f"{where}: non-finite time {value!r} ignored")
        return None
    return out


def build_dialogue(dialogue_id: str, rows: Sequence[Mapping[str, Any]], *, source: str | None = None,
                   speakers: Iterable[str] | None = None, warnings: Sequence[str] = ()) -> Dialogue:
    """Turn raw rows (``speaker``, ``text``, optional ``turn``/``start``/``end``/``media``/``record_id``)
    into a checked ``Dialogue``.

    Rows are ordered by ``turn`` when every row has one (ties and gaps are reported),
    else kept in the given order.  ``speakers``: the known cast; other names are
    flagged as unknown (kept as they are).
    """
    out_warnings = list(warnings)
    prefix = f"dialogue {dialogue_id}"
    order = list(range(len(rows)))
    turn_numbers = [_none(r.get("turn")) for r in rows]
    if rows and all(t is not None for t in turn_numbers):
        try:
            numbers = [int(t) for t in turn_numbers]
        except (TypeError, ValueError):
            out_warnings.append(f"{prefix}: unreadable 'turn' values; kept the file order")
        else:
            if numbers != sorted(numbers):
                out_warnings.append(f"{prefix}: turns were not in order; sorted by 'turn'")
            if len(set(numbers)) != len(numbers):
                out_warnings.append(f"{prefix}: repeated turn numbers; ties kept in file order")
            order = sorted(order, key=lambda i: numbers[i])
    elif any(t is not None for t in turn_numbers):
        out_warnings.append(f"{prefix}: 'turn' missing on some rows; kept the file order")
    known = set(speakers) if speakers is not None else None
    turns: list[Turn] = []
    for index, i in enumerate(order):
        row = rows[i]
        where = f"{prefix} turn {index}"
        speaker = _none(row.get("speaker"))
        speaker = str(speaker).strip() if speaker is not None else ""
        if not speaker:
            out_warnings.append(f"{where}: no speaker; marked {UNKNOWN_SPEAKER!r}")
            speaker = UNKNOWN_SPEAKER
        elif known is not None and speaker not in known:
            out_warnings.append(f"{where}: unknown speaker {speaker!r} (not in the given cast)")
        text = _none(row.get("text"))
        text = "" if text is None else str(text)
        problem = text_problem(text)  # empty (also zero-width/NUL only) or invalid UTF-8
        if problem == EMPTY_TEXT:
            out_warnings.append(f"{where}: empty turn (kept; it gets no emotion)")
        elif problem is not None:
            out_warnings.append(f"{where}: {problem} (kept; it gets no emotion)")
        start = _float(row.get("start"), where, out_warnings)
        end = _float(row.get("end"), where, out_warnings)
        media = _none(row.get("media"))
        record_id = _none(row.get("record_id"))
        turns.append(Turn(index, speaker, text, start, end, str(media) if media is not None else None,
                          str(record_id) if record_id is not None else None))
    out_warnings.extend(check_timing(turns, prefix))
    return Dialogue(str(dialogue_id), tuple(turns), source, tuple(out_warnings))


def check_timing(turns: Sequence[Turn], prefix: str = "dialogue") -> list[str]:
    """Warnings for inverted (end < start), unsorted and overlapping turn times."""
    out: list[str] = []
    previous: Turn | None = None
    for turn in turns:
        if turn.start is not None and turn.end is not None and turn.end < turn.start:
            out.append(f"{prefix} turn {turn.index}: ends ({turn.end:.3f} s) before it starts "
                       f"({turn.start:.3f} s)")
        if turn.start is None:
            continue
        if previous is not None and previous.start is not None:
            if turn.start < previous.start:
                out.append(f"{prefix} turn {turn.index}: starts at {turn.start:.3f} s, before turn "
                           f"{previous.index} ({previous.start:.3f} s): timestamps out of order")
            elif previous.end is not None and turn.start < previous.end:
                out.append(f"{prefix} turn {turn.index}: overlaps turn {previous.index} "
                           f"({turn.start:.3f} s < {previous.end:.3f} s)")
        previous = turn
    return out


# -- tables ------------------------------------------------------------------------------------
def _read_frame(path: Path) -> Any:
    import pandas as pd

    table_format = TABLE_FORMATS.get(path.suffix.lower())
    if table_format == "csv":
        return pd.read_csv(path, dtype={"dialogue_id": str, "speaker": str, "text": str},
                           keep_default_na=False, na_values=[""])
    if table_format == "tsv":
        return pd.read_csv(path, sep="\t", dtype={"dialogue_id": str, "speaker": str, "text": str},
                           keep_default_na=False, na_values=[""])
    if table_format == "jsonl":
        return pd.read_json(path, lines=True, dtype={"dialogue_id": str})
    if table_format == "parquet":
        return pd.read_parquet(path)
    raise DialogueFormatError(f"not a table of turns: {path}")


def read_turn_table(path: str | Path, *, speakers: Iterable[str] | None = None) -> list[Dialogue]:
    """A table with ``dialogue_id``, ``speaker``, ``text`` (optional ``turn``, ``start``, ``end``,
    ``media``) -> one ``Dialogue`` per ``dialogue_id``, in order of first appearance."""
    path = Path(path)
    frame = _read_frame(path)
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        raise DialogueFormatError(f"{path}: a table of turns needs columns {', '.join(REQUIRED_COLUMNS)}; "
                                  f"missing {', '.join(missing)} (has {', '.join(map(str, frame.columns))})")
    groups: dict[str, list[dict[str, Any]]] = {}
    warnings: dict[str, list[str]] = {}
    for number, row in enumerate(frame.to_dict("records")):
        dialogue_id = _none(row.get("dialogue_id"))
        if dialogue_id is None or str(dialogue_id).strip() == "":
            dialogue_id = "?"
            warnings.setdefault("?", []).append(f"row {number + 1}: no dialogue_id; grouped under '?'")
        key = str(dialogue_id).strip()
        row = dict(row)
        row.setdefault("record_id", f"{key}#{number + 1}")
        groups.setdefault(key, []).append(row)
    return [build_dialogue(key, rows, source=str(path), speakers=speakers, warnings=warnings.get(key, ()))
            for key, rows in groups.items()]


# -- JSON --------------------------------------------------------------------------------------
def _json_dialogue(obj: Any, number: int, source: str, speakers: Iterable[str] | None) -> Dialogue:
    if isinstance(obj, list):
        obj = {"turns": obj}
    if not isinstance(obj, dict) or not isinstance(obj.get("turns"), list):
        raise DialogueFormatError(f"{source}: dialogue {number} must be an object with a 'turns' list")
    dialogue_id = str(obj.get("dialogue_id", obj.get("id", number)))
    rows = []
    for t in obj["turns"]:
        if not isinstance(t, dict):
            raise DialogueFormatError(f"{source}: dialogue {dialogue_id}: each turn must be an object")
        rows.append(t)
    cast = obj.get("speakers") if speakers is None else speakers
    return build_dialogue(dialogue_id, rows, source=source, speakers=cast)


def read_json_dialogues(path: str | Path, *, speakers: Iterable[str] | None = None) -> list[Dialogue]:
    """JSON: one dialogue ``{"dialogue_id", "speakers"?, "turns": [{"speaker", "text", ...}]}``,
    a list of them, or ``{"dialogues": [...]}``."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise DialogueFormatError(f"{path}: not valid JSON ({err})") from None
    if isinstance(data, dict) and "dialogues" in data:
        data = data["dialogues"]
    items = data if isinstance(data, list) and data and all(isinstance(d, dict) and "turns" in d
                                                            for d in data) else [data]
    return [_json_dialogue(obj, i, str(path), speakers) for i, obj in enumerate(items)]


# -- subtitles ---------------------------------------------------------------------------------
def read_subtitles(path: str | Path, *, speakers: Iterable[str] | None = None,
                   media: str | None = None) -> Dialogue:
    """An SRT or WebVTT file as one dialogue (id = the file's stem), one turn per cue."""
    path = Path(path)
    content = path.read_text(encoding="utf-8", errors="replace")
    parse = parse_vtt if path.suffix.lower() == ".vtt" else parse_srt
    cues, warnings = parse(content)
    if not cues:
        warnings.append(f"{path.name}: no subtitle cues found")
    rows = [{"speaker": c.speaker, "text": c.text, "start": c.start, "end": c.end, "media": media,
             "record_id": f"{path.stem}@{c.line}"} for c in cues]
    if cues and all(c.speaker is None for c in cues):
        warnings.append(f"{path.name}: no speaker names in the cues (use 'NAME: text' or <v NAME>); "
                        f"all turns marked {UNKNOWN_SPEAKER!r}")
        rows = [{**r, "speaker": UNKNOWN_SPEAKER} for r in rows]
    return build_dialogue(path.stem, rows, source=str(path), speakers=speakers,
                          warnings=[f"{path.name}: {w}" for w in warnings])


def read_dialogues(path: str | Path, *, speakers: Iterable[str] | None = None) -> list[Dialogue]:
    """Dialogues from any supported file, chosen by suffix (see ``DIALOGUE_SUFFIXES``)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"file not found: {path}")
    suffix = path.suffix.lower()
    if suffix in TABLE_SUFFIXES:
        return read_turn_table(path, speakers=speakers)
    if suffix == DIALOGUE_JSON_SUFFIX:
        return read_json_dialogues(path, speakers=speakers)
    if suffix in SUBTITLE_SUFFIXES:
        return [read_subtitles(path, speakers=speakers)]
    raise DialogueFormatError(f"unsupported dialogue file {suffix or '(no suffix)'!r} for {path} "
                              f"(supported: {', '.join(DIALOGUE_SUFFIXES)})")
