"""Train and evaluate the emotion-cause span extractor on RECCON's DailyDialog portion.

    python -m affectlens_recipes.cause_spans --out artifacts/cause_spans            # features, grid, metrics
    python -m affectlens_recipes.cause_spans --out artifacts/cause_spans --install  # + copy into models/

Task (RECCON subtask 1, causal span extraction, with the cause turn given): for every
non-neutral turn ``t`` and every turn ``c <= t`` the annotators listed as its cause
evidence (positive pairs only; causes outside the dialogue, "b", are left out), predict
the span of ``c`` they marked.  A pair listing one evidence turn twice has two gold
spans; a prediction scores the best of them.  Scores are SQuAD's: exact match and token
F1 after normalisation (lower case, no punctuation, no articles), averaged over pairs;
beside them ``reccon_f1``, the stricter scoring of RECCON's ``eval_qa.py`` (token F1 only
where one span contains the other, else 0).

Features: ``dialogue.cause_spans.encode_turns`` (per-word encoder states of the cause
turn) and ``span_context`` (the target's turn features, gold emotion, distance, same
speaker).  The head (projection, bidirectional GRU, start/end scores) is trained with
torch (cross-entropy of the gold start and end words); the projection/GRU sizes and
dropout, the epoch and the longest span are chosen on valid by token F1; test is scored
once, with the numpy inference code that ships, beside the trivial baselines "the whole
cause turn", "its first sentence", "its first clause" and "its last sentence", in the
same run.  Data: CC BY-NC-SA 4.0 (DailyDialog), RECCON annotations without a license file:
research, non-commercial use.
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from affectlens.dialogue.cause_spans import (
    DEFAULT_MODEL_DIR,
    N_FLAGS,
    SENTENCE_END,
    SPLIT_PUNCT,
    EncodedTurn,
    SpanModel,
    best_span,
    encode_turns,
    span_context,
    span_of,
    word_flags,
)
from affectlens_recipes.span_scoring import exact_match as exact_match  # re-exported
from affectlens_recipes.span_scoring import normalize_answer as normalize_answer
from affectlens_recipes.span_scoring import reccon_f1 as reccon_f1
from affectlens_recipes.span_scoring import span_scores as span_scores
from affectlens_recipes.span_scoring import token_f1 as token_f1

#: (projection, GRU hidden size per direction, dropout)
GRID: tuple[tuple[int, int, float], ...] = ((64, 32, 0.1), (64, 32, 0.3), (128, 64, 0.1), (128, 64, 0.3))
MAX_WORDS_GRID = (16, 32, 64, 256)
EPOCHS = 20
SEED = 13
CLAUSE_END = frozenset(",;:") | SENTENCE_END
FILES = ("model.npz", "config.json", "metrics.json")


# -- baselines -------------------------------------------------------------------------------------


def _words(turn: EncodedTurn) -> list[str]:
    return [turn.text[s:e] for s, e in turn.units]


def whole_turn(turn: EncodedTurn) -> str:
    return turn.text.strip()


def _first_until(turn: EncodedTurn, stops: frozenset[str]) -> str:
    words = _words(turn)
    if not words:
        return ""
    for j, word in enumerate(words):
        # a leading "Oh ," still counts: stop at the first boundary after a real word
        if j > 0 and word in stops:
            return span_of(turn, 0, j).text
    return span_of(turn, 0, len(words) - 1).text


def first_sentence(turn: EncodedTurn) -> str:
    return _first_until(turn, frozenset(SENTENCE_END))


def first_clause(turn: EncodedTurn) -> str:
    return _first_until(turn, CLAUSE_END)


def last_sentence(turn: EncodedTurn) -> str:
    words = _words(turn)
    if not words:
        return ""
    last = len(words) - 1
    start = 0
    for j, word in enumerate(words[:last]):
        if word in SENTENCE_END and j + 1 <= last and any(w not in SPLIT_PUNCT for w in words[j + 1:]):
            start = j + 1
    return span_of(turn, start, last).text


BASELINES: dict[str, Callable[[EncodedTurn], str]] = {
    "whole_cause_turn": whole_turn, "first_sentence": first_sentence, "first_clause": first_clause,
    "last_sentence": last_sentence}


# -- data ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Pair:
    """One positive (target, cause) pair; utterance indices are global over the split's utterances."""

    target: int
    cause: int
    emotion: str
    distance: int
    same_speaker: bool
    golds: tuple[str, ...]
    dialogue: int = 0  # position of the dialogue in its split


