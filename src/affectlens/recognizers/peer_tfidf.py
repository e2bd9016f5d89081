"""``peer.tfidf-logreg.v1``: TF-IDF n-grams + one-vs-rest logistic regression on GoEmotions (see ``peers``)."""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

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
from affectlens.types import Cue, EmotionResult, Modality

TFIDF_RECIPE: dict[str, Any] = {
    "word": {"ngram_range": [1, 2], "min_df": 2, "max_features": 50_000, "sublinear_tf": True},
    "char": {"analyzer": "char_wb", "ngram_range": [2, 5], "min_df": 3, "max_features": 50_000,
             "sublinear_tf": True},
    "logreg": {"C": 2.0, "solver": "liblinear", "random_state": 0},
    "thresholds": "per-label F1-optimal on dev, grid 0.02..0.95 step 0.01",
}

TFIDF_NAME = "peer.tfidf-logreg.v1"


class TfidfLogRegRecognizer(RecognizerParams):
    """GoEmotions-28 baseline: TF-IDF n-grams + one-vs-rest logistic regression (trained on request, cached)."""

    RUNTIME_PARAMS = frozenset({"n_cues"})  # analysis only: with_params copies share the model

    modality = Modality.TEXT
    label_set = "goemotions"

    def __init__(self, *, name: str = TFIDF_NAME, data_root: str | Path | None = None,
                 cache: str | Path | None = None, n_cues: int = 3, retrain: bool = False,
                 train_if_missing: bool | None = None) -> None:
        self.name = name
        self.version = name.rsplit(".", 1)[-1]
        self.data_root = data_root
        self.cache = Path(cache) if cache is not None else None
        self.n_cues = n_cues
        self.retrain = retrain
        self.train_if_missing = train_if_missing  # None: only when $AFFECTLENS_PEER_TRAIN=1
        self._word: Any = None
        self._char: Any = None
        self._coef: np.ndarray | None = None
        self._intercept: np.ndarray | None = None
        self._thresholds: np.ndarray | None = None
        self._features: np.ndarray | None = None
        self._n_word = 0
        self.labels: tuple[str, ...] = ()
        self.trained_seconds: float | None = None  # set when this load trained the model

    # -- loading / training ------------------------------------------------------------------
    def _cache_path(self) -> Path:
        from affectlens.bench.datasets import data_root

        root = data_root(self.data_root) / "goemotions"
        folder = self.cache if self.cache is not None else cache_dir() / "peers"
        files = [root / f"{split}.tsv" for split in ("train", "dev")]
        if not all(path.is_file() for path in files):
            return folder / f"tfidf-logreg-{self.version}-nodata.npz"
        digest = hashlib.sha256(json.dumps(TFIDF_RECIPE, sort_keys=True).encode())
        for path in files:
            digest.update(path.read_bytes())
        return folder / f"tfidf-logreg-{self.version}-{digest.hexdigest()[:16]}.npz"

    def _model_path(self) -> Path:
        path = self._cache_path()
        if not path.is_file() and not self.retrain and path.name.endswith("-nodata.npz"):
            # no corpus here: any model this recipe trained earlier will do (newest first)
            earlier = sorted(path.parent.glob(f"tfidf-logreg-{self.version}-*.npz"),
                             key=lambda p: p.stat().st_mtime, reverse=True)
            path = earlier[0] if earlier else path
        return path

    def readiness(self) -> str | None:
        """``None`` when ``load`` needs no training (the model is cached); else why not."""
        if self._coef is not None:
            return None
        import importlib.util

        if importlib.util.find_spec("sklearn") is None:
            return f"{self.name} needs scikit-learn: pip install 'affectlens[bench]'"
        path = self._model_path()
        return None if path.is_file() and not self.retrain else not_trained_message(self.name, path)

    def load(self) -> None:
        if self._coef is not None:
            return
        try:
            from sklearn.feature_extraction.text import TfidfVectorizer
        except ImportError as err:
            raise ImportError(
                "peer.tfidf-logreg.v1 needs scikit-learn: pip install 'affectlens[bench]'") from err
        path = self._model_path()
        if self.retrain or not path.is_file():
            if not training_allowed(self.train_if_missing):
                raise PeerModelMissing(not_trained_message(self.name, path))
            self._train_and_save(path)
        with np.load(path, allow_pickle=False) as saved:
            arrays = {key: saved[key] for key in saved.files}
        self.labels = tuple(str(x) for x in arrays["labels"])

        def vectorizer(kind: str) -> Any:
            params = dict(TFIDF_RECIPE[kind])
            params["ngram_range"] = tuple(params["ngram_range"])
            params.pop("max_features")
            params.pop("min_df")
            vocab = [str(x) for x in arrays[f"{kind}_vocab"]]
            vec = TfidfVectorizer(vocabulary={term: i for i, term in enumerate(vocab)}, **params)
            vec.idf_ = arrays[f"{kind}_idf"]
            return vec

        self._word = vectorizer("word")
        self._char = vectorizer("char")
        self._features = np.concatenate([arrays["word_vocab"], arrays["char_vocab"]])
        self._n_word = len(arrays["word_vocab"])
        self._coef = arrays["coef"]
        self._intercept = arrays["intercept"]
        self._thresholds = arrays["thresholds"]

    def _train_and_save(self, path: Path) -> None:
        from joblib import Parallel, delayed
        from scipy import sparse
        from sklearn.feature_extraction.text import TfidfVectorizer

        from affectlens.bench.datasets import load_goemotions
        from affectlens.metrics import best_thresholds

        started = time.perf_counter()
        train = load_goemotions("train", self.data_root)
        dev = load_goemotions("dev", self.data_root)
        vectorizers = {}
        for kind in ("word", "char"):
            params = dict(TFIDF_RECIPE[kind])
            params["ngram_range"] = tuple(params["ngram_range"])
            vectorizers[kind] = TfidfVectorizer(**params)
        x_train = sparse.hstack([vectorizers[k].fit_transform(train.texts) for k in ("word", "char")]).tocsr()
        # canonical before the threads share it: scipy 1.17 otherwise sorts the matrix in place
        # inside each fit's ``x.max()``, and two threads doing so at once segfault
        x_train.sum_duplicates()
        x_dev = sparse.hstack([vectorizers[k].transform(dev.texts) for k in ("word", "char")]).tocsr()
        # one binary problem per label, one label per core; liblinear releases the GIL, so threads
        # share the matrix without copies.  The result does not depend on the number of threads.
        fits = Parallel(n_jobs=_cores(), prefer="threads")(
            delayed(_fit_label)(x_train, train.labels[:, j]) for j in range(train.labels.shape[1]))
        coef = np.vstack([c for c, _ in fits]).astype(np.float32)
        intercept = np.array([b for _, b in fits], dtype=np.float32)
        dev_probs = 1.0 / (1.0 + np.exp(-(x_dev @ coef.T + intercept)))
        thresholds = best_thresholds(dev.labels, dev_probs).astype(np.float32)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name("partial-" + path.name)
        np.savez_compressed(
            partial, labels=np.array(train.label_names), coef=coef, intercept=intercept,
            thresholds=thresholds,
            word_vocab=vectorizers["word"].get_feature_names_out().astype(str),
            word_idf=vectorizers["word"].idf_,
            char_vocab=vectorizers["char"].get_feature_names_out().astype(str),
            char_idf=vectorizers["char"].idf_, recipe=np.array(json.dumps(TFIDF_RECIPE)))
        partial.replace(path)  # atomic: a crashed run never leaves a half-written cache
        self.trained_seconds = time.perf_counter() - started

    # -- inference ---------------------------------------------------------------------------
    def analyze(self, batch: Sequence[Any]) -> list[EmotionResult]:
        if not batch:
            return []
        self.load()
        from scipy import sparse

        items: list[TextItem | None] = []
        warnings: list[str | None] = []
        for value in batch:
            item, warning = _text_or_warning(value)
            items.append(item)
            warnings.append(warning)
        valid = [i for i, item in enumerate(items) if item is not None]
        texts = [items[i].text for i in valid]  # type: ignore[union-attr]
        results: list[EmotionResult] = [_empty(batch[i], warnings[i] or "unreadable input")
                                        for i in range(len(batch))]
        if not texts:
            return results
        x = sparse.hstack([self._word.transform(texts), self._char.transform(texts)]).tocsr()
        assert self._coef is not None and self._intercept is not None and self._thresholds is not None
        logits = np.asarray(x @ self._coef.T) + self._intercept
        probs = 1.0 / (1.0 + np.exp(-logits))
        for row, i in enumerate(valid):
            item = items[i]
            assert item is not None
            results[i] = self._to_result(item, probs[row], x.getrow(row))
        return results

    def _to_result(self, item: TextItem, probs: np.ndarray, features: Any) -> EmotionResult:
        assert self._thresholds is not None
        predicted = probs >= self._thresholds
        if not predicted.any():  # a user always gets a label: the one closest to its threshold
            predicted[int(np.argmax(probs / np.maximum(self._thresholds, 1e-6)))] = True
        order = np.flatnonzero(predicted)[np.argsort(-probs[predicted])]
        labels = tuple(self.labels[i] for i in order)
        scores = {label: float(p) for label, p in zip(self.labels, probs, strict=True)}
        cues = tuple(self._cues(item.text, features, [int(i) for i in order if self.labels[i] != "neutral"]))
        segment = _segment(item, label_set=self.label_set, scores=scores, labels=labels,
                           vad=_anchor_vad(scores, self.label_set), confidence=float(probs[order].max()),
                           name=self.name, version=self.version, cues=cues)
        return EmotionResult((segment,), item.source)

    def _cues(self, text: str, features: Any, label_indices: list[int]) -> list[Cue]:
        assert self._coef is not None and self._features is not None
        columns = features.indices
        values = features.data
        lowered = text.lower()
        cues: list[Cue] = []
        for j in label_indices[: self.n_cues]:
            contribution = values * self._coef[j, columns]
            for k in np.argsort(-contribution)[: self.n_cues]:
                if contribution[k] <= 0:
                    break
                column = int(columns[k])
                is_word = column < self._n_word
                phrase = str(self._features[column]) if is_word else str(self._features[column]).strip()
                span = _span_of(lowered, phrase, whole_word=is_word)
                cues.append(Cue(kind="word" if is_word else "char_ngram",
                                phrase=text[span[0]:span[1]] if span else phrase,
                                weight=float(contribution[k]), label=self.labels[j], span=span))
        return cues


def _fit_label(x: Any, y: np.ndarray) -> tuple[np.ndarray, float]:
    """Coefficients and intercept of one label's logistic regression (a constant if y never varies)."""
    from sklearn.linear_model import LogisticRegression

    if y.min() == y.max():  # a label always (or never) on in train
        return np.zeros(x.shape[1]), 9.0 if y[0] > 0 else -9.0
    fitted = LogisticRegression(**TFIDF_RECIPE["logreg"]).fit(x, y)
    return fitted.coef_.ravel(), float(fitted.intercept_[0])


def _span_of(lowered_text: str, phrase: str, *, whole_word: bool) -> tuple[int, int] | None:
    if not phrase:
        return None
    if whole_word:  # sklearn's word tokens are \b\w\w+\b; a bigram's words are separated by non-word chars
        pattern = r"\b" + r"\W+".join(re.escape(part) for part in phrase.split(" ")) + r"\b"
        match = re.search(pattern, lowered_text)
        return (match.start(), match.end()) if match else None
    at = lowered_text.find(phrase)
    return (at, at + len(phrase)) if at >= 0 else None
