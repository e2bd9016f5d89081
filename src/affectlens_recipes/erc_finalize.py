"""Copy the trained conversation heads into ``models/``, with config, hashes, metrics and card."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from affectlens.bench.datasets import MELD_LABELS
from affectlens.dialogue.context_model import TURN_ENCODER_FILE, TURN_ENCODER_SESSION_CONFIG
from affectlens.models import MODELS_DIR, sha256_file

TEXT_MODEL = MODELS_DIR / "text-minilm-goemotions-v1"


# what finalize installs; the recipe (erc_meld) trains these heads
MODEL_NAME = "dialogue-minilm-meld-bigru-v1"
MODES = ("context", "utterance")  # the shipped model, and its context-free ablation


def finalize(out: Path, target: Path | None = None) -> Path:
    target = target or MODELS_DIR / MODEL_NAME
    target.mkdir(parents=True, exist_ok=True)
    metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    heads = {mode: f"head_{mode}.onnx" for mode in MODES}
    for filename in heads.values():
        shutil.copyfile(out / filename, target / filename)
    text_config = json.loads((TEXT_MODEL / "config.json").read_text(encoding="utf-8"))
    config = {
        "name": "dialogue.minilm-meld-bigru.v1", "version": "v1", "label_set": "meld",
        "labels": list(MELD_LABELS), "heads": heads,
        "temperatures": {mode: metrics[mode]["temperature"] for mode in MODES},
        "encoder": {"model": "text.minilm-goemotions.v1", "file": TURN_ENCODER_FILE,
                    "model.onnx sha256": text_config["sha256"]["model.onnx"], "max_tokens": 128,
                    "onnxruntime_session_config": TURN_ENCODER_SESSION_CONFIG},
        "sha256": {filename: sha256_file(target / filename) for filename in heads.values()},
    }
    (target / "config.json").write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    (target / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")
    (target / "MODEL_CARD.md").write_text(model_card(metrics, target), encoding="utf-8")
    print(f"wrote {target}")
    return target


def _row(name: str, r: dict[str, Any]) -> str:
    t = r["test"]
    low, high = t["weighted_f1_ci95"]
    return (f"| {name} | {t['weighted_f1']:.3f} [{low:.3f}, {high:.3f}] | {t['macro_f1']:.3f} | {t['accuracy']:.3f} "
            f"| {r['dev']['weighted_f1']:.3f} | {r['test_uncalibrated_ece']:.3f} -> {t['ece_top_label']:.3f} |")


def model_card(metrics: dict[str, Any], target: Path) -> str:
    ctx, alone = metrics["context"], metrics["utterance"]
    size = sum(p.stat().st_size for p in target.glob("*.onnx"))
    per_class = " · ".join(f"{k} {v:.2f}" for k, v in ctx["test"]["per_class_f1"].items())
    confusion = ctx["test"]["confusion"]["rows_true_cols_predicted"]
    matrix = "\n".join(f"| **{MELD_LABELS[i]}** | " + " | ".join(str(v) for v in row) + " |"
                       for i, row in enumerate(confusion))
    recipe = metrics["recipe"]
    facts = [
        ("Task", "the emotion of every turn of a dialogue, read with the whole dialogue around it "
                 f"(MELD's 7 classes: {', '.join(MELD_LABELS)})"),
        ("Inputs", "dialogues: turns with speaker and text (`affectlens analyze chat.csv --dialogue`, "
                   "`.srt`, `.vtt`, JSON)"),
        ("Architecture", "the shipped text encoder (`text.minilm-goemotions.v1`, frozen; per turn: pooled last "
                         "layer, GoEmotions logits, mean of layer 3 = 796 numbers, first 128 word pieces) + a "
                         "\"same speaker as the turn before\" flag -> linear 128 -> bidirectional GRU 128 over "
                         f"the dialogue -> 7 classes; {recipe['seeds']} seeds averaged"),
        ("Files", "`head_context.onnx` (the model), `head_utterance.onnx` (the same heads without the GRU: the "
                  f"context-free reading, used for the `context` cue), {size / 1e6:.1f} MB together; "
                  "`config.json` (labels, temperatures, sha256 of the heads and of the encoder it was trained on)"),
        ("Training data", "MELD train (9,989 turns, 1,038 dialogues; Poria et al. 2019), official split"),
        ("License", "MELD is **GPL-3.0** (repository license; the utterances are *Friends* transcripts, "
                    "(c) Warner Bros.): use for research, keep GPL-3.0 terms and attribution. The encoder: "
                    "see its card"),
        ("Recipe", "`python -m affectlens_recipes.erc_meld features`, then `train`, then `finalize` "
                   f"(`--out artifacts/erc`); seed {recipe['seed']}, {recipe['epochs']} epochs, AdamW 1e-3, "
                   f"class weights frequency^-{recipe['class_weight_power']}, 16 dialogues per batch; "
                   f"{ctx['train_seconds'] / 60:.1f} CPU-minutes on 1 core for the 5 context heads"),
        ("Choices", "made on MELD dev only (see `affectlens_recipes/erc_meld.py`); temperature fitted on dev; "
                    "test read once"),
    ]
    table = "\n".join(f"| {k} | {v} |" for k, v in facts)
    return f"""# dialogue.minilm-meld-bigru.v1: emotion recognition in conversation (MELD, 7 classes)

| | |
|---|---|
{table}

## Results on MELD test (2,610 turns, official metric weighted F1)

| model | weighted-F1 [95% CI] | macro-F1 | accuracy | dev weighted-F1 | top-label ECE before -> after temperature |
|---|---|---|---|---|---|
{_row("with dialogue context (shipped)", ctx)}
{_row("same heads, each turn alone (ablation)", alone)}

Gain from context: **{metrics['context_gain_test_weighted_f1']:+.3f}** weighted-F1 on test.
The context-free zero-shot baseline (the GoEmotions text model grouped into MELD's classes) scores 0.420
(`affectlens bench meld --model text.minilm-goemotions.v1`).  Published text models with context reach
0.63-0.67 with RoBERTa-large-size encoders fine-tuned end to end; this model keeps a 22M-parameter encoder
frozen, to run on a CPU.

Per-class F1 (test, with context): {per_class}

Confusion matrix (test, rows = true, columns = predicted; {", ".join(MELD_LABELS)}):

| true \\ predicted | {" | ".join(MELD_LABELS)} |
|---|{"---|" * len(MELD_LABELS)}
{matrix}

Reproduce the numbers: `affectlens bench meld --model dialogue.minilm-meld-bigru.v1` (the benchmark feeds
whole dialogues) or `python -m affectlens_recipes.erc_meld train` (writes `metrics.json`).

## Limitations

- Trained on one TV series' scripted, multi-party English dialogue; other registers (support chats,
  meetings, other languages) are out of domain: expect lower accuracy.  Disgust and fear are rare in
  MELD (about 3% and 2.6% of turns) and stay weak.
- The GRU reads the whole dialogue, later turns included: it is an analyser of finished transcripts,
  not a streaming model.
- Turns longer than 126 word pieces are read from their first 126 only (the per-turn text results
  of `text.minilm-goemotions.v1` do use windows).
"""
