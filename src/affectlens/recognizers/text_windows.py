"""Long texts as sentence windows: a result per window and a document aggregate.

A text longer than the model's window (``max_tokens`` word pieces with ``[CLS]``/``[SEP]``)
is cut at sentence boundaries into windows that each fit the model: consecutive sentences
are packed greedily while they fit, and a sentence longer than a window is cut between
words. Each window is analysed like a short text (same calibration, thresholds and word
cues) and becomes a segment whose ``extras["span"]`` is its character range in the text
(cue spans are in the text's coordinates too). The first segment is the document
aggregate: the length-weighted mean of the windows' calibrated probabilities (weights:
word pieces per window), labels by the model's own thresholds on that mean, VAD the same
weighted mean, cues the strongest window cues of its labels; ``extras["aggregate"]`` says
so.

The text is never tokenised whole: sentences are found with a regular expression that
walks the string, tokenised a block at a time to pack windows, and windows run through the
model ``WINDOWS_PER_PASS`` at a time, so working memory stays bounded whatever the length.
The whole result grows with it (one segment per window); ``stream_document`` hands the windows
on as they are made, the aggregate last (kept as running sums), for writers that write as they
go (the CLI).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np

from affectlens.calibration import threshold_decisions
from affectlens.inputs import TextItem
from affectlens.types import VAD, Cue, EmotionResult, Segment

if TYPE_CHECKING:
    from affectlens.recognizers.text_onnx import TextOnnxRecognizer

#: windows handed to the model per pass (each pass is batched by the recognizer's batch size)
WINDOWS_PER_PASS = 256
#: sentences tokenised per block when packing windows
SENTENCES_PER_BLOCK = 512
AGGREGATE = ("length-weighted mean of the windows' calibrated probabilities and VAD "
             "(weights: word pieces per window); labels: the model's thresholds on that mean")

# A sentence ends after . ! ? or … and any closing quotes or brackets, where white space
# follows (group "gap"), or at a line break (group "line"); the gap belongs to no sentence.
_BOUNDARY = re.compile(r"(?<=[.!?\u2026])[\"'\u201d\u2019)\]]*(?P<gap>\s+)|(?P<line>[^\S\n]*\n\s*)")


def sentence_spans(text: str) -> Iterator[tuple[int, int]]:
    """Character spans of the sentences of ``text``, in order, without surrounding space."""
    start = 0
    for match in _BOUNDARY.finditer(text):
        end = match.start("gap") if match.group("gap") is not None else match.start("line")
        if text[start:end].strip():
            yield _strip(text, start, end)
        start = match.end()
    if text[start:].strip():
        yield _strip(text, start, len(text))


def _strip(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _blocks(spans: Iterable[tuple[int, int]], size: int) -> Iterator[list[tuple[int, int]]]:
    block: list[tuple[int, int]] = []
    for span in spans:
        block.append(span)
        if len(block) == size:
            yield block
            block = []
    if block:
        yield block


def window_spans(rec: TextOnnxRecognizer, text: str) -> Iterator[tuple[int, int]]:
    """Character spans of windows of whole sentences that each fit the model."""
    body = rec.max_tokens - 2
    current: tuple[int, int] | None = None
    used = 0
    for block in _blocks(sentence_spans(text), SENTENCES_PER_BLOCK):
        encodings = rec._tokenizer.encode_batch([text[s:e] for s, e in block], add_special_tokens=False)
        for (start, end), encoding in zip(block, encodings, strict=True):
            pieces = len(encoding.ids)
            if current is not None and used + pieces <= body:
                current, used = (current[0], end), used + pieces
                continue
            if current is not None:
                yield current
            if pieces <= body:
                current, used = (start, end), pieces
            else:  # one sentence longer than a window: cut it between words
                *whole, (last_start, last_end, last_used) = _cut(encoding, start, body)
                yield from ((s, e) for s, e, _ in whole)
                current, used = (last_start, last_end), last_used
    if current is not None:
        yield current


def _cut(encoding: Any, offset: int, body: int) -> list[tuple[int, int, int]]:
    """(start, end, pieces) runs of at most ``body`` word pieces, cut where a word starts."""
    words, offsets = encoding.word_ids, encoding.offsets
    runs: list[tuple[int, int, int]] = []
    first = 0
    while first < len(offsets):
        last = min(len(offsets), first + body)
        if last < len(offsets):  # step back to the start of the word the limit falls in
            cut = last
            while cut > first + 1 and words[cut] is not None and words[cut] == words[cut - 1]:
                cut -= 1
            last = cut if cut > first + 1 else last
        runs.append((offset + offsets[first][0], offset + offsets[last - 1][1], last - first))
        first = last
    return runs


def _windows(rec: TextOnnxRecognizer, item: TextItem) -> Iterator[tuple[Segment, int]]:
    """Each window's segment (spans in the text's coordinates) and its word pieces, as they are made."""
    spans = window_spans(rec, item.text)
    made = 0
    while True:
        chunk = [span for _, span in zip(range(WINDOWS_PER_PASS), spans, strict=False)]
        if not chunk:
            return
        outputs = rec._infer([item.text[s:e] for s, e in chunk])
        for (start, end), (logits, vad_raw, parts) in zip(chunk, outputs, strict=True):
            window_item = replace(item, text=item.text[start:end])
            (segment,) = rec._to_result(window_item, logits, vad_raw, parts).segments
            cues = tuple(replace(c, span=(c.span[0] + start, c.span[1] + start)) if c.span else c
                         for c in segment.cues)
            extras: dict[str, Any] = {"window": made, "span": [start, end], **_cue_method(rec)}
            made += 1
            yield replace(segment, cues=cues, extras=extras), sum(max(1, p[0][2] - p[0][1]) for p in parts)


def analyze_document(rec: TextOnnxRecognizer, item: TextItem) -> EmotionResult:
    """``item`` (longer than one window) as a document aggregate followed by its windows."""
    aggregate = _Aggregate(rec)
    windows: list[Segment] = []
    for window, pieces in _windows(rec, item):
        aggregate.add(window, pieces)
        windows.append(window)
    if len(windows) == 1:  # it fitted after all (e.g. long runs of white space)
        return EmotionResult((_whole_text(rec, item, windows[0]),), item.source)
    return EmotionResult((aggregate.segment(item, windows[0]), *windows), item.source)


def stream_document(rec: TextOnnxRecognizer, item: TextItem) -> Iterator[Segment]:
    """``analyze_document``'s segments as they are made, the aggregate **last** (it needs every window):
    a document of any length in bounded memory (the CLI writes each segment as it comes)."""
    aggregate = _Aggregate(rec)
    first: Segment | None = None
    for n, (window, pieces) in enumerate(_windows(rec, item)):
        aggregate.add(window, pieces)
        if n == 0:
            first = window  # held: a document that fits one window after all is one segment
            continue
        if n == 1 and first is not None:
            yield first
        yield window
    if first is None:
        return
    yield _whole_text(rec, item, first) if aggregate.count == 1 else aggregate.segment(item, first)


def _whole_text(rec: TextOnnxRecognizer, item: TextItem, only: Segment) -> Segment:
    return replace(only, text=item.text, extras=_cue_method(rec))


class _Aggregate:
    """The document aggregate, kept as running sums: the windows themselves need not be held."""

    def __init__(self, rec: TextOnnxRecognizer) -> None:
        self.rec = rec
        self.labels = rec.config.labels
        self.probs = np.zeros(len(self.labels), dtype=np.float64)  # sum of pieces x probabilities
        self.vad = np.zeros(3, dtype=np.float64)
        self.pieces = 0
        self.count = 0
        self.seen = 0  # cues seen: ties in weight keep the earlier cue first, as a stable sort would
        self.cues: dict[str, list[tuple[float, int, Cue]]] = {}  # label -> its strongest cues so far

    def add(self, window: Segment, pieces: int) -> None:
        self.probs += pieces * np.asarray([window.scores[label] for label in self.labels], dtype=np.float64)
        vad = window.vad
        self.vad += pieces * np.asarray([vad.valence, vad.arousal, vad.dominance] if vad else [0.0, 0.0, 0.0])
        self.pieces += pieces
        for cue in window.cues:
            if cue.label is None:
                continue
            kept = self.cues.setdefault(cue.label, [])
            self.seen += 1
            kept.append((-cue.weight, self.seen, cue))
            kept.sort(key=lambda entry: entry[:2])
            del kept[self.rec.n_cues :]
        self.count += 1

    def segment(self, item: TextItem, first: Segment) -> Segment:
        cfg = self.rec.config
        probs = self.probs / self.pieces
        predicted = threshold_decisions(probs, cfg.thresholds)  # the same rule as a single text
        labels = tuple(cfg.labels[i] for i in np.flatnonzero(predicted)[np.argsort(-probs[predicted])])
        vad = self.vad / self.pieces
        cues = tuple(cue for label in labels for _, _, cue in self.cues.get(label, []))
        return replace(
            first, scores={label: float(p) for label, p in zip(cfg.labels, probs, strict=True)}, labels=labels,
            vad=VAD(*(float(x) for x in vad)), confidence=float(probs[predicted].max()), cues=cues,
            text=item.text,
            extras={"aggregate": AGGREGATE, "windows": self.count, "span": [0, len(item.text)],
                    **_cue_method(self.rec)},
        )


def _cue_method(rec: TextOnnxRecognizer) -> dict[str, str]:
    # windows always get the one-pass word cues; say so when occlusion was asked for
    return {"cue_method": "decomposition"} if rec.cues != "decomposition" else {}
