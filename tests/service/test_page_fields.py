"""The web page's code renders every field of the result (issue #22 item 7), checked without a browser.

Each field of ``types.py``'s result classes is either read by a named rendering function of
``static/app.js`` / ``static/views.js`` or listed as not shown, with the reason: a new field in
``types.py`` fails here until the page shows it (or says why not), and deleting a renderer, its
call or a field it reads fails here too.  ``test_page_results.py`` checks the drawing in Chromium.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

import pytest

from affectlens.types import VAD, Cue, EmotionResult, Provenance, Segment

STATIC = Path(__file__).resolve().parents[2] / "src" / "affectlens" / "service" / "static"
SCRIPTS = ("views.js", "app.js")  # loaded in this order

#: (class, field) -> the function whose body reads ``.field`` to show it
RENDERED: dict[tuple[type, str], str] = {
    (EmotionResult, "segments"): "renderResult",
    (EmotionResult, "warnings"): "renderResult",
    (EmotionResult, "record_id"): "whereOf",
    (Segment, "modality"): "renderSegments",
    (Segment, "label_set"): "renderResult",
    (Segment, "scores"): "renderBars",
    (Segment, "labels"): "renderSegments",
    (Segment, "vad"): "renderSegments",
    (Segment, "confidence"): "renderSegments",
    (Segment, "provenance"): "renderResult",
    (Segment, "cues"): "cuesCell",
    (Segment, "text"): "highlightInto",
    (Segment, "start"): "whereOf",
    (Segment, "end"): "whereOf",
    (Segment, "turn"): "renderDialogue",
    (Segment, "speaker"): "renderDialogue",
    (Segment, "track_id"): "trackSummaries",
    (Segment, "record_id"): "whereOf",
    (Segment, "extras"): "renderDialogue",
    (Cue, "kind"): "cueWhere",
    (Cue, "phrase"): "cuesCell",
    (Cue, "weight"): "cueWhere",
    (Cue, "label"): "highlightInto",
    (Cue, "span"): "highlightInto",
    (Cue, "time"): "cueWhere",
    (Cue, "region"): "cueWhere",
    (Cue, "turn"): "cueWhere",
    (Cue, "value"): "cueWhere",
    (VAD, "valence"): "renderVad",
    (VAD, "arousal"): "renderVad",
    (VAD, "dominance"): "renderVad",
    (Provenance, "recognizer"): "renderResult",
    (Provenance, "version"): "renderResult",
}
#: (class, field) -> why the page does not show it
NOT_SHOWN: dict[tuple[type, str], str] = {
    (EmotionResult, "source"): "the service scrubs file paths: it is null over HTTP",
    (Segment, "source"): "the service scrubs file paths: it is null over HTTP",
}
#: keys of ``extras`` the recognizers write and the CLI shows -> the function that reads them
EXTRAS: dict[str, str] = {
    "box": "boxOf",  # face recognizers: the face's box in pixels (analyze --annotate)
    "frame": "facesToDraw",  # videos: which sampled frame
    "causes": "renderDialogue",  # conversation model: the turns (and spans) that caused the emotion
    "support": "renderDialogue",  # support model: the suggested next strategy
    "strategy": "renderDialogue",
    "words": "wordsInto",  # --words: each word with its time
    "modalities": "modalitiesLine",  # fusion: each modality's own result
    "disagreement": "modalitiesLine",
    "missing": "modalitiesLine",
}
#: who calls each renderer: removing a call leaves part of the result unrendered
CALLS: dict[str, tuple[str, ...]] = {
    "renderResult": ("renderWarnings", "renderDialogue", "renderFaces", "renderTracks", "renderTranscript",
                     "renderSegments", "renderBars", "renderVad", "renderHighlighted", "renderTimeline"),
    "renderTimeline": ("renderLegend",),
    "renderFaces": ("facesToDraw", "faceMark", "drawBehind"),
    "faceMark": ("mainCue",),
    "renderDialogue": ("wordsInto", "modalitiesLine", "renderSupport"),
    "renderTranscript": ("wordsInto", "modalitiesLine"),
    "renderSegments": ("whereOf", "cuesCell"),
    "cuesCell": ("cueWhere",),
    "renderTable": ("renderResult", "renderTimeline", "renderRows"),
    "renderRows": ("cuesCell",),
    "analyzeFile": ("renderResult", "uploadedMedia"),
}


def _source() -> str:
    return "\n".join((STATIC / name).read_text(encoding="utf-8") for name in SCRIPTS)


def function_body(source: str, name: str) -> str:
    """The text of ``function name(...) { ... }`` (braces counted; the page's code has no brace in a string)."""
    match = re.search(rf"(?:async\s+)?function\s+{name}\s*\(", source)
    assert match, f"no function {name} in {SCRIPTS}"
    start = source.index("{", source.index(")", match.end()))
    depth = 0
    for at in range(start, len(source)):
        depth += {"{": 1, "}": -1}.get(source[at], 0)
        if depth == 0:
            return source[start:at + 1]
    raise AssertionError(f"function {name}: unbalanced braces")


def _reads(body: str, field: str) -> bool:
    return re.search(rf"\.{field}\b|\[\"{field}\"\]", body) is not None


@pytest.mark.parametrize("cls", [EmotionResult, Segment, Cue, VAD, Provenance], ids=lambda c: c.__name__)
def test_every_result_field_is_rendered_or_excused(cls: Any) -> None:
    fields = {f.name for f in dataclasses.fields(cls)}
    handled = {name for (owner, name) in (*RENDERED, *NOT_SHOWN) if owner is cls}
    assert fields - handled == set(), f"{cls.__name__} fields the web page neither shows nor excuses"
    assert handled - fields == set(), f"{cls.__name__} has no such fields (types.py changed?)"


@pytest.mark.parametrize(("owner", "field"), list(RENDERED), ids=lambda v: getattr(v, "__name__", v))
def test_renderer_reads_the_field(owner: type, field: str) -> None:
    function = RENDERED[(owner, field)]
    assert _reads(function_body(_source(), function), field), f"{function} does not read .{field}"


@pytest.mark.parametrize("key", list(EXTRAS))
def test_renderer_reads_the_extras_key(key: str) -> None:
    function = EXTRAS[key]
    assert _reads(function_body(_source(), function), key), f"{function} does not read extras.{key}"


@pytest.mark.parametrize("caller", list(CALLS))
def test_renderers_are_called(caller: str) -> None:
    source = _source()
    body = function_body(source, caller)
    for callee in CALLS[caller]:
        function_body(source, callee)  # defined
        assert re.search(rf"\b{callee}\(", body), f"{caller} no longer calls {callee}"


def test_every_element_the_code_fills_is_on_the_page() -> None:
    html = (STATIC / "index.html").read_text(encoding="utf-8")
    ids = set(re.findall(r'\$\("([\w-]+)"\)', _source()))
    assert {"faces", "tracks", "transcript", "segments", "timeline-legend", "turns"} <= ids
    missing = sorted(i for i in ids if f'id="{i}"' not in html)
    assert missing == [], f"index.html lacks the elements {missing}"
    scripts = re.findall(r'<script src="/static/([\w.]+)"', html)
    assert scripts == list(SCRIPTS), "views.js must load before app.js (app.js wires the page up)"


def test_user_text_never_goes_in_as_html() -> None:
    code = re.sub(r"//[^\n]*", "", _source())  # the comments may name what is not done
    assert re.search(r"innerHTML|outerHTML|insertAdjacentHTML|document\.write", code) is None


def test_the_scripts_are_served(client: Any) -> None:
    for name in SCRIPTS:
        response = client.get("/static/" + name)
        assert response.status_code == 200, name
        assert "javascript" in response.headers["content-type"]


def test_no_id_is_used_twice() -> None:
    """``$(id)`` returns the first element with that id: a second one is never filled (the transcript
    list once shared its id with the transcript file input, and the page showed no transcript)."""
    html = (STATIC / "index.html").read_text(encoding="utf-8")
    ids = re.findall(r'\bid="([\w-]+)"', html)
    assert sorted({i for i in ids if ids.count(i) > 1}) == []
