"""Leave-one-corpus-out figures of the successor text model's recipe, next to the peers.

``python -m affectlens_recipes.text_xcorpus train [--recipe v3] --leave-out CORPUS`` re-trains
``text.minilm-xcorpus.v2``'s recipe without one Ekman corpus (GoEmotions always stays: v1,
the starting point, was trained on it).  This script scores each such checkpoint on the test
split of the corpus it never saw, and on MELD (which no variant saw), exactly as
``affectlens bench xcorpus`` scores its ``--model`` columns: GoEmotions probabilities summed
into the official Ekman groups (``goemotions_ekman_matrix``), argmax over the classes the corpus
can hold, macro-F1 (and weighted-F1) with a 95 % bootstrap interval (``bench.xcorpus.score``,
1,000 resamples, seed 0), on the same test texts (``load_corpus`` with ``MAX_TEST_TEXTS``).

The checkpoints are torch state dicts (fp32): their probabilities are ``sigmoid(logits)``
(no temperatures: those are fitted when a model is packaged, and the argmax over Ekman groups
barely depends on them).  ``--reference`` scores other weights the same way (a ``.pt`` state
dict, or a shipped ``model.onnx`` whose int8 weights are dequantised), so the shipped v2's own
fp32 checkpoint gives the in-domain figure through the identical path.  ``--peers`` runs the
bench's own systems on the same rows (TF-IDF + LR, NRC lexicon, v1's float graph, our frozen
xcorpus head, the in-domain head, and the shipped ``--model`` columns) via ``run_xcorpus``.

    python benchmarks/text_loco.py --cache /work/cache/text/xcorpus --out /work/cache/text/loco \\
        --loco dailydialog=/work/artifacts/loco/no-dailydialog/step1000.pt \\
        --loco isear=/work/artifacts/loco/no-isear/step1000.pt \\
        --reference v2-fp32=/work/artifacts/text2/step1000.pt \\
        --reference v1-fp32=src/affectlens/models/text-minilm-goemotions-v1/model.onnx --peers

Needs the ``train`` extra (torch, the MiniLM package) and the corpora.  Logits are cached under
``<out>/logits`` (keyed by the checkpoint's sha256 and the texts), so adding a variant later
re-scores only what is new.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from affectlens.bench.xcorpus import Score, restricted_argmax, score
from affectlens.bench.xcorpus_data import CORPORA, EKMAN7, CorpusTexts, goemotions_ekman_matrix, load_corpus
from affectlens.bench.xcorpus_features import MAX_TEST_TEXTS

MAX_PIECES = 128  # the shipped models read the first 128 word pieces of a text (the bench's first window)
PROBE = "meld"
BOOTSTRAP = 1000
PEER_MODELS = ("text.minilm-xcorpus.v4", "text.minilm-xcorpus.v3", "text.minilm-xcorpus.v2",
               "text.minilm-goemotions.v1")


def test_texts(corpus: str, root: Path | None) -> CorpusTexts:
    """The held-out test rows ``bench xcorpus`` scores: its subset, texts with an Ekman class."""
    data = load_corpus(corpus, "test", root, MAX_TEST_TEXTS.get(corpus))
    return data.select(np.flatnonzero(data.ekman >= 0))


def _digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:16]


class TorchScorer:
    """GoEmotions logits of a checkpoint (fp32 torch, one thread), cached per checkpoint and texts."""

    def __init__(self, cache: Path) -> None:
        import torch
        from tokenizers import Tokenizer

        from affectlens.pretrained import minilm_dir

        torch.set_num_threads(1)  # 2 shared cores: one thread per process runs fastest (NOTES.md)
        self.torch = torch
        self.encoder_dir = minilm_dir()
        self.tokenizer = Tokenizer.from_file(str(self.encoder_dir / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.no_truncation()
        self.cache = cache
        self._loaded: tuple[Path, Any] | None = None

    def _model(self, weights: Path) -> Any:
        if self._loaded is not None and self._loaded[0] == weights:
            return self._loaded[1]
        from affectlens_recipes.text import _build_model
        from affectlens_recipes.text_xcorpus import weights_from_onnx

        torch = self.torch
        model = _build_model(torch, self.encoder_dir)
        if weights.suffix == ".onnx":
            state = {k: torch.tensor(v) for k, v in weights_from_onnx(weights).items()}
        else:
            state = torch.load(weights, map_location="cpu", weights_only=True)
        own = model.state_dict()
        missing, _ = model.load_state_dict({k: v for k, v in state.items() if k in own}, strict=False)
        missing = [k for k in missing if not k.endswith("position_ids") and ".pooler." not in k]
        if missing:
            raise RuntimeError(f"{weights} does not fit the text model: missing {missing[:5]}")
        model.eval()
        self._loaded = (weights, model)
        return model

    def logits(self, weights: Path, data: CorpusTexts) -> np.ndarray:
        key = hashlib.sha256("\0".join(data.texts).encode("utf-8", "replace")).hexdigest()[:12]
        path = self.cache / f"{_digest(weights)}-{data.corpus}-{len(data)}-{key}.npy"
        if path.is_file():
            return np.load(path)
        from affectlens_recipes.text_xcorpus import _pad

        torch = self.torch
        model = self._model(weights)
        seqs = [enc.ids if len(enc.ids) <= MAX_PIECES else [*enc.ids[: MAX_PIECES - 1], enc.ids[-1]]
                for enc in self.tokenizer.encode_batch(data.texts)]
        order = sorted(range(len(seqs)), key=lambda i: len(seqs[i]))
        out = np.zeros((len(seqs), 28), dtype=np.float32)
        with torch.inference_mode():
            for start in range(0, len(order), 64):
                rows = order[start : start + 64]
                ids, mask = _pad(torch, [seqs[i] for i in rows])
                out[rows] = model(ids, mask)[0].numpy()
        self.cache.mkdir(parents=True, exist_ok=True)
        np.save(path, out)
        return out


def ekman_predictions(logits: np.ndarray, data: CorpusTexts) -> np.ndarray:
    """The bench's ``--model`` scoring: probabilities summed into Ekman groups, restricted argmax."""
    probs = 1.0 / (1.0 + np.exp(-logits.astype(np.float64)))
    return restricted_argmax(probs @ goemotions_ekman_matrix(), CORPORA[data.corpus].classes)


