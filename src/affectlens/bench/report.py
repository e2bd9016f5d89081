"""A ``BenchReport`` as JSON (everything) and as a Markdown table (what a document shows).

The Markdown names the data, split, n (and says so loudly when ``--limit`` cut it), the
metrics, the machine, the date and the command; each model in the run is a row; n/a cells
carry a footnote with the reason.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from affectlens.bench.runner import BenchReport, ModelRun

if TYPE_CHECKING:
    import numpy as np


def report_to_json(report: BenchReport) -> str:
    return json.dumps(report.to_dict(), indent=2, ensure_ascii=False)


def report_from_json(text: str) -> BenchReport:
    return BenchReport.from_dict(json.loads(text))


def _number(value: float | None, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def _machine_line(report: BenchReport) -> str:
    m = report.machine
    parts = [f"{m.get('cores')} cores", str(m.get("cpu"))]
    if m.get("memory_gib"):
        parts.append(f"{m['memory_gib']} GiB RAM")
    parts.append(f"Python {m.get('python')}")
    if m.get("onnxruntime"):
        parts.append(f"onnxruntime {m['onnxruntime']}")
    parts.append(str(m.get("os")))
    if m.get("load_average"):
        parts.append("load average at end " + " / ".join(str(x) for x in m["load_average"]))
    return ", ".join(parts)


def preamble(report: BenchReport) -> list[str]:
    """The lines above the table: data, split, n, metrics, machine, date, command, methods."""
    size = f"n = {report.n}"
    if report.limited:
        size += (f" (**LIMITED to the first {report.limit} examples: not the full split, not comparable "
                 "with published numbers**)")
    lines = [
        f"- Data: {report.data}; split `{report.split}`; {size}",
        f"- Read from: `{report.data_path}`",
        "- Metrics: " + "; ".join(f"`{name}`: {text}" for name, text in report.metrics.items()),
        f"- Machine: {_machine_line(report)}",
        f"- Date: {report.date}; affectlens {report.affectlens_version}",
    ]
    if report.command:
        lines.append(f"- Command: `{report.command}`")
    lines.append(f"- Throughput: {report.throughput_method}. Memory: {report.memory_method}.")
    if report.headline and report.bootstrap:
        lines.append(f"- Brackets: 95% bootstrap interval ({report.bootstrap} resamples of the examples).")
    return lines


def table(report: BenchReport) -> tuple[list[str], list[list[str]], list[str]]:
    """(header, one row per model, footnotes): the table both renderings show."""
    names = list(report.metrics)
    header = ["model", "version", "label set", *names, "items/s", "load s", "peak RSS MiB", "model RSS MiB"]
    notes = _Footnotes()
    rows = [_row(run, names, notes) for run in report.models]
    return header, rows, notes.lines()


def report_to_markdown(report: BenchReport) -> str:
    header, rows, footnotes = table(report)
    lines = [f"### {report.title}: `{report.task}`, split `{report.split}`", "", *preamble(report), ""]
    lines.append("| " + " | ".join(header) + " |")
    lines.append("|" + "|".join("---" if i < 3 else "---:" for i in range(len(header))) + "|")
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    if footnotes:
        lines += ["", *footnotes]
    lines.append("")
    return "\n".join(lines)


def print_report(report: BenchReport, console: Any | None = None) -> None:
    """Show the report in a terminal with Rich, transposed (one column per model) so it fits 80 columns."""
    from rich.console import Console
    from rich.markdown import Markdown
    from rich.table import Table

    console = console or Console()
    header, rows, footnotes = table(report)
    keep = ("- Data:", "- Machine:", "- Date:", "- Brackets:")
    console.print(Markdown("\n".join([f"### {report.title}: `{report.task}`, split `{report.split}`", "",
                                      *(line for line in preamble(report) if line.startswith(keep))])))
    grid = Table()
    grid.add_column("", overflow="fold")
    for row in rows:
        grid.add_column(row[0].replace("`", ""), justify="right", overflow="fold")
    for i, name in enumerate(header[1:], start=1):
        grid.add_row(name, *(row[i] for row in rows))
    console.print(grid)
    for line in footnotes:
        console.print(line.removeprefix("- ").replace("`", ""), markup=False, highlight=False)


class _Footnotes:
    """Numbered notes under the table; the same text gets the same number."""

    def __init__(self) -> None:
        self.texts: list[str] = []

    def mark(self, text: str) -> str:
        if text not in self.texts:
            self.texts.append(text)
        return f"[{self.texts.index(text) + 1}]"

    def lines(self) -> list[str]:
        return [f"- [{i}] {text}" for i, text in enumerate(self.texts, start=1)]


def _row(run: ModelRun, names: list[str], notes: _Footnotes) -> list[str]:
    if run.error:
        mark = notes.mark(f"`{run.model}` failed: {run.error}")
        return [f"`{run.model}`", run.version or "?", run.label_set or "?", f"error {mark}",
                *(["—"] * (len(names) + 3))]
    cells = [f"`{run.model}`", run.version, run.label_set]
    for name in names:
        value = run.metrics.get(name)
        if value is None:
            reason = run.notes.get(name, "not computed")
            cells.append("n/a " + notes.mark(f"`{run.model}` {name}: {reason}"))
            continue
        cell = _number(value)
        if name in run.intervals:
            low, high = run.intervals[name]
            cell += f" [{low:.3f}, {high:.3f}]"
        cells.append(cell)
    if run.n_empty:
        notes.mark(f"`{run.model}`: {run.n_empty} inputs gave an empty result (counted as no prediction)")
    if run.trained_s is not None:
        notes.mark(f"`{run.model}` trained on first use in this run: {run.trained_s:.0f} s (inside load s)")
    cells += [_number(run.items_per_s, 1), _number(run.load_s, 2), _number(run.peak_rss_mib, 0),
              _number(run.model_rss_mib, 0)]
    return cells


def scores_with_intervals(metrics: Mapping[str, Callable[[np.ndarray, np.ndarray], float]], gold: np.ndarray,
                          predicted: np.ndarray, bootstrap: int) -> dict[str, Any]:
    """``{name: value}`` rounded to 4 places, each followed by ``{name}_ci95`` (95% bootstrap
    interval, ``bootstrap`` resamples) unless ``bootstrap`` is 0."""
    from affectlens.metrics import bootstrap_ci

    out: dict[str, Any] = {}
    for name, fn in metrics.items():
        out[name] = round(fn(gold, predicted), 4)
        if bootstrap:
            low, high = bootstrap_ci(fn, gold, predicted, n_resamples=bootstrap)
            out[f"{name}_ci95"] = [round(low, 4), round(high, 4)]
    return out


def interval_cell(scores: Mapping[str, Any], key: str) -> str:
    """``scores[key]`` as ``0.123 [0.100, 0.150]`` (no interval where ``{key}_ci95`` is absent)."""
    ci = scores.get(f"{key}_ci95")
    return f"{scores[key]:.3f}" + (f" [{ci[0]:.3f}, {ci[1]:.3f}]" if ci else "")


def write_report_files(out_dir: str | Path, stem: str, json_text: str, markdown: str) -> tuple[Path, Path]:
    """Write ``<out>/<stem>.json`` (``json_text`` and a newline) and ``<out>/<stem>.md``; returns both paths."""
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    json_path = folder / f"{stem}.json"
    md_path = folder / f"{stem}.md"
    json_path.write_text(json_text + "\n", encoding="utf-8")
    md_path.write_text(markdown, encoding="utf-8")
    return json_path, md_path


def write_report(report: BenchReport, out_dir: str | Path) -> tuple[Path, Path]:
    """Write ``<out>/<task>-<split>.json`` and ``.md``; returns both paths."""
    return write_report_files(out_dir, f"{report.task}-{report.split}", report_to_json(report),
                              report_to_markdown(report))
