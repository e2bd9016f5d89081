"""The web page end to end in a real headless Chromium (Debian's ``chromium`` driven by playwright).

Skips with a reason when chromium or playwright is missing locally (``browser_helpers``); the
page's rendering of every kind of result is in ``test_page_results.py``.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from browser_helpers import keep_screenshot, serving, skip_without_browser
from service_helpers import FakeSpeechRecognizer, silence, tone, wav_bytes

from affectlens import processing
from affectlens.testing import DummyRecognizer
from affectlens.types import Modality

sync_api = skip_without_browser()




def _png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    width, height = struct.unpack(">II", header[16:24])
    return int(width), int(height)


def test_text_result_panel(page: Any, tmp_path: Path) -> None:
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    with serving([DummyRecognizer()], tmp_path) as base:
        page.goto(base + "/")
        page.wait_for_selector("#status.ok")
        assert "ready" in page.text_content("#status")
        page.fill("#text", "Wow, I am so happy and glad you came, but a little nervous.")
        page.click("#analyze")
        page.wait_for_selector("#result:not([hidden]) .bar-row")
        labels = page.locator("#top-emotions .bar-label").all_text_contents()
        assert labels[0] == "joy"  # two joy words: the strongest bar comes first
        assert page.locator("#top-emotions .bar-label.predicted").count() >= 1
        marks = page.locator("#highlighted mark.cue").all_text_contents()
        assert {"Wow", "happy", "glad", "nervous"} <= set(marks)
        assert page.text_content("#highlighted") == "Wow, I am so happy and glad you came, but a little nervous."
        assert page.locator("#vad-plot circle").count() == 1
        assert "valence" in page.text_content("#vad-values")
        shot = tmp_path / "text-result.png"
        page.screenshot(path=str(shot), full_page=True)
    assert all(url.startswith(base) for url in requests), f"external requests: {requests}"
    keep_screenshot(shot)
    width, height = _png_size(shot)
    assert width >= 1000 and height >= 600
    assert shot.stat().st_size > 20_000  # a rendered page, not a blank one


def test_text_is_never_html(page: Any, tmp_path: Path) -> None:
    with serving([DummyRecognizer()], tmp_path) as base:
        page.goto(base + "/")
        page.fill("#text", "<img src=x onerror=alert(1)> so happy")
        page.click("#analyze")
        page.wait_for_selector("#highlighted mark.cue")
        assert page.locator("#highlighted img").count() == 0
        assert "<img src=x" in page.text_content("#highlighted")


def test_table_upload_runs_a_job(page: Any, tmp_path: Path) -> None:
    rows = "id,text\n" + "".join(f"{i},{'so happy' if i % 3 else 'really angry and sad'}\n" for i in range(1, 13))
    with serving([DummyRecognizer()], tmp_path) as base:
        page.goto(base + "/")
        page.set_input_files("#file", files=[{"name": "reviews.csv", "mimeType": "text/csv",
                                              "buffer": rows.encode()}])
        page.fill("#column", "text")
        page.click("#upload")
        page.wait_for_selector("#timeline-svg rect.segment")
        assert page.locator("#timeline-svg rect.segment").count() == 12
        assert page.locator("#rows table tr").count() == 13
        assert "rows" in page.text_content("#timeline-title")
        shot = tmp_path / "table-job.png"
        page.screenshot(path=str(shot), full_page=True)
    keep_screenshot(shot)


def test_audio_without_recognizer_shows_the_501(page: Any, tmp_path: Path) -> None:
    with serving([DummyRecognizer()], tmp_path) as base:
        page.goto(base + "/")
        page.set_input_files("#file", files=[{"name": "a.wav", "mimeType": "audio/wav",
                                              "buffer": wav_bytes(tone(0.5))}])
        page.click("#upload")
        page.wait_for_selector("#error:not([hidden])")
        assert "no speech recognizer" in page.text_content("#error")
        assert "HTTP 501" in page.text_content("#error")


def test_audio_timeline(page: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from test_service_media import _read_wav

    monkeypatch.setitem(processing.FILE_TYPES, ".wav", processing.FileType(Modality.SPEECH, _read_wav))

    class SegmentingSpeech(FakeSpeechRecognizer):
        """Splits a clip at its silences (as a real speech model's windows would)."""

        def analyze(self, batch: Any) -> Any:
            from affectlens.service.stream import EnergySegmenter
            from affectlens.types import EmotionResult

            out = []
            for clip in batch:
                segmenter = EnergySegmenter()
                parts = segmenter.push(clip.samples) + segmenter.flush()
                clips = [type(clip)(p.samples, clip.sample_rate, offset=p.start) for p in parts]
                segments = tuple(s for r in super().analyze(clips) for s in r.segments)
                out.append(EmotionResult(segments, clip.source))
            return out

    audio = np.concatenate([silence(0.5), tone(1.0, 0.5), silence(0.7), tone(0.8, 0.05), silence(0.5)])
    with serving([DummyRecognizer(), SegmentingSpeech()], tmp_path) as base:
        page.goto(base + "/")
        page.set_input_files("#file", files=[{"name": "talk.wav", "mimeType": "audio/wav",
                                              "buffer": wav_bytes(audio)}])
        page.click("#upload")
        page.wait_for_selector("#timeline-svg rect.segment")
        assert page.locator("#timeline-svg rect.segment").count() == 2
        assert "seconds" in page.text_content("#timeline-title")
        assert page.locator("#top-emotions .bar-label").first.text_content() in ("anger", "sadness")
        shot = tmp_path / "audio-timeline.png"
        page.screenshot(path=str(shot), full_page=True)
    keep_screenshot(shot)


def test_dialogue_view(page: Any, tmp_path: Path) -> None:
    # the shipped conversation model (and the text encoder it reads) behind /v1/analyze/dialogue
    transcript = ("Ann: I got the job!\nBen: That's wonderful, congratulations!\n"
                  "Ann: But I have to move away from you.\nBen: Oh no. I will miss you so much.")
    with serving([DummyRecognizer()], tmp_path) as base:
        page.goto(base + "/")
        page.fill("#text", transcript)
        page.check("#dialogue")
        page.click("#analyze")
        page.wait_for_selector("#dialogue-block:not([hidden]) ol.turns li", timeout=60_000)
        items = page.locator("ol.turns li")
        assert items.count() == 4
        assert page.locator("ol.turns .speaker").all_text_contents() == ["Ann", "Ben", "Ann", "Ben"]
        assert "I will miss you so much." in items.nth(3).text_content()
        assert page.locator("ol.turns li .chip").count() == 4
        # a cause pointing back to an earlier turn is a link to that turn
        assert page.locator("ol.turns li .cause a[href^='#turn-']").count() >= 1
        assert page.locator("#timeline-svg rect.segment").count() == 4
        assert "turns" in page.text_content("#timeline-title")
        assert page.locator("#text-block").is_hidden()
        shot = tmp_path / "dialogue.png"
        page.screenshot(path=str(shot), full_page=True)
    keep_screenshot(shot)