def build_pairs(dialogues: Sequence[Sequence[dict[str, Any]]], offset: int = 0) -> list[Pair]:
    pairs: list[Pair] = []
    for number, dialogue in enumerate(dialogues):
        position = {u["turn"]: i for i, u in enumerate(dialogue)}
        for t, turn in enumerate(dialogue):
            if turn["emotion"] == "neutral":
                continue
            golds: dict[int, list[str]] = {}
            for evidence, span in zip(turn.get("expanded emotion cause evidence", []),
                                      turn.get("expanded emotion cause span", []), strict=False):
                if isinstance(evidence, int) and evidence in position and position[evidence] <= t:
                    golds.setdefault(position[evidence], []).append(span)
            for c, spans in golds.items():
                pairs.append(Pair(offset + t, offset + c, turn["emotion"], t - c,
                                  dialogue[c]["speaker"] == turn["speaker"], tuple(dict.fromkeys(spans)), number))
        offset += len(dialogue)
    return pairs


def gold_words(turn: EncodedTurn, gold: str) -> tuple[int, int] | None:
    """First and last word of ``turn`` covering the first occurrence of ``gold`` (None if absent)."""
    start = turn.text.find(gold.strip())
    if start < 0 or not gold.strip() or not len(turn):
        return None
    end = start + len(gold.strip())
    inside = [k for k, (s, e) in enumerate(turn.units) if e > start and s < end]
    return (inside[0], inside[-1]) if inside else None


def contexts(pairs: Sequence[Pair], features: np.ndarray) -> np.ndarray:
    return np.stack([span_context(features[p.target], p.emotion, p.distance, p.same_speaker) for p in pairs])


def word_rows(turn: EncodedTurn) -> np.ndarray:
    return np.concatenate([turn.states, word_flags(turn.text, turn.units)], axis=1)


def encode_split(encoder: Any, texts: list[str], cache: Path) -> tuple[np.ndarray, list[EncodedTurn]]:
    """Turn features and encoded words of every utterance, cached in ``cache`` (an .npz of plain arrays)."""
    if cache.is_file():
        with np.load(cache, allow_pickle=False) as data:
            if list(data["texts"]) == texts:
                counts, units, states = data["counts"], data["units"], data["states"]
                bounds = np.concatenate([[0], np.cumsum(counts)]).astype(int)
                turns = [EncodedTurn(t, tuple((int(a), int(b)) for a, b in units[bounds[i]: bounds[i + 1]]),
                                     states[bounds[i]: bounds[i + 1]]) for i, t in enumerate(texts)]
                return data["features"], turns
    features, _ = encoder.turn_features(texts)
    turns = encode_turns(encoder, texts)
    width = next(t.states.shape[1] for t in turns if len(t))
    np.savez(cache, texts=np.asarray(texts), features=features, counts=np.asarray([len(t) for t in turns]),
             units=np.asarray([u for t in turns for u in t.units], dtype=np.int64).reshape(-1, 2),
             states=np.concatenate([t.states if len(t) else np.zeros((0, width), np.float32) for t in turns]))
    return features, turns


# -- the head (torch, training only) ---------------------------------------------------------------