def ekman_score(logits: np.ndarray, data: CorpusTexts, bootstrap: int) -> Score:
    return score(data.ekman, ekman_predictions(logits, data), CORPORA[data.corpus].scored_over, bootstrap)


def paired_difference(data: CorpusTexts, ours: np.ndarray, theirs: np.ndarray, bootstrap: int) -> dict[str, Any]:
    """Macro-F1 of ``ours`` minus ``theirs`` (predictions) with a paired bootstrap interval (same resampled rows)."""
    from affectlens import metrics as m

    labels = [EKMAN7.index(c) for c in CORPORA[data.corpus].scored_over]

    def difference(gold: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
        return m.macro_f1(gold, a, labels) - m.macro_f1(gold, b, labels)

    interval = m.bootstrap_ci(difference, data.ekman, ours, theirs, n_resamples=bootstrap, seed=0)
    return {"difference": difference(data.ekman, ours, theirs), "interval": interval}


def _pairs(items: list[str], what: str) -> dict[str, Path]:
    out: dict[str, Path] = {}
    for item in items:
        name, sep, path = item.partition("=")
        if not sep or not name or not path:
            raise SystemExit(f"{what} takes NAME=PATH, not {item!r}")
        if not Path(path).is_file():
            raise SystemExit(f"{what} {name}: no file {path}")
        out[name] = Path(path)
    return out


def run_peers(cache_dir: Path, corpora: list[str], root: Path | None, bootstrap: int) -> dict[str, Any]:
    """``bench xcorpus``'s own systems and ``--model`` columns on the same held-out rows."""
    from affectlens.bench.xcorpus import SYSTEMS, run_xcorpus
    from affectlens.bench.xcorpus_features import FeatureCache

    cache = FeatureCache(cache_dir, root, on_progress=lambda line: print(line, file=sys.stderr, flush=True))
    report = run_xcorpus(cache, corpora, bootstrap, SYSTEMS, models=PEER_MODELS,
                         on_progress=lambda line: print(line, file=sys.stderr, flush=True))
    return {corpus: {system: asdict(s) for system, s in row.items()} for corpus, row in report.scores.items()}


def _cell(s: dict[str, Any] | None, weighted: bool = False) -> str:
    if s is None:
        return "n/a"
    if weighted:
        return f"{s['weighted_f1']:.3f}"
    low, high = s["interval"] or (float("nan"), float("nan"))
    return f"{s['macro_f1']:.3f} [{low:.3f}, {high:.3f}]"


def to_markdown(result: dict[str, Any]) -> str:
    """One row per held-out corpus (and MELD per variant): the LOCO variant next to the peers."""
    peers = result.get("peers", {})
    peer_systems = ["tfidf+lr", "nrc lexicon", "previous model", *PEER_MODELS, "xcorpus head", "in-domain"]
    references = list(result["references"])
    head = ["held-out corpus (test texts)", "**the recipe without it (LOCO)**", *references, *peer_systems]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for corpus in result["corpora"]:
        variant = result["loco"].get(corpus)
        n = variant["held_out"]["n"] if variant else result["sizes"][corpus]
        row = [f"{CORPORA[corpus].title} ({n})", f"**{_cell(variant['held_out'])}**" if variant else "n/a"]
        row += [_cell(result["references"][r].get(corpus)) for r in references]
        row += [_cell(peers.get(corpus, {}).get(s)) for s in peer_systems]
        lines.append("| " + " | ".join(row) + " |")
    for corpus, variant in result["loco"].items():
        for weighted in (False, True):
            label = f"MELD {'weighted' if weighted else 'macro'}-F1, the recipe without {corpus}"
            row = [label, _cell(variant["probe"], weighted)]
            row += [_cell(result["references"][r].get(PROBE), weighted) for r in references]
            row += [_cell(peers.get(PROBE, {}).get(s), weighted) for s in peer_systems]
            lines.append("| " + " | ".join(row) + " |")
    for corpus, variant in result["loco"].items():
        for name, diff in variant.get("minus", {}).items():
            low, high = diff["interval"]
            lines.append(f"\nLOCO minus {name} on {CORPORA[corpus].title}: {diff['difference']:+.3f} "
                         f"[{low:+.3f}, {high:+.3f}] (paired bootstrap)")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--loco", action="append", default=[], metavar="CORPUS=CHECKPOINT",
                        help="a checkpoint trained without CORPUS (repeatable)")
    parser.add_argument("--corpus", action="append", default=[], choices=sorted(set(CORPORA) - {PROBE}),
                        help="also score references and peers on this held-out corpus (no LOCO checkpoint yet)")
    parser.add_argument("--reference", action="append", default=[], metavar="NAME=WEIGHTS",
                        help="other weights (.pt or a shipped model.onnx) scored the same way on every row")
    parser.add_argument("--peers", action="store_true", help="run bench xcorpus' systems on the same rows")
    parser.add_argument("--cache", type=Path, default=None, help="bench xcorpus' feature cache (for --peers)")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--data-root", type=Path, default=None)
    parser.add_argument("--bootstrap", type=int, default=BOOTSTRAP)
    args = parser.parse_args()
    loco = _pairs(args.loco, "--loco")
    unknown = sorted(set(loco) - set(CORPORA) | ({PROBE} & set(loco)))
    if unknown or not (loco or args.corpus):
        raise SystemExit(f"--loco needs a training corpus of the bench, not {unknown or 'nothing'}")
    references = _pairs(args.reference, "--reference")

    started = time.perf_counter()
    args.out.mkdir(parents=True, exist_ok=True)
    scorer = TorchScorer(args.out / "logits")
    corpora = [*loco, *(c for c in dict.fromkeys(args.corpus) if c not in loco), PROBE]
    data = {corpus: test_texts(corpus, args.data_root) for corpus in corpora}
    result: dict[str, Any] = {"command": " ".join(sys.argv), "corpora": corpora[:-1],
                              "sizes": {corpus: len(data[corpus]) for corpus in corpora},
                              "loco": {}, "references": {}}
    for corpus, weights in loco.items():
        held_out = ekman_score(scorer.logits(weights, data[corpus]), data[corpus], args.bootstrap)
        probe = ekman_score(scorer.logits(weights, data[PROBE]), data[PROBE], args.bootstrap)
        result["loco"][corpus] = {"checkpoint": str(weights), "held_out": asdict(held_out), "probe": asdict(probe)}
        print(f"{corpus:<12} without it {held_out.macro_f1:.3f}  MELD {probe.macro_f1:.3f} "
              f"(weighted {probe.weighted_f1:.3f})", file=sys.stderr, flush=True)
    for corpus, weights in loco.items():  # LOCO minus each reference on the same rows, paired
        ours = ekman_predictions(scorer.logits(weights, data[corpus]), data[corpus])
        result["loco"][corpus]["minus"] = {
            name: paired_difference(data[corpus], ours,
                                    ekman_predictions(scorer.logits(ref, data[corpus]), data[corpus]), args.bootstrap)
            for name, ref in references.items()}
    for name, weights in references.items():
        result["references"][name] = {
            corpus: asdict(ekman_score(scorer.logits(weights, data[corpus]), data[corpus], args.bootstrap))
            for corpus in corpora}
        print(f"reference {name} done", file=sys.stderr, flush=True)
    peers_file = args.out / "peers.json"  # per corpus: a later run adds the corpora it lacks
    peers = json.loads(peers_file.read_text()) if peers_file.is_file() else {}
    missing = [corpus for corpus in corpora if corpus not in peers]
    if args.peers and missing:
        peers.update(run_peers(args.cache, missing, args.data_root, args.bootstrap))
        peers_file.write_text(json.dumps(peers, indent=1))
    result["peers"] = peers
    result["seconds"] = round(time.perf_counter() - started, 1)
    (args.out / "text-loco.json").write_text(json.dumps(result, indent=1))
    markdown = to_markdown(result)
    (args.out / "text-loco.md").write_text(markdown)
    print(markdown)


if __name__ == "__main__":
    main()
