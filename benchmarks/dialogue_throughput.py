"""Throughput and peak memory of the shipped conversation model on 2 CPU cores.

Usage: python benchmarks/dialogue_throughput.py [--repeats 3] [--threads 2] [--dump out.jsonl]

Dialogues: the MELD test split (280 dialogues, 2,610 turns) when ../shared/datasets is
present, else the shipped example dialogue repeated.  Times the public path,
``ContextualErc.analyze_dialogues`` (text encoder, word cues, context GRU, emotion causes
and cause spans), after one warm-up pass; prints turns/s, dialogues/s and peak RSS.
``--dump`` writes each turn's label, scores, VAD and causes, to compare two versions.
"""

from __future__ import annotations

import argparse
import csv
import json
import resource
import time
from pathlib import Path
from typing import Any


def _dialogues() -> tuple[list[Any], str]:
    from affectlens.dialogue.io import build_dialogue

    try:
        from affectlens.bench.datasets import load_meld

        rows: dict[str, list[dict[str, Any]]] = {}
        for u in load_meld("test"):
            rows.setdefault(u.dialogue_id, []).append({"speaker": u.speaker, "text": u.text, "turn": u.turn})
        source = "MELD test split"
    except FileNotFoundError:
        example = Path(__file__).resolve().parents[1] / "src/affectlens/examples/dialogue.csv"
        with example.open(encoding="utf-8", newline="") as handle:
            table = list(csv.DictReader(handle))
        rows = {f"example-{k}": [dict(r) for r in table] for k in range(100)}
        source = "the shipped example dialogue, 100 copies (MELD not found)"
    return [build_dialogue(key, turns) for key, turns in rows.items()], source


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--dump", default=None, help="write the per-turn outputs here (jsonl)")
    args = parser.parse_args()

    from affectlens.dialogue.context_model import TURN_ENCODER_FILE, TURN_ENCODER_SESSION_CONFIG, ContextualErc
    from affectlens.recognizers.text_onnx import TextOnnxRecognizer

    dialogues, source = _dialogues()
    n_turns = sum(len(d.turns) for d in dialogues)
    text_model = TextOnnxRecognizer(threads=args.threads, session_config=TURN_ENCODER_SESSION_CONFIG,
                                  model_file=TURN_ENCODER_FILE)
    model = ContextualErc(text_model=text_model, threads=1)
    t0 = time.perf_counter()
    model.load()
    load_s = time.perf_counter() - t0
    results = model.analyze_dialogues(dialogues[:4])  # warm-up
    seconds = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        results = model.analyze_dialogues(dialogues)
        seconds.append(time.perf_counter() - t0)
    best = min(seconds)
    n_causes = sum(len(s.extras.get("causes", ())) for r in results for s in r.segments)
    print(f"{source}: {len(dialogues)} dialogues, {n_turns} turns; load {load_s:.2f} s")
    print(f"best of {args.repeats}: {best:.2f} s -> {n_turns / best:.0f} turns/s, {len(dialogues) / best:.1f} "
          f"dialogues/s (all runs: {', '.join(f'{s:.2f}' for s in seconds)} s); {n_causes} causes found")
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    if args.dump:
        with open(args.dump, "w", encoding="utf-8") as handle:
            for r in results:
                for s in r.segments:
                    vad = [s.vad.valence, s.vad.arousal, s.vad.dominance] if s.vad else None
                    handle.write(json.dumps({"dialogue": s.record_id, "turn": s.turn, "label": s.labels[0],
                                             "scores": s.scores, "vad": vad,
                                             "causes": s.extras.get("causes", [])}) + "\n")


if __name__ == "__main__":
    main()
