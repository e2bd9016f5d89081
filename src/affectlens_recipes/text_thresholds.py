"""Re-fit a packaged text model's decision thresholds on GoEmotions dev, as bagged per-label fits.

The per-label F1-optimal threshold (``metrics.best_thresholds``) of a rare label is the peak of a
jagged curve over a few dozen dev positives; ``metrics.bagged_thresholds`` averages that fit over
bootstrap resamples of dev.  This recipe reads a model folder through ``TextOnnxRecognizer`` (what
``analyze`` runs), keeps its temperatures, and prints for the folder's thresholds and the bagged
ones: dev in-sample and two-fold cross-fitted macro-F1 (the choice, dev only), then the test split,
scored once.  ``--write`` puts the bagged thresholds into the folder's ``config.json`` and the test
figures into its ``metrics.json`` (the previous figures kept under ``thresholds_refit.before``);
``--compare`` only scores every rule of ``threshold_rules`` on dev, cross-fitted (no test split).
In-sample dev and the ``metrics.json`` test figures apply the thresholds alone, as ``text_finalize``
does; the cross-fitted figures and ``macro_f1_as_analyze`` add ``analyze``'s fallback
(``calibration.threshold_decisions``).

    python -m affectlens_recipes.text_thresholds --model-dir src/affectlens/models/text-minilm-xcorpus-v3 \
        --data-root ../shared/datasets --write
    python -m affectlens_recipes.text_thresholds --model-dir ... --data-root ../shared/datasets --compare

Needs the GoEmotions corpus; no torch.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from affectlens.bench.datasets import load_goemotions
from affectlens.calibration import threshold_decisions
from affectlens.metrics import (
    bagged_thresholds,
    best_thresholds,
    f1_per_label,
    macro_f1_multilabel,
    micro_f1_multilabel,
)
from affectlens.recognizers.text_onnx import TextOnnxRecognizer
from affectlens_recipes.text_finalize import _logits, _sigmoid, ekman_grouping

#: bootstrap resamples per fit and their seed (the choice: docs/training.md, "Bagged thresholds")
N_BOOT = 50
SEED = 0
#: random two-fold splits of dev for the cross-fitted estimate
CROSS_FIT_SPLITS = 10


def cross_fitted(gold: np.ndarray, probs: np.ndarray, fit: Callable[[np.ndarray, np.ndarray], np.ndarray],
                 splits: int = CROSS_FIT_SPLITS, seed: int = 123) -> list[float]:
    """Macro-F1 (as ``analyze`` decides) of each half of dev scored with thresholds fitted on
    the other half, averaged per split: one figure per random split."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(splits):
        order = rng.permutation(len(gold))
        a, b = order[: len(gold) // 2], order[len(gold) // 2:]
        halves = [macro_f1_multilabel(gold[te], threshold_decisions(probs[te], fit(gold[tr], probs[tr])))
                  for tr, te in ((a, b), (b, a))]
        out.append(float(np.mean(halves)))
    return out


def split_figures(gold: np.ndarray, probs: np.ndarray, thresholds: np.ndarray) -> dict[str, float]:
    alone = probs >= thresholds
    return {
        "macro_f1_dev_tuned_thresholds": round(macro_f1_multilabel(gold, alone), 4),
        "micro_f1_dev_tuned_thresholds": round(micro_f1_multilabel(gold, alone), 4),
        "ekman7_macro_f1": round(macro_f1_multilabel(ekman_grouping(gold), ekman_grouping(alone)), 4),
        "macro_f1_as_analyze": round(macro_f1_multilabel(gold, threshold_decisions(probs, thresholds)), 4),
    }


def _calibrated_probs(rec: TextOnnxRecognizer, texts: list[str]) -> np.ndarray:
    return _sigmoid(_logits(rec, texts)[0] / rec.config.temperatures)


def _loaded(model_dir: Path) -> TextOnnxRecognizer:
    rec = TextOnnxRecognizer(model_dir, threads=2)
    rec.load()
    return rec


def refit(model_dir: Path, data_root: Path | None, *, n_boot: int = N_BOOT, write: bool = False) -> dict[str, Any]:
    rec = _loaded(model_dir)
    cfg = rec.config
    dev, test = load_goemotions("dev", data_root), load_goemotions("test", data_root)
    dev_probs = _calibrated_probs(rec, dev.texts)
    before = np.asarray(cfg.thresholds, dtype=float)
    bagged = np.round(bagged_thresholds(dev.labels, dev_probs, n_boot, SEED), 3)

    def bag(g: np.ndarray, p: np.ndarray) -> np.ndarray:
        return bagged_thresholds(g, p, n_boot, SEED)

    plain_cf, bagged_cf = cross_fitted(dev.labels, dev_probs, best_thresholds), cross_fitted(dev.labels, dev_probs, bag)
    diff = np.subtract(bagged_cf, plain_cf)
    report: dict[str, Any] = {
        "model": cfg.version, "date": date.today().isoformat(), "fit": f"mean of {n_boot} bootstrap per-label fits",
        "n_boot": n_boot, "seed": SEED,
        "dev": {
            "in_sample_folder": round(macro_f1_multilabel(dev.labels, dev_probs >= before), 4),
            "in_sample_bagged": round(macro_f1_multilabel(dev.labels, dev_probs >= bagged), 4),
            "cross_fitted_per_label": round(float(np.mean(plain_cf)), 4),
            "cross_fitted_bagged": round(float(np.mean(bagged_cf)), 4),
            "cross_fitted_gain": round(float(diff.mean()), 4),
            "cross_fitted_gain_splits_won": f"{int((diff > 0).sum())} of {len(diff)}",
        },
    }
    print(json.dumps(report, indent=2), flush=True)
    test_probs = _calibrated_probs(rec, test.texts)
    report["test_folder"] = split_figures(test.labels, test_probs, before)
    report["test_bagged"] = split_figures(test.labels, test_probs, bagged)
    per_label = f1_per_label(test.labels, test_probs >= bagged)
    report["test_bagged_per_label_f1"] = {label: round(float(f), 4)
                                          for label, f in zip(cfg.labels, per_label, strict=True)}
    print(json.dumps({k: report[k] for k in ("test_folder", "test_bagged")}, indent=2))
    if write:
        _write(model_dir, bagged, report)
    return report


def _write(model_dir: Path, thresholds: np.ndarray, report: dict[str, Any]) -> None:
    config_path, metrics_path = model_dir / "config.json", model_dir / "metrics.json"
    config, metrics = json.loads(config_path.read_text()), json.loads(metrics_path.read_text())
    if "thresholds_refit" in metrics:  # a second write would record the bagged thresholds as "before"
        raise SystemExit(f"{metrics_path} was re-fitted on {metrics['thresholds_refit']['date']}: restore the "
                         "packaged config.json and metrics.json first")
    previous = config["thresholds"]
    config["thresholds"] = [float(t) for t in thresholds]
    test = metrics["goemotions_test"]
    kept = {k: test[k] for k in ("macro_f1_dev_tuned_thresholds", "micro_f1_dev_tuned_thresholds", "ekman7_macro_f1")}
    test.update({k: report["test_bagged"][k] for k in kept})
    test["per_label_f1"] = report["test_bagged_per_label_f1"]
    metrics["goemotions_dev"]["macro_f1_dev_tuned_thresholds"] = report["dev"]["in_sample_bagged"]
    metrics["thresholds_refit"] = {**{k: report[k] for k in ("date", "fit", "n_boot", "seed", "dev")},
                                   "before": {**kept, "thresholds": previous}}
    config_path.write_text(json.dumps(config, indent=2) + "\n")
    metrics_path.write_text(json.dumps(metrics, indent=2) + "\n")
    print(f"wrote {config_path} and {metrics_path}")


def compare(model_dir: Path, data_root: Path | None, splits: int = CROSS_FIT_SPLITS) -> dict[str, float]:
    """Every rule of ``threshold_rules.RULES``, two-fold cross-fitted on dev (no test split read)."""
    from affectlens_recipes.threshold_rules import RULES

    dev = load_goemotions("dev", data_root)
    probs = _calibrated_probs(_loaded(model_dir), dev.texts)
    base = None
    out = {}
    for name, rule in RULES.items():
        figures = np.asarray(cross_fitted(dev.labels, probs, rule, splits))
        base = figures if base is None else base
        out[name] = round(float(figures.mean()), 4)
        print(f"{name:30s} cross-fitted dev macro-F1 {figures.mean():.4f}  minus the first "
              f"{np.mean(figures - base):+.4f} (ahead in {int((figures > base).sum())} of {splits})", flush=True)
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model-dir", type=Path, required=True)
    parser.add_argument("--data-root", type=Path, default=None)
    parser.add_argument("--boot", type=int, default=N_BOOT, help="bootstrap resamples per fit")
    parser.add_argument("--write", action="store_true", help="write the bagged thresholds into the folder")
    parser.add_argument("--compare", action="store_true",
                        help="only compare the threshold rules of threshold_rules.py on dev (cross-fitted)")
    args = parser.parse_args(argv)
    if args.compare:
        compare(args.model_dir, args.data_root)
        return
    refit(args.model_dir, args.data_root, n_boot=args.boot, write=args.write)


if __name__ == "__main__":
    main()
