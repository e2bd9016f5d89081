"""One table from several ``affectlens bench speech-xcorpus`` reports (systems scored in separate runs).

    python benchmarks/speech_xcorpus_merge.py RUN1/speech-xcorpus.json RUN2/speech-xcorpus.json ... [--json OUT]

``--json OUT`` also writes the merged report (commands and dates of the runs joined by " ; "), the
form ``speech_xcorpus_export --bench`` copies into a model folder's ``metrics.json``.

The heads recipe, folds and cached features are the same in every run (and logistic regression
with lbfgs is deterministic), so a system's row does not depend on which run scored it; the
table lists each run's command and date.  Later files win where two runs scored the same row.
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from pathlib import Path

from affectlens_recipes.bench_speech_xcorpus import XcorpusReport, to_markdown


def merge(paths: list[Path]) -> tuple[XcorpusReport, list[str]]:
    merged = XcorpusReport()
    sources = []
    for path in paths:
        raw = json.loads(path.read_text(encoding="utf-8"))
        merged.loco.update(raw.get("loco", {}))
        merged.in_corpus.update(raw.get("in_corpus", {}))
        sources.append(f"`{raw.get('command', '?')}` ({raw.get('date', '?')}, {raw.get('seconds', '?')} s)")
    return merged, sources


def main() -> None:
    args = sys.argv[1:]
    out = None
    if "--json" in args:
        i = args.index("--json")
        out, args = Path(args[i + 1]), args[:i] + args[i + 2:]
    report, sources = merge([Path(p) for p in args])
    if out is not None:
        raws = [json.loads(Path(p).read_text(encoding="utf-8")) for p in args]
        report.command = " ; ".join(str(r.get("command", "?")) for r in raws)
        report.date = " ; ".join(str(r.get("date", "?")) for r in raws)
        out.write_text(json.dumps(asdict(report), indent=1) + "\n", encoding="utf-8")
    print("\n".join(f"- {s}" for s in sources) + "\n")
    print(to_markdown(report))


if __name__ == "__main__":
    main()
