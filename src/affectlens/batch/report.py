"""``affectlens report``: corpus analytics with DuckDB, straight over the Parquet shards.

Nothing is loaded into pandas: DuckDB scans ``shards/*.parquet`` and either writes a CSV
itself (``COPY ... TO``) or returns a small aggregate for a plot.  Outputs, in the report
folder:

* ``prevalence.csv``: per label, the share of analysed rows predicting it (``share``),
  having it as top label (``top_share``) and its mean score;
* ``prevalence_by_<period>.csv`` (day / week / month, when a ``--time`` column was given)
  and ``prevalence_by_<group>.csv`` (each ``--group`` column): the same per bucket;
* ``cue_words.csv``: the top cue words per emotion (how often each word was a top cue);
* ``shifts_by_<group>.csv`` (each row where the top emotion differs from the previous row
  of the same group, in time order) and ``transitions_by_<group>.csv`` (from -> to counts);
* PNG plots (matplotlib, Agg) and ``index.html`` linking everything.

Rows with an ``error`` (no result) are left out of every aggregate and counted in the index.
"""

from __future__ import annotations

import html
import json
import re
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from affectlens.batch.manifest import MANIFEST, SHARDS

PERIODS = ("day", "week", "month")
_MAX_PLOT_LABELS = 8
_MAX_PLOT_GROUPS = 25


class ReportError(ValueError):
    """The folder is not a batch output, or the report cannot be built."""


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_") or "column"


def _time_expr(column: str) -> str:
    col = _ident(column)
    return (f"COALESCE(TRY_CAST({col} AS TIMESTAMP), "
            f"CAST(TRY_CAST({col} AS TIMESTAMPTZ) AS TIMESTAMP))")