def make_net(word_dim: int, context_dim: int, projection: int, hidden: int, dropout: float) -> Any:
    import torch
    from torch import nn

    class SpanNet(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.word = nn.Linear(word_dim, projection)
            self.context = nn.Linear(context_dim, projection, bias=False)
            self.gru = nn.GRU(projection, hidden, batch_first=True, bidirectional=True)
            self.out = nn.Linear(2 * hidden + projection, 2)
            self.drop = nn.Dropout(dropout)

        def forward(self, words: Any, context: Any, lengths: Any) -> Any:
            from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

            u = torch.tanh(self.word(self.drop(words)) + self.context(self.drop(context))[:, None, :])
            packed = pack_padded_sequence(u, lengths, batch_first=True, enforce_sorted=False)
            h, _ = self.gru(packed)
            h, _ = pad_packed_sequence(h, batch_first=True, total_length=words.shape[1])
            logits = self.out(self.drop(torch.cat([h, u], dim=2)))
            mask = torch.arange(words.shape[1])[None, :] < lengths[:, None]
            return logits.masked_fill(~mask[:, :, None], -1e4).log_softmax(dim=1)

    return SpanNet()


def export(net: Any, word_mean: np.ndarray, word_scale: np.ndarray, context_mean: np.ndarray,
           context_scale: np.ndarray) -> dict[str, np.ndarray]:
    """The torch head as the plain arrays ``SpanModel`` reads."""
    def a(t: Any) -> np.ndarray:
        return np.asarray(t.detach().cpu().numpy(), dtype=np.float32)

    g = net.gru
    return {"word_mean": word_mean.astype(np.float32), "word_scale": word_scale.astype(np.float32),
            "context_mean": context_mean.astype(np.float32), "context_scale": context_scale.astype(np.float32),
            "w_word": a(net.word.weight).T.copy(), "w_context": a(net.context.weight).T.copy(),
            "b_in": a(net.word.bias),
            "fw_w_ih": a(g.weight_ih_l0), "fw_w_hh": a(g.weight_hh_l0), "fw_b_ih": a(g.bias_ih_l0),
            "fw_b_hh": a(g.bias_hh_l0), "bw_w_ih": a(g.weight_ih_l0_reverse), "bw_w_hh": a(g.weight_hh_l0_reverse),
            "bw_b_ih": a(g.bias_ih_l0_reverse), "bw_b_hh": a(g.bias_hh_l0_reverse),
            "w_out": a(net.out.weight).T.copy(), "b_out": a(net.out.bias)}


def _batch(rows: Sequence[np.ndarray], ctx: np.ndarray) -> tuple[Any, Any, Any]:
    import torch

    lengths = [len(r) for r in rows]
    padded = np.zeros((len(rows), max(lengths), rows[0].shape[1]), dtype=np.float32)
    for i, r in enumerate(rows):
        padded[i, : len(r)] = r
    return torch.from_numpy(padded), torch.from_numpy(ctx.astype(np.float32)), torch.tensor(lengths)


def log_probs(net: Any, rows: Sequence[np.ndarray], ctx: np.ndarray, batch_size: int = 256) -> list[np.ndarray]:
    """Per example: [n_words, 2] start/end log-probabilities (eval mode)."""
    import torch

    net.eval()
    out: list[np.ndarray] = []
    with torch.no_grad():
        for b in range(0, len(rows), batch_size):
            lp = net(*_batch(rows[b: b + batch_size], ctx[b: b + batch_size])).numpy()
            out.extend(lp[i, : len(r)] for i, r in enumerate(rows[b: b + batch_size]))
    return out


def decode(turns: Sequence[EncodedTurn], scores: Sequence[np.ndarray], max_words: int) -> list[str]:
    out = []
    for turn, lp in zip(turns, scores, strict=True):
        i, j, _ = best_span(lp[:, 0], lp[:, 1], max_words)
        out.append(span_of(turn, i, j).text)
    return out


def train_one(train: tuple[list[np.ndarray], np.ndarray, np.ndarray], valid: tuple[list[np.ndarray], np.ndarray],
              valid_turns: list[EncodedTurn], valid_golds: list[tuple[str, ...]], projection: int, hidden: int,
              dropout: float, epochs: int = EPOCHS) -> tuple[float, int, dict[str, Any]]:
    """Best valid token F1, its epoch, and the net's state at that epoch."""
    import copy

    import torch

    torch.manual_seed(SEED)
    rows, ctx, targets = train
    net = make_net(rows[0].shape[1], ctx.shape[1], projection, hidden, dropout)
    optimizer = torch.optim.Adam(net.parameters(), lr=2e-3, weight_decay=1e-5)
    rng = np.random.default_rng(SEED)
    best: tuple[float, int, dict[str, Any]] = (-1.0, 0, {})
    for epoch in range(1, epochs + 1):
        net.train()
        order = rng.permutation(len(rows))
        for b in range(0, len(order), 32):
            idx = order[b: b + 32]
            lp = net(*_batch([rows[i] for i in idx], ctx[idx]))
            gold = torch.from_numpy(targets[idx])
            loss = -(lp[torch.arange(len(idx)), gold[:, 0], 0] + lp[torch.arange(len(idx)), gold[:, 1], 1]).mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        predicted = decode(valid_turns, log_probs(net, valid[0], valid[1]), max(MAX_WORDS_GRID))
        f1 = span_scores(predicted, valid_golds)["f1"]
        if f1 > best[0]:
            best = (f1, epoch, copy.deepcopy(net.state_dict()))
    return best


def evaluate(model: SpanModel, turns: Sequence[EncodedTurn], ctx: np.ndarray, golds: list[tuple[str, ...]],
             pairs: Sequence[Pair]) -> dict[str, Any]:
    """The shipped numpy model and the baselines on one split, overall and by self / earlier cause turns."""
    predicted = {"model": [(model.predict(t, c) or _EMPTY).text for t, c in zip(turns, ctx, strict=True)]}
    for name, baseline in BASELINES.items():
        predicted[name] = [baseline(t) for t in turns]
    report: dict[str, Any] = {}
    for subset, keep in (("all", lambda p: True), ("self", lambda p: p.distance == 0),
                         ("earlier", lambda p: p.distance > 0)):
        idx = [i for i, p in enumerate(pairs) if keep(p)]
        report[subset] = {"n": len(idx), **{name: span_scores([preds[i] for i in idx], [golds[i] for i in idx])
                                            for name, preds in predicted.items()}}
    report["model_minus_whole_cause_turn"] = paired_bootstrap(predicted["model"], predicted["whole_cause_turn"],
                                                              golds, [p.dialogue for p in pairs])
    report["predicted_whole_turn_rate"] = round(float(np.mean([
        p.strip() == t.text.strip() for p, t in zip(predicted["model"], turns, strict=True)])), 4)
    report["gold_whole_turn_rate"] = round(float(np.mean([
        any(g.strip() == t.text.strip() for g in gs) for gs, t in zip(golds, turns, strict=True)])), 4)
    return report


def paired_bootstrap(a: Sequence[str], b: Sequence[str], golds: Sequence[Sequence[str]], groups: Sequence[int],
                     n: int = 2000, seed: int = SEED) -> dict[str, list[float]]:
    """Mean difference a - b of exact match and F1, with a 95% interval resampling whole dialogues."""
    rng = np.random.default_rng(seed)
    ids = sorted(set(groups))
    index = {g: k for k, g in enumerate(ids)}
    out: dict[str, list[float]] = {}
    for name, score in (("exact_match", exact_match), ("f1", token_f1)):
        diff = np.asarray([max(score(x, g) for g in gs) - max(score(y, g) for g in gs)
                           for x, y, gs in zip(a, b, golds, strict=True)])
        sums = np.bincount([index[g] for g in groups], weights=diff, minlength=len(ids))
        counts = np.bincount([index[g] for g in groups], minlength=len(ids)).astype(float)
        draws = rng.integers(0, len(ids), size=(n, len(ids)))
        means = sums[draws].sum(1) / np.maximum(counts[draws].sum(1), 1.0)
        out[name] = [round(float(diff.mean()), 4), round(float(np.percentile(means, 2.5)), 4),
                     round(float(np.percentile(means, 97.5)), 4)]
    return out


_EMPTY = span_of(EncodedTurn("", ((0, 0),), np.zeros((1, 0), np.float32)), 0, 0)


def main() -> None:
    import torch

    from affectlens.dialogue.context_model import TURN_ENCODER_FILE, TURN_ENCODER_SESSION_CONFIG
    from affectlens.models import sha256_file
    from affectlens.recognizers.text_onnx import TextOnnxRecognizer
    from affectlens_recipes.cause_reccon import data_folder, load_split

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("artifacts/cause_spans"))
    parser.add_argument("--data-root", type=Path, default=None)
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    parser.add_argument("--install", action="store_true", help="copy the model into --target")
    parser.add_argument("--target", type=Path, default=DEFAULT_MODEL_DIR)
    args = parser.parse_args()
    torch.set_num_threads(1)
    args.out.mkdir(parents=True, exist_ok=True)
    folder = data_folder(args.data_root)
    encoder = TextOnnxRecognizer(threads=1, session_config=TURN_ENCODER_SESSION_CONFIG,
                                  model_file=TURN_ENCODER_FILE)
    text_sha = sha256_file(encoder.model_dir / "model.onnx")
    data: dict[str, dict[str, Any]] = {}
    started = time.time()
    for split in ("train", "valid", "test"):
        dialogues = load_split(folder, split)
        texts = [u["utterance"] for d in dialogues for u in d]
        features, turns = encode_split(encoder, texts, args.out / f"features_{split}_{text_sha[:12]}.npz")
        target_dim = int(features.shape[1])
        pairs = [p for p in build_pairs(dialogues) if len(turns[p.cause])]
        data[split] = {"pairs": pairs, "turns": [turns[p.cause] for p in pairs], "ctx": contexts(pairs, features),
                       "golds": [p.golds for p in pairs], "rows": [word_rows(turns[p.cause]) for p in pairs]}
        print(f"{split}: {len(dialogues)} dialogues, {len(pairs)} positive pairs "
              f"({time.time() - started:.0f} s)", flush=True)
    # training examples: one per (pair, gold span) found in the cause turn
    train = data["train"]
    keep, targets = [], []
    for i, (turn, golds) in enumerate(zip(train["turns"], train["golds"], strict=True)):
        for gold in golds:
            words = gold_words(turn, gold)
            if words is not None:
                keep.append(i)
                targets.append(words)
    all_rows = np.concatenate(train["rows"])
    word_mean, word_std = all_rows.mean(0), all_rows.std(0)
    word_scale = np.where(word_std < 1e-6, 1.0, word_std)
    ctx_mean, ctx_std = train["ctx"].mean(0), train["ctx"].std(0)
    ctx_scale = np.where(ctx_std < 1e-6, 1.0, ctx_std)

    def standard(split: str) -> tuple[list[np.ndarray], np.ndarray]:
        d = data[split]
        return ([((r - word_mean) / word_scale).astype(np.float32) for r in d["rows"]],
                ((d["ctx"] - ctx_mean) / ctx_scale).astype(np.float32))

    train_rows, train_ctx = standard("train")
    train_set = ([train_rows[i] for i in keep], train_ctx[keep], np.asarray(targets, dtype=np.int64))
    valid_set = standard("valid")
    print(f"train examples: {len(keep)}", flush=True)
    grid: list[dict[str, Any]] = []
    best: tuple[float, tuple[int, int, float], int, dict[str, Any]] = (-1.0, GRID[0], 0, {})
    for projection, hidden, dropout in GRID:
        f1, epoch, state = train_one(train_set, valid_set, data["valid"]["turns"], data["valid"]["golds"],
                                     projection, hidden, dropout, args.epochs)
        grid.append({"projection": projection, "hidden": hidden, "dropout": dropout, "best_epoch": epoch,
                     "valid_f1": f1})
        print(f"projection {projection}, hidden {hidden}, dropout {dropout}: valid F1 {f1:.4f} at epoch {epoch} "
              f"({time.time() - started:.0f} s)", flush=True)
        if f1 > best[0]:
            best = (f1, (projection, hidden, dropout), epoch, state)
    _, (projection, hidden, dropout), epoch, state = best
    # ablation (valid only): the chosen setting without the target turn's features (emotion,
    # distance and speaker stay): does the target's text help find the span?
    n_target = target_dim
    blind = (train_set[0], train_set[1].copy(), train_set[2])
    blind[1][:, :n_target] = 0.0
    blind_valid = (valid_set[0], valid_set[1].copy())
    blind_valid[1][:, :n_target] = 0.0
    blind_f1, blind_epoch, _ = train_one(blind, blind_valid, data["valid"]["turns"], data["valid"]["golds"],
                                         projection, hidden, dropout, args.epochs)
    print(f"ablation without the target's turn features: valid F1 {blind_f1:.4f} at epoch {blind_epoch}",
          flush=True)
    net = make_net(train_rows[0].shape[1], train_ctx.shape[1], projection, hidden, dropout)
    net.load_state_dict(state)
    valid_lp = log_probs(net, *valid_set)
    by_length = {m: span_scores(decode(data["valid"]["turns"], valid_lp, m), data["valid"]["golds"])["f1"]
                 for m in MAX_WORDS_GRID}
    max_words = max(MAX_WORDS_GRID, key=lambda m: (by_length[m], -m))
    arrays: dict[str, Any] = export(net, word_mean, word_scale, ctx_mean, ctx_scale)
    np.savez(args.out / "model.npz", **arrays)
    config = {"name": "cause.span-reccon.v1", "max_words": max_words,
              "architecture": {"projection": projection, "gru_hidden": hidden, "flags": N_FLAGS,
                               "word_features": int(train_rows[0].shape[1] - N_FLAGS),
                               "context_features": int(train_ctx.shape[1])},
              "features": "dialogue.cause_spans.encode_turns (cause turn) and span_context (target)",
              "text_model_sha256": text_sha, "sha256": {"model.npz": sha256_file(args.out / "model.npz")}}
    (args.out / "config.json").write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    model = SpanModel.load(args.out)
    report: dict[str, Any] = {
        "chosen_on_valid": {"projection": projection, "gru_hidden": hidden, "dropout": dropout, "epoch": epoch,
                            "max_words": max_words},
        "grid": grid, "valid_f1_by_max_words": by_length,
        "ablation_without_target_features": {"valid_f1": blind_f1, "best_epoch": blind_epoch},
        "train_examples": len(keep),
        "pairs": {s: len(d["pairs"]) for s, d in data.items()}}
    for split in ("valid", "test"):
        d = data[split]
        report[split] = evaluate(model, d["turns"], d["ctx"], d["golds"], d["pairs"])
        print(split, json.dumps(report[split]["all"]), "model - whole turn [mean, 95% CI]:",
              json.dumps(report[split]["model_minus_whole_cause_turn"]), flush=True)
    (args.out / "metrics.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out} ({time.time() - started:.0f} s)")
    if args.install:
        install(args.out, args.target)


def install(source: Path, target: Path) -> None:
    """Copy the weights, config and metrics into the model folder (the model card stays as written)."""
    target.mkdir(parents=True, exist_ok=True)
    for name in FILES:
        shutil.copy2(source / name, target / name)
    print(f"installed into {target}")


if __name__ == "__main__":
    main()
