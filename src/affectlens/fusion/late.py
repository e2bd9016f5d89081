"""Late fusion of per-modality results, a disagreement score, and a textual rationale.

Pure functions over ``Segment`` s (no model, no file):

* ``shared_scores`` expresses a segment's scores in the shared label set through
  ``taxonomy.convert_scores`` (the one mapping everyone uses).
* ``fuse_segments`` combines one time window's segments (one per modality, any may be
  missing) into one ``Segment`` of modality ``FUSED``: a weighted mean of the shared
  distributions (weights renormalised over the modalities present), a weighted mean of
  their VAD, the modalities' own results kept in ``extras["modalities"]``, the
  disagreement in ``extras["disagreement"]``, and a rationale cue.
* ``disagreement`` is the generalised Jensen-Shannon divergence of the modalities'
  shared distributions, equal weights, in bits, divided by ``log2(n)`` so that it lies in
  [0, 1] for any number ``n >= 2`` of modalities (0: identical; 1: disjoint).
* ``fuse_timeline`` aligns streams of time-stamped segments on reference windows
  (e.g. the transcript's turns) by time overlap and fuses each window.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from affectlens.types import VAD, Cue, EmotionResult, Modality, Provenance, Segment

DEFAULT_LABEL_SET = "ekman"
FUSER_NAME = "fusion.late.v1"
FUSER_VERSION = "1"
#: how the rationale names each modality
MODALITY_WORDS = {"text": "words", "speech": "voice", "face": "face", "dialogue": "context"}


def shared_scores(segment: Segment, label_set: str) -> dict[str, float]:
    """The segment's scores over ``label_set`` as a distribution (sums to 1; empty if all zero)."""
    if segment.label_set == label_set:
        scores = {k: float(v) for k, v in segment.scores.items()}
    else:
        from affectlens.taxonomy import convert_scores

        scores = convert_scores(segment.scores, segment.label_set, label_set)
    total = sum(scores.values())
    return {k: v / total for k, v in scores.items()} if total > 0 else {}


def _entropy_bits(p: Sequence[float]) -> float:
    return -sum(x * math.log2(x) for x in p if x > 0)


def js_divergence(distributions: Sequence[Mapping[str, float]], weights: Sequence[float] | None = None) -> float:
    """Generalised Jensen-Shannon divergence in bits: H(sum w_i p_i) - sum w_i H(p_i).

    The distributions are normalised first; ``weights`` default to equal.  For two
    distributions with equal weights it lies in [0, 1].
    """
    if not distributions:
        return 0.0
    labels = sorted({k for d in distributions for k in d})
    vectors = []
    for d in distributions:
        total = sum(max(0.0, float(d.get(k, 0.0))) for k in labels)
        if total <= 0:
            raise ValueError("a distribution has no mass")
        vectors.append([max(0.0, float(d.get(k, 0.0))) / total for k in labels])
    w = [1.0 / len(vectors)] * len(vectors) if weights is None else [float(x) for x in weights]
    if len(w) != len(vectors) or any(x < 0 for x in w) or sum(w) <= 0:
        raise ValueError("weights must be one non-negative number per distribution, not all zero")
    s = sum(w)
    w = [x / s for x in w]
    mixture = [sum(wi * v[j] for wi, v in zip(w, vectors, strict=True)) for j in range(len(labels))]
    value = _entropy_bits(mixture) - sum(wi * _entropy_bits(v) for wi, v in zip(w, vectors, strict=True))
    return max(0.0, value)


def disagreement(distributions: Mapping[str, Mapping[str, float]]) -> float | None:
    """How much the modalities disagree, in [0, 1]: equal-weight JSD / log2(n). None with < 2 modalities."""
    present = [d for d in distributions.values() if d]
    if len(present) < 2:
        return None
    return min(1.0, js_divergence(present) / math.log2(len(present)))


def _quote_words(segment: Segment, limit: int) -> list[str]:
    words: list[str] = []
    for cue in sorted(segment.cues, key=lambda c: -c.weight):
        if cue.weight <= 0 or cue.kind != "word":
            continue
        if cue.span is not None and segment.text:
            phrase = segment.text[cue.span[0]:cue.span[1]]
        else:
            phrase = cue.phrase.split(" \u2192 ")[0].strip('"')
        if phrase and f"'{phrase}'" not in words:
            words.append(f"'{phrase}'")
        if len(words) >= limit:
            break
    return words