class _Report:
    def __init__(self, batch_dir: Path, out_dir: Path, top_cues: int) -> None:
        duckdb = _need("duckdb")

        manifest_path = batch_dir / MANIFEST
        if not manifest_path.is_file():
            raise ReportError(f"{batch_dir} is not a batch output (no {MANIFEST}); run 'affectlens batch' first")
        self.manifest: dict[str, Any] = json.loads(manifest_path.read_text(encoding="utf-8"))
        shards = sorted((batch_dir / SHARDS).glob("part-*.parquet"))
        if not shards:
            raise ReportError(f"{batch_dir} holds no shards yet")
        if self.manifest.get("status") != "complete":
            warnings.warn(f"the batch in {batch_dir} is not complete; the report covers the {len(shards)} shards "
                          "written so far", UserWarning, stacklevel=3)
        self.out = out_dir
        self.top_cues = top_cues
        self.labels: list[str] = list(self.manifest.get("label_names", []))
        columns = self.manifest.get("columns", {})
        self.time: str | None = columns.get("time")
        self.groups: list[str] = list(columns.get("groups", []))
        self.con = duckdb.connect()
        self.con.execute("SET TimeZone = 'UTC'")
        glob = _literal(str(batch_dir / SHARDS / "part-*.parquet"))
        self.con.execute(f"CREATE VIEW results AS SELECT * FROM read_parquet({glob})")
        self.con.execute("CREATE VIEW ok AS SELECT * FROM results WHERE error IS NULL")
        present = {row[0] for row in self.con.execute("DESCRIBE results").fetchall()}
        self.labels = [label for label in self.labels if f"score_{label}" in present]
        self.csvs: list[tuple[str, str]] = []  # (file name, what it holds)
        self.plots: list[tuple[str, str]] = []
        self.notes: list[str] = []

    # -- helpers ---------------------------------------------------------------------------
    def copy_csv(self, sql: str, name: str, title: str) -> None:
        self.con.execute(f"COPY ({sql}) TO {_literal(str(self.out / name))} (HEADER, DELIMITER ',')")
        self.csvs.append((name, title))

    def fetch(self, sql: str) -> list[tuple[Any, ...]]:
        return list(self.con.execute(sql).fetchall())

    def prevalence_sql(self, group_expr: str, alias: str, where: str = "TRUE") -> str:
        scores = ", ".join(_ident(f"score_{label}") for label in self.labels)
        return f"""
            WITH base AS (SELECT {group_expr} AS grp, labels, top_label, {scores} FROM ok WHERE {where}),
            long AS (UNPIVOT base ON {scores} INTO NAME score_column VALUE score)
            SELECT grp AS {_ident(alias)}, substr(score_column, 7) AS label, count(*) AS rows,
                   avg(CAST(list_contains(labels, substr(score_column, 7)) AS DOUBLE)) AS share,
                   avg(CAST(top_label = substr(score_column, 7) AS DOUBLE)) AS top_share,
                   avg(score) AS mean_score
            FROM long GROUP BY ALL ORDER BY 1, 2"""

    # -- sections --------------------------------------------------------------------------
    def overall(self) -> list[tuple[str, float]]:
        sql = self.prevalence_sql("'all'", "scope")
        self.copy_csv(sql, "prevalence.csv", "Emotion prevalence over the whole corpus")
        rows = self.fetch(f"SELECT label, share FROM ({sql}) ORDER BY share DESC, label")
        return [(str(label), float(share or 0.0)) for label, share in rows]

    def over_time(self, periods: Sequence[str], top_labels: list[str]) -> None:
        if self.time is None:
            self.notes.append("No --time column: prevalence over time was not computed.")
            return
        parsed = _time_expr(self.time)
        unreadable = self.fetch(f"SELECT count(*) FROM ok WHERE {parsed} IS NULL")[0][0]
        if unreadable:
            self.notes.append(f"{unreadable:,} analysed rows have no readable time in column {self.time!r} "
                              "(left out of the time series).")
        for period in periods:
            sql = self.prevalence_sql(f"date_trunc('{period}', {parsed})", period, f"{parsed} IS NOT NULL")
            name = f"prevalence_by_{period}.csv"
            self.copy_csv(sql, name, f"Emotion prevalence by {period}")
            rows = self.fetch(f"SELECT {_ident(period)}, label, share FROM ({sql}) ORDER BY 1")
            self.plot_lines(rows, top_labels, f"prevalence_by_{period}.png",
                            f"Share of rows with each emotion, by {period}")

    def by_group(self, top_labels: list[str]) -> None:
        for group in self.groups:
            slug = _slug(group)
            sql = self.prevalence_sql(f"CAST({_ident(group)} AS VARCHAR)", group)
            self.copy_csv(sql, f"prevalence_by_{slug}.csv", f"Emotion prevalence by {group}")
            biggest = self.fetch(
                f"SELECT CAST({_ident(group)} AS VARCHAR) AS g, count(*) AS n FROM ok GROUP BY 1 "
                f"ORDER BY n DESC, g LIMIT {_MAX_PLOT_GROUPS}")
            names = [row[0] for row in biggest]
            rows = self.fetch(f"SELECT {_ident(group)}, label, share FROM ({sql})")
            self.plot_heatmap(rows, names, top_labels, f"prevalence_by_{slug}.png",
                              f"Share of rows with each emotion, by {group} (largest {len(names)} groups)")

    def cue_words(self) -> dict[str, list[tuple[str, int]]]:
        sql = f"""
            SELECT label, word, n AS count, round(weight, 4) AS total_weight FROM (
              SELECT c.label AS label, lower(c.phrase) AS word, count(*) AS n, sum(c.weight) AS weight
              FROM (SELECT unnest(cues) AS c FROM ok) WHERE c.label IS NOT NULL AND c.weight > 0 GROUP BY ALL)
            QUALIFY row_number() OVER (PARTITION BY label ORDER BY n DESC, weight DESC, word) <= {int(self.top_cues)}
            ORDER BY label, n DESC, word"""
        self.copy_csv(sql, "cue_words.csv", f"Top {self.top_cues} cue words per emotion")
        table: dict[str, list[tuple[str, int]]] = {}
        for label, word, count, _ in self.fetch(sql):
            table.setdefault(str(label), []).append((str(word), int(count)))
        return table

    def shifts(self) -> None:
        if self.time is None and not self.groups:
            self.notes.append("No --time or --group column: emotion shifts were not computed.")
            return
        order = (f"{_time_expr(self.time)} NULLS LAST, " if self.time else "") + "source, row, segment"
        time_col = f"{_ident(self.time)} AS time, " if self.time else ""
        groups: list[str | None] = list(self.groups) or [None]
        for group in groups:
            grp = f"CAST({_ident(group)} AS VARCHAR)" if group else "'all'"
            alias = group or "scope"
            slug = _slug(group) if group else "corpus"
            sql = f"""
                WITH seq AS (
                  SELECT {grp} AS grp, {time_col} source, row, record_id, top_label,
                         lag(top_label) OVER (PARTITION BY {grp} ORDER BY {order}) AS previous
                  FROM ok)
                SELECT grp AS {_ident(alias)}, {"time, " if self.time else ""} source, row, record_id,
                       previous AS from_label, top_label AS to_label
                FROM seq WHERE previous IS NOT NULL AND previous <> top_label"""
            self.copy_csv(sql + " ORDER BY 1, source, row", f"shifts_by_{slug}.csv",
                          f"Rows where the top emotion changes within each {alias}"
                          + (" (in time order)" if self.time else " (in input order)"))
            transitions = (f"SELECT from_label, to_label, count(*) AS count FROM ({sql}) "
                           "GROUP BY ALL ORDER BY 3 DESC, 1, 2")
            self.copy_csv(transitions, f"transitions_by_{slug}.csv", f"Top-emotion transitions within each {alias}")
            rows = self.fetch(transitions)
            self.plot_transitions(rows, f"transitions_by_{slug}.png", f"Top-emotion transitions within each {alias}")

    # -- plots -----------------------------------------------------------------------------
    def _pyplot(self) -> Any:
        matplotlib = _need("matplotlib")
        matplotlib.use("Agg")  # files only, never a window
        import matplotlib.pyplot as plt

        return plt

    def _save(self, fig: Any, name: str, title: str) -> None:
        fig.tight_layout()
        fig.savefig(self.out / name, dpi=110)
        self._pyplot().close(fig)
        self.plots.append((name, title))

    def plot_bars(self, ranked: list[tuple[str, float]], name: str, title: str) -> None:
        plt = self._pyplot()
        fig, ax = plt.subplots(figsize=(8, max(3.0, 0.28 * len(ranked))))
        ax.barh([label for label, _ in reversed(ranked)], [share for _, share in reversed(ranked)], color="#4c72b0")
        ax.set_xlabel("share of analysed rows")
        ax.set_title(title)
        self._save(fig, name, title)

    def plot_lines(self, rows: list[tuple[Any, ...]], labels: list[str], name: str, title: str) -> None:
        if not rows:
            return
        plt = self._pyplot()
        series: dict[str, dict[Any, float]] = {}
        for when, label, share in rows:
            if label in labels:
                series.setdefault(label, {})[when] = float(share or 0.0)
        fig, ax = plt.subplots(figsize=(9, 4.5))
        for label in labels:
            points = sorted(series.get(label, {}).items())
            if points:
                ax.plot([p[0] for p in points], [p[1] for p in points], marker="o", markersize=3, label=label)
        ax.set_ylabel("share of rows")
        ax.set_title(title)
        ax.legend(fontsize=8, ncol=2)
        fig.autofmt_xdate()
        self._save(fig, name, title)

    def plot_heatmap(self, rows: list[tuple[Any, ...]], groups: list[str], labels: list[str], name: str,
                     title: str) -> None:
        if not rows or not groups:
            return
        import numpy as np

        plt = self._pyplot()
        index = {g: i for i, g in enumerate(groups)}
        columns = {label: j for j, label in enumerate(labels)}
        grid = np.zeros((len(groups), len(labels)))
        for group, label, share in rows:
            if str(group) in index and label in columns:
                grid[index[str(group)], columns[label]] = float(share or 0.0)
        fig, ax = plt.subplots(figsize=(1.0 + 0.8 * len(labels), 1.2 + 0.35 * len(groups)))
        image = ax.imshow(grid, aspect="auto", cmap="viridis")
        ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
        ax.set_yticks(range(len(groups)), [g[:30] for g in groups])
        fig.colorbar(image, ax=ax, label="share of rows")
        ax.set_title(title, fontsize=10)
        self._save(fig, name, title)

    def plot_transitions(self, rows: list[tuple[Any, ...]], name: str, title: str) -> None:
        if not rows:
            return
        import numpy as np

        plt = self._pyplot()
        totals: dict[str, int] = {}
        for source, target, count in rows:
            totals[source] = totals.get(source, 0) + int(count)
            totals[target] = totals.get(target, 0) + int(count)
        names = sorted(totals, key=lambda k: -totals[k])[:12]
        where = {n: i for i, n in enumerate(names)}
        grid = np.zeros((len(names), len(names)))
        for source, target, count in rows:
            if source in where and target in where:
                grid[where[source], where[target]] = int(count)
        fig, ax = plt.subplots(figsize=(2 + 0.6 * len(names), 1.5 + 0.5 * len(names)))
        image = ax.imshow(grid, cmap="magma")
        ax.set_xticks(range(len(names)), names, rotation=45, ha="right")
        ax.set_yticks(range(len(names)), names)
        ax.set_xlabel("to")
        ax.set_ylabel("from")
        fig.colorbar(image, ax=ax, label="shifts")
        ax.set_title(title, fontsize=10)
        self._save(fig, name, title)

    # -- index -----------------------------------------------------------------------------
    def write_index(self, cues: dict[str, list[tuple[str, int]]]) -> Path:
        esc = html.escape
        counts = self.manifest.get("counts", {})
        totals = self.fetch("SELECT count(*), count(*) FILTER (WHERE error IS NULL) FROM results")[0]
        model = ", ".join(f"{m.get('name')}" for m in self.manifest.get("identity", {}).get("model", []))
        parts = [
            "<!doctype html><html><head><meta charset='utf-8'><title>affectlens report</title>",
            "<style>body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em}"
            "img{max-width:100%;border:1px solid #ddd;margin:.5em 0}table{border-collapse:collapse}"
            "td,th{border:1px solid #ccc;padding:2px 8px;text-align:left;vertical-align:top}</style></head><body>",
            "<h1>affectlens report</h1>",
            f"<p>Model: {esc(model or 'unknown')}. Output rows: {totals[0]:,}; analysed: {totals[1]:,}; "
            f"without result: {totals[0] - totals[1]:,} (see <code>errors.jsonl</code> in the batch folder). "
            f"Input rows: {counts.get('input_rows', 'n/a')}; "
            f"batch status: {esc(str(self.manifest.get('status')))}.</p>",
        ]
        parts += [f"<p><em>{esc(note)}</em></p>" for note in self.notes]
        parts.append("<h2>Tables (CSV)</h2><ul>")
        parts += [f"<li><a href='{esc(name)}'>{esc(name)}</a>: {esc(title)}</li>" for name, title in self.csvs]
        parts.append("</ul><h2>Plots</h2>")
        for name, title in self.plots:
            parts.append(f"<h3>{esc(title)}</h3><a href='{esc(name)}'><img src='{esc(name)}' alt='{esc(title)}'></a>")
        parts.append("<h2>Top cue words per emotion</h2><table><tr><th>emotion</th><th>words (count)</th></tr>")
        for label in sorted(cues):
            words = ", ".join(f"{esc(word)} ({count})" for word, count in cues[label])
            parts.append(f"<tr><td>{esc(label)}</td><td>{words}</td></tr>")
        parts.append("</table></body></html>\n")
        index = self.out / "index.html"
        index.write_text("\n".join(parts), encoding="utf-8")
        return index


