"""Emotion over time: the per-segment table and the timeline plot of time-stamped results.

Why a module: the CLI stays thin (it only wires ``--plot`` to ``TimelineCollector``), and
the same table and plot serve every time-based modality (speech now, video later).
matplotlib is imported only when a plot is drawn.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from affectlens.label_colors import label_color
from affectlens.types import EmotionResult, Segment


def is_timeline(result: EmotionResult) -> bool:
    """A result whose segments are stretches of time (speech), shown as a timeline table."""
    return bool(result.segments) and all(s.start is not None and s.text is None for s in result.segments)


def main_cue(segment: Segment) -> str:
    """The strongest cue's phrase (by |z| for prosody, else by |weight|)."""
    if not segment.cues:
        return ""
    best = max(segment.cues, key=lambda c: abs(c.value) if c.value is not None else abs(c.weight))
    return best.phrase


def _clock(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    minutes, rest = divmod(float(seconds), 60.0)
    hours, minutes = divmod(int(minutes), 60)
    return f"{hours}:{minutes:02d}:{rest:05.2f}" if hours else f"{minutes:d}:{rest:05.2f}"


def render_timeline(result: EmotionResult, console: Console, *, title: str | None = None) -> int:
    """One row per segment: start, end, top emotion (score), valence, arousal, main cue."""
    table = Table(title=title or result.source or result.record_id, show_lines=False)
    tracked = any(seg.track_id is not None for seg in result.segments)  # faces in a video
    columns = (("start", "right"), ("end", "right"), *((("track", "right"),) if tracked else ()),
               ("emotion", "left"), ("valence", "right"), ("arousal", "right"), ("main cue", "left"))
    for name, justify in columns:
        table.add_column(name, justify=justify, no_wrap=name != "main cue")  # type: ignore[arg-type]
    for seg in result.segments:
        top = seg.top_label
        vad = seg.vad
        track = (f"#{seg.track_id}" if seg.track_id is not None else "—",) if tracked else ()
        table.add_row(
            _clock(seg.start), _clock(seg.end), *track,
            Text(f"{top} {seg.scores.get(top, 0.0):.2f}", style=label_color(top)),
            f"{vad.valence:+.2f}" if vad else "—", f"{vad.arousal:+.2f}" if vad else "—",
            main_cue(seg),
        )
    console.print(table)
    for warning in result.warnings:
        console.print(Text(f"⚠ {warning}", style="yellow"))
    return len(result.segments)


@dataclass
class TimelineCollector:
    """Keeps the time-stamped segments flowing past (small: no audio), to plot them afterwards."""

    segments: list[Segment] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)

    def watch(self, results: Iterable[EmotionResult]) -> Iterator[EmotionResult]:
        for result in results:
            if is_timeline(result):
                self.segments.extend(result.segments)
                if result.source and result.source not in self.sources:
                    self.sources.append(result.source)
            yield result

    def plot(self, path: str | Path) -> Path:
        return plot_timeline(self.segments, path, title=", ".join(Path(s).name for s in self.sources[:3]))


def plot_timeline(segments: list[Segment], path: str | Path, *, title: str = "") -> Path:
    """PNG/SVG/PDF: valence and arousal per segment (top), the top emotion as coloured bars (bottom)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    timed = [s for s in segments if s.start is not None and s.end is not None]
    fig, (ax_va, ax_em) = plt.subplots(2, 1, figsize=(12, 5), sharex=True,
                                       gridspec_kw={"height_ratios": [2, 1.4]})
    if not timed:
        ax_va.text(0.5, 0.5, "no timed segments", ha="center", va="center", transform=ax_va.transAxes)
    # faces in a video: one line per track (several people would otherwise zigzag into one line)
    tracks = sorted({s.track_id for s in timed if s.track_id is not None})
    groups = [(f" (track {k})", [s for s in timed if s.track_id == k]) for k in tracks] if len(tracks) > 1 \
        else [("", timed)]
    for n, (suffix, group) in enumerate(groups):
        style = ("-", "--", ":", "-.")[n % 4]
        for dim, color in (("valence", "tab:green"), ("arousal", "tab:red")):
            xs: list[float] = []
            ys: list[float] = []
            for seg in group:
                value = getattr(seg.vad, dim) if seg.vad else float("nan")
                xs.extend([float(seg.start or 0.0), float(seg.end or 0.0), float("nan")])
                ys.extend([value, value, float("nan")])
            ax_va.plot(xs, ys, color=color, linewidth=3, label=dim + suffix, solid_capstyle="butt", linestyle=style)
            mids = [((s.start or 0.0) + (s.end or 0.0)) / 2 for s in group]
            vals = [getattr(s.vad, dim) if s.vad else float("nan") for s in group]
            ax_va.plot(mids, vals, color=color, linewidth=0.8, alpha=0.5, linestyle=style)
    ax_va.axhline(0.0, color="grey", linewidth=0.6)
    ax_va.set_ylim(-1.05, 1.05)
    ax_va.set_ylabel("valence / arousal")
    ax_va.legend(loc="upper right", fontsize=8)
    # one row per (track, emotion): bars of different faces must not share a row
    rows: list[tuple[str, list[Segment]]] = []
    for suffix, group in groups:
        counts = Counter(s.top_label for s in group)
        rows += [(f"{suffix.strip(' ()')}: {label}" if suffix else label,
                  [s for s in group if s.top_label == label]) for label, _ in counts.most_common()]
    palette = plt.get_cmap("tab10")
    colours: dict[str, int] = {}
    for row, (_, members) in enumerate(rows):
        label = members[0].top_label
        colour = palette(colours.setdefault(label, len(colours)) % 10)
        for seg in members:
            x0, width = float(seg.start or 0.0), float((seg.end or 0.0) - (seg.start or 0.0))
            ax_em.broken_barh([(x0, width)], (row - 0.4, 0.8), facecolors=colour,
                              alpha=0.35 + 0.65 * float(seg.scores.get(label, 0.5)))
    ax_em.set_yticks(range(len(rows)), [name for name, _ in rows])
    ax_em.set_ylim(-0.6, max(len(rows), 1) - 0.4)
    ax_em.set_xlabel("time (s)")
    ax_em.set_ylabel("top emotion")
    fig.suptitle(title or "emotion timeline")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def render_results(results: Iterable[EmotionResult], console: Console, fallback: Any) -> int:
    """Timeline tables for time-stamped results, ``fallback(results, console)`` for the others, in order."""
    count = 0
    pending: list[EmotionResult] = []
    for result in results:
        if is_timeline(result):
            if pending:
                count += fallback(pending, console)
                pending = []
            render_timeline(result, console)
            count += 1
        else:
            pending.append(result)
            if len(pending) >= 50:
                count += fallback(pending, console)
                pending = []
    if pending:
        count += fallback(pending, console)
    return count
