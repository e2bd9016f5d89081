"""The web page renders the whole result of every kind the service returns (issue #22 item 7).

A real headless Chromium loads the page from ``create_app`` under uvicorn; each test answers the
page's API call with one fixture result from ``page_results`` (built from ``types.py``) and checks
what the CLI would show is on the page: face boxes and labels over the uploaded image, the
timeline's legend, one row and one lane per tracked face, the dialogue's shifts and causes, the
transcript with its words, and every segment's cues.  One test runs the image through the real
service with a stand-in face recognizer.  Skips where chromium or playwright is missing.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import page_results as fixtures
import pytest
from browser_helpers import keep_screenshot, serving, skip_without_browser

from affectlens.testing import DummyRecognizer
from affectlens.types import EmotionResult, Modality

sync_api = skip_without_browser()
pytestmark = pytest.mark.slow  # a browser and a server: a few seconds per test


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with serving([DummyRecognizer()], tmp_path_factory.mktemp("uploads")) as url:
        yield url




_MIME = {"image": ("face.png", "image/png"), "audio": ("talk.wav", "audio/wav"), "video": ("clip.mp4", "video/mp4")}


def show(page: Any, base: str, kind: str, result: EmotionResult, upload: bytes = b"canned") -> None:
    """Open the page, answer its request for ``kind`` with ``result``, and wait for the result card."""
    route = {"dialogue": "dialogue", "support": "dialogue", "text": "text"}.get(kind, kind)
    page.route(f"**/v1/analyze/{route}", lambda r: r.fulfill(status=200, content_type="application/json",
                                                              body=json.dumps(result.to_dict())))
    page.goto(base + "/")
    if kind in ("text", "dialogue", "support"):
        page.fill("#text", "\n".join(f"{s.speaker}: {s.text}" for s in result.segments) if kind != "text"
                  else str(result.segments[0].text))
        if kind != "text":
            page.check("#" + kind)
        page.click("#analyze")
    else:
        name, mime = _MIME[kind]
        page.set_input_files("#file", files=[{"name": name, "mimeType": mime, "buffer": upload}])
        page.click("#upload")
    page.wait_for_selector("#result:not([hidden])")


def _legend(page: Any) -> list[str]:
    return page.locator("#timeline-legend .legend-item").all_text_contents()


def _screenshot(page: Any, tmp_path: Path, name: str) -> None:
    shot = tmp_path / name
    page.screenshot(path=str(shot), full_page=True)
    keep_screenshot(shot)


def test_image_faces_drawn_over_the_upload(page: Any, base: str, tmp_path: Path) -> None:
    show(page, base, "image", fixtures.image_result(), fixtures.png_bytes(300, 200))
    faces = page.locator("#faces-svg g.face")
    assert faces.count() == 2
    page.wait_for_selector("#faces-svg image")  # the uploaded picture behind the boxes
    assert page.get_attribute("#faces-svg", "viewBox") == "0 0 300 200"  # its natural size: boxes in pixels
    assert page.locator("#faces-svg g.face rect[fill='none']").count() == 2
    labels = page.locator("#faces-svg text.face-label").all_text_contents()
    assert labels == ["happy 0.81", "sad 0.66"]
    assert page.locator("#faces-svg text.face-cue").all_text_contents() == ["mouth corners up -> happy",
                                                                           "mouth corners up -> sad"]
    box = page.locator("#faces-svg g.face rect[fill='none']").first
    assert [box.get_attribute(k) for k in ("x", "y", "width", "height")] == ["30", "40", "80", "90"]
    assert page.locator("#segments-table tr.segment-row").count() == 2
    assert page.locator("#tracks-block").is_hidden()  # an image has no tracks
    _screenshot(page, tmp_path, "page-image.png")


def test_video_tracks_lanes_and_the_busiest_frame(page: Any, base: str, tmp_path: Path) -> None:
    show(page, base, "video", fixtures.video_result())
    # the frame drawn is the one with both faces (frame 2), as analyze --annotate draws it
    assert page.locator("#faces-svg g.face").count() == 2
    assert page.locator("#faces-svg text.face-label").all_text_contents() == ["#0 angry 0.60", "#1 sad 0.75"]
    rows = page.locator("#tracks-table tr[data-track]")
    assert rows.count() == 2
    assert "happy" in rows.nth(0).text_content()  # track 0: happy in 2 of 3 frames, as --tracks says
    assert "3" in rows.nth(0).locator("td").nth(3).text_content()
    assert "sad" in rows.nth(1).text_content()
    assert page.locator("#timeline-svg text.lane-label").all_text_contents() == ["track #0", "track #1"]
    assert page.locator("#timeline-svg rect.segment").count() == 5
    assert sorted(_legend(page)) == ["angry", "happy", "sad"]
    _screenshot(page, tmp_path, "page-video.png")


def test_video_frame_drawn_behind_the_boxes(page: Any, base: str, tmp_path: Path) -> None:
    """The page seeks the uploaded video to the drawn frame and paints it under the boxes (a WebM:
    Debian's chromium decodes VP8, not H.264; an undecodable video keeps a blank backdrop)."""
    cv2 = pytest.importorskip("cv2", reason="opencv writes the test video (the vision extra)")
    import numpy as np

    path = tmp_path / "clip.webm"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"VP80"), 4, (320, 240))
    for n in range(8):
        writer.write(np.full((240, 320, 3), 30 * n, np.uint8))
    writer.release()
    if not path.is_file() or path.stat().st_size == 0:
        pytest.skip("this OpenCV cannot write VP8")
    page.route("**/v1/analyze/video", lambda r: r.fulfill(status=200, content_type="application/json",
                                                          body=json.dumps(fixtures.video_result().to_dict())))
    page.goto(base + "/")
    page.set_input_files("#file", files=[{"name": "clip.webm", "mimeType": "video/webm",
                                          "buffer": path.read_bytes()}])
    page.click("#upload")
    page.wait_for_selector("#faces-svg image")
    assert page.get_attribute("#faces-svg", "viewBox") == "0 0 320 240"
    assert page.locator("#faces-svg g.face").count() == 2