def modality_rationale(segment: Segment, limit: int = 3) -> str | None:
    """One modality's part of the rationale: its strongest cues, e.g. "voice: pitch +2 SD, loud"."""
    name = MODALITY_WORDS.get(segment.modality.value, segment.modality.value)
    if segment.modality is Modality.TEXT:
        parts = _quote_words(segment, limit)
    else:
        ranked = sorted((c for c in segment.cues if c.kind != "emotion_shift"), key=lambda c: -abs(c.weight))
        parts = []
        for cue in ranked:
            if cue.phrase not in parts:
                parts.append(cue.phrase)
            if len(parts) >= limit:
                break
    if not parts:
        return None
    return f"{name}: {', '.join(parts)}"


def rationale(segments: Mapping[str, Segment], limit: int = 3) -> str:
    """The textualised cues of every present modality, "words: ...; voice: ...; face: ..."."""
    order = ["text", "speech", "face"]
    keys = sorted(segments, key=lambda k: (order.index(k) if k in order else len(order), k))
    parts = [p for k in keys if (p := modality_rationale(segments[k], limit)) is not None]
    return "; ".join(parts)


@dataclass(frozen=True)
class FusionConfig:
    label_set: str = DEFAULT_LABEL_SET
    weights: Mapping[str, float] | None = None  # modality value -> weight; default 1 each
    rationale_cues: int = 3

    def weight(self, modality: str) -> float:
        if self.weights is None:
            return 1.0
        return float(self.weights.get(modality, 0.0))


def fuse_segments(segments: Mapping[str, Segment | None], config: FusionConfig | None = None, *,
                  start: float | None = None, end: float | None = None,
                  expected: Sequence[str] = ("text", "speech", "face")) -> Segment | None:
    """One fused segment from one window's per-modality segments (keys: modality values).

    Modalities that are None, have no scores or weight 0 are left out and listed in
    ``extras["missing"]``; weights are renormalised over the rest.  None when nothing is left.
    """
    config = config or FusionConfig()
    present: dict[str, Segment] = {}
    dists: dict[str, dict[str, float]] = {}
    missing = [m for m in expected if segments.get(m) is None]
    for modality, seg in segments.items():
        if seg is None:
            continue
        dist = shared_scores(seg, config.label_set)
        if not dist or config.weight(modality) <= 0:
            missing.append(modality)
            continue
        present[modality] = seg
        dists[modality] = dist
    if not present:
        return None
    total_w = sum(config.weight(m) for m in present)
    weights = {m: config.weight(m) / total_w for m in present}
    labels = sorted({k for d in dists.values() for k in d})
    fused = {k: sum(weights[m] * dists[m].get(k, 0.0) for m in present) for k in labels}
    top = max(fused, key=lambda k: fused[k])
    vads = [(weights[m], s.vad) for m, s in present.items() if s.vad is not None]
    vad = None
    if vads:
        w_sum = sum(w for w, _ in vads)
        vad = VAD(sum(w * v.valence for w, v in vads) / w_sum, sum(w * v.arousal for w, v in vads) / w_sum,
                  sum(w * v.dominance for w, v in vads) / w_sum)
    score = disagreement(dists)
    why = rationale(present, config.rationale_cues)
    cues: list[Cue] = []
    if why:
        cues.append(Cue(kind="rationale", phrase=why, weight=fused[top], label=top))
    if score is not None:
        cues.append(Cue(kind="disagreement", phrase=f"modalities disagree: JSD {score:.2f}", weight=0.0,
                        value=round(score, 4)))
    first = next(iter(present.values()))
    starts = [s.start for s in present.values() if s.start is not None]
    ends = [s.end for s in present.values() if s.end is not None]
    speaker = next((s.speaker for s in present.values() if s.speaker), None)
    text = present["text"].text if "text" in present else None
    return Segment(
        modality=Modality.FUSED, label_set=config.label_set, scores=fused, labels=(top,), vad=vad,
        confidence=fused[top], provenance=Provenance(FUSER_NAME, FUSER_VERSION), cues=tuple(cues),
        source=first.source, text=text,
        start=start if start is not None else (min(starts) if starts else None),
        end=end if end is not None else (max(ends) if ends else None),
        turn=next((s.turn for s in present.values() if s.turn is not None), None), speaker=speaker,
        record_id=first.record_id,
        extras={"modalities": {m: s.to_dict() for m, s in present.items()},
                "shared_scores": {m: {k: round(v, 4) for k, v in d.items()} for m, d in dists.items()},
                "weights": {m: round(w, 4) for m, w in weights.items()},
                "missing": sorted(set(missing)), "disagreement": None if score is None else round(score, 4),
                "rationale": why},
    )