def build_report(
    batch_output: str | Path,
    out_dir: str | Path | None = None,
    *,
    periods: Sequence[str] = ("day", "week"),
    top_cues: int = 10,
    plots: bool = True,
) -> Path:
    """Write the report of a batch output folder; returns the path of ``index.html``."""
    for period in periods:
        if period not in PERIODS:
            raise ReportError(f"unknown period {period!r} (choose from {', '.join(PERIODS)})")
    batch_dir = Path(batch_output).expanduser()
    out = Path(out_dir).expanduser() if out_dir is not None else batch_dir / "report"
    out.mkdir(parents=True, exist_ok=True)
    report = _Report(batch_dir, out, top_cues)
    if not report.labels:
        raise ReportError(f"{batch_dir} has no score columns to aggregate")
    ranked = report.overall()
    top_labels = [label for label, _ in ranked[:_MAX_PLOT_LABELS]]
    if plots:
        report.plot_bars(ranked, "prevalence.png", "Share of analysed rows with each emotion")
    else:
        report.plot_lines = report.plot_heatmap = report.plot_transitions = _no_plot  # type: ignore[method-assign,assignment]
    report.over_time(periods, top_labels)
    report.by_group(top_labels)
    cues = report.cue_words()
    report.shifts()
    return report.write_index(cues)


def _need(module: str) -> Any:
    import importlib

    from affectlens.processing import MissingDependency

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingDependency(
            f"affectlens report needs {module}: pip install 'affectlens[batch]' (duckdb, matplotlib)"
        ) from exc


def _no_plot(*args: Any, **kwargs: Any) -> None:
    return None