def test_audio_timeline_legend_and_cues(page: Any, base: str, tmp_path: Path) -> None:
    show(page, base, "audio", fixtures.audio_result())
    assert page.locator("#timeline-svg rect.segment").count() == 3
    assert _legend(page) == ["anger", "sadness", "joy"]
    for label in _legend(page):  # each legend colour is the colour of that label's bar
        swatch = page.locator(f"#timeline-legend .legend-item[data-label='{label}'] .swatch")
        colour = swatch.evaluate("node => node.style.background")
        bar = page.locator(f"#timeline-svg rect.segment[data-label='{label}']").first.get_attribute("fill")
        assert colour and bar and colour.replace(" ", "") == _rgb(bar)
    rows = page.locator("#segments-table tr.segment-row")
    assert rows.count() == 3
    assert "pitch +1.8 sd -> anger" in rows.nth(0).text_content()  # every prediction's cue
    assert "0:00.00–0:01.20" in rows.nth(0).text_content()
    assert "below the noise floor" in page.text_content("#warnings")
    assert page.locator("#faces-block").is_hidden() and page.locator("#transcript-block").is_hidden()


def _rgb(hex_colour: str) -> str:
    value = hex_colour.lstrip("#")
    return "rgb({},{},{})".format(*(int(value[i:i + 2], 16) for i in (0, 2, 4)))


def test_dialogue_shifts_causes_and_legend(page: Any, base: str, tmp_path: Path) -> None:
    show(page, base, "dialogue", fixtures.dialogue_result())
    items = page.locator("ol#turns li")
    assert items.count() == 4
    assert "Ann: joy -> sadness after turn 1 (Ben)" in items.nth(2).locator(".shift").text_content()
    cause = items.nth(3).locator(".cause a[href='#turn-2']")
    assert cause.count() == 1 and "(Ann)" in cause.text_content()
    assert "“move away”" in items.nth(3).text_content()
    assert "this turn" in items.nth(3).text_content()  # the turn's own cause
    assert _legend(page) == ["joy", "sadness"]
    assert "turns" in page.text_content("#timeline-title")
    assert page.locator("#segments-table tr.segment-row").count() == 4
    _screenshot(page, tmp_path, "page-dialogue.png")


def test_support_suggestions(page: Any, base: str) -> None:
    show(page, base, "support", fixtures.dialogue_result(support=True))
    support = page.locator("ol#turns li .support")
    assert support.count() == 2
    assert "next: Reflection of feelings 0.50" in support.first.text_content()
    assert "strategy used: Affirmation" in page.text_content("ol#turns")


def test_media_with_words_shows_the_transcript(page: Any, base: str, tmp_path: Path) -> None:
    show(page, base, "audio", fixtures.words_result())
    lines = page.locator("ol#transcript li")
    assert lines.count() == 2
    assert lines.nth(0).locator("span.word").all_text_contents() == ["that", "is", "great"]
    assert "0:00.80–0:01.40" in (lines.nth(0).locator("span.word").nth(2).get_attribute("title") or "")
    modalities = lines.nth(0).locator(".modalities").text_content()
    assert "speech: anger 0.50" in modalities and "text: joy 0.70" in modalities and "disagreement 0.31" in modalities
    assert page.locator("#text-block").is_hidden()  # each transcript line shows its own words
    assert _legend(page) == ["joy", "surprise"]
    assert "text says joy, voice says anger" in page.text_content("#segments-table")
    _screenshot(page, tmp_path, "page-words.png")


def test_text_segment_cues(page: Any, base: str) -> None:
    show(page, base, "text", fixtures.text_result())
    assert page.locator("#highlighted mark.cue").all_text_contents() == ["thrilled", "nervous"]
    assert page.locator("#segments-table td.cues .cue-line").all_text_contents() == ["'thrilled' -> joy",
                                                                                     "'nervous' -> fear"]
    assert "text.fake.v1 v1 · ekman" in page.text_content("#result-model")
    assert page.locator("#timeline-block").is_hidden()


def test_image_through_the_real_service(page: Any, tmp_path: Path) -> None:
    """No canned answer: the PNG goes through the upload checks and the file-type dispatch to a stand-in
    face recognizer, and the page draws the boxes it returned."""

    class FakeFaces:
        name, version, modality, label_set = "face.fake.v1", "v1", Modality.FACE, "face7"

        def load(self) -> None:
            pass

        def analyze(self, batch: Any) -> list[EmotionResult]:
            return [fixtures.image_result() for _ in batch]

    with serving([DummyRecognizer(), FakeFaces()], tmp_path) as url:  # type: ignore[list-item]
        page.goto(url + "/")
        page.set_input_files("#file", files=[{"name": "face.png", "mimeType": "image/png",
                                              "buffer": fixtures.png_bytes(300, 200)}])
        page.click("#upload")
        page.wait_for_selector("#faces-svg image")
        assert page.locator("#faces-svg g.face").count() == 2