def _overlap(a: tuple[float, float], b: tuple[float, float]) -> float:
    return max(0.0, min(a[1], b[1]) - max(a[0], b[0]))


def pool_window(segments: Sequence[Segment], window: tuple[float, float], label_set: str) -> Segment | None:
    """The segments of one modality that overlap ``window``, pooled into one.

    Scores (in ``label_set``) and VAD are averaged with the overlap duration as weight;
    cues of all overlapping segments are kept.  None when nothing overlaps.
    """
    from dataclasses import replace

    hits = [(s, _overlap(window, (s.start, s.end))) for s in segments
            if s.start is not None and s.end is not None and s.scores]
    hits = [(s, w) for s, w in hits if w > 0]
    if not hits:
        return None
    total = sum(w for _, w in hits)
    dists = [(shared_scores(s, label_set), w / total) for s, w in hits]
    labels = sorted({k for d, _ in dists for k in d})
    scores = {k: sum(w * d.get(k, 0.0) for d, w in dists) for k in labels}
    vads = [(w, s.vad) for s, w in hits if s.vad is not None]
    vad = None
    if vads:
        ws = sum(w for w, _ in vads)
        vad = VAD(sum(w * v.valence for w, v in vads) / ws, sum(w * v.arousal for w, v in vads) / ws,
                  sum(w * v.dominance for w, v in vads) / ws)
    base = max(hits, key=lambda h: h[1])[0]
    top = max(scores, key=lambda k: scores[k]) if scores else ""
    return replace(base, label_set=label_set, scores=scores, labels=(top,) if top else (), vad=vad,
                   confidence=scores.get(top, 0.0), start=window[0], end=window[1],
                   cues=tuple(c for s, _ in hits for c in s.cues),
                   extras={**dict(base.extras), "pooled_segments": len(hits)})


def fuse_timeline(streams: Mapping[str, Sequence[Segment]], windows: Sequence[tuple[float, float]] | None = None,
                  config: FusionConfig | None = None, reference: str = "text") -> EmotionResult:
    """Fuse time-stamped streams (modality value -> segments) window by window.

    ``windows`` default to the ``reference`` stream's segments (e.g. transcript turns);
    a reference segment is used as it is for its own window (text is not pooled).
    Windows where no modality has anything are reported in ``warnings``.
    """
    config = config or FusionConfig()
    ref = [s for s in streams.get(reference, ()) if s.start is not None and s.end is not None]
    if windows is None:
        windows = [(float(s.start), float(s.end)) for s in ref]  # type: ignore[arg-type]
        by_window: dict[int, Segment] = dict(enumerate(ref))
    else:
        by_window = {}
    out: list[Segment] = []
    warnings: list[str] = []
    for i, window in enumerate(windows):
        if window[1] < window[0]:
            warnings.append(f"window {i} ends before it starts ({window[0]:.3f} > {window[1]:.3f} s); skipped")
            continue
        parts: dict[str, Segment | None] = {}
        for modality, segments in streams.items():
            if modality == reference and i in by_window:
                parts[modality] = by_window[i]
            else:
                parts[modality] = pool_window(segments, window, config.label_set)
        fused = fuse_segments(parts, config, start=window[0], end=window[1])
        if fused is None:
            warnings.append(f"window {i} ({window[0]:.2f}-{window[1]:.2f} s): no modality has a result")
            continue
        out.append(fused)
    return EmotionResult(tuple(out), warnings=tuple(warnings))
