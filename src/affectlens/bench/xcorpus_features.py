"""Frozen encoder features of the cross-corpus texts, computed once and cached outside the repo.

The features are what the conversation model reads (``TextOnnxRecognizer.turn_features``):
``[embedding (384), GoEmotions logits / 5 (28), mean of layer 3 (384)]`` of the shipped
text model's float graph (``model.onnx``), first 128 word pieces.  The cache key holds the
encoder graph's pinned sha256 and a hash of the texts, so a changed corpus or model is re-encoded.

    python -m affectlens.bench.xcorpus_features --cache /work/cache/text   # all corpora, all splits
"""

from __future__ import annotations

import argparse
import hashlib
import os
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from affectlens.bench.xcorpus_data import LOADERS, SPLITS, CorpusTexts, load_corpus

FEATURE_DIM = 796
#: train texts per corpus (a fixed hashed subset): bounds the one-off encoding on 2 shared cores
MAX_TRAIN_TEXTS = 6_000
#: test texts scored per corpus where a corpus is large and noisy (CrowdFlower's 8,006: a hashed 4,000)
MAX_TEST_TEXTS = {"crowdflower": 4_000}
LOGIT_COLUMNS = slice(384, 412)  # the previous model's 28 GoEmotions logits, divided by 5


def default_cache() -> Path:
    """``$AFFECTLENS_CACHE/xcorpus`` or ``~/.cache/affectlens/xcorpus``."""
    base = os.environ.get("AFFECTLENS_CACHE")
    return (Path(base) if base else Path.home() / ".cache" / "affectlens") / "xcorpus"


def _texts_key(data: CorpusTexts) -> str:
    digest = hashlib.sha256()
    for text in data.texts:
        digest.update(text.encode("utf-8", "replace") + b"\0")
    return digest.hexdigest()[:16]


class FeatureCache:
    """Encodes a corpus split with the shipped text encoder once; later calls read the cache."""

    def __init__(self, cache: Path | None = None, root: str | Path | None = None,
                 on_progress: Callable[[str], None] | None = None) -> None:
        self.cache = cache or default_cache()
        self.root = root
        self.on_progress = on_progress or (lambda line: None)
        self._encoder: object | None = None

    def _model_key(self) -> str:
        """The pinned sha256 of the encoder graph the features come from (a config edit such as a licence
        line must not invalidate the cache; new weights must)."""
        import json

        from affectlens.dialogue.context_model import TURN_ENCODER_FILE
        from affectlens.recognizers.text_onnx import DEFAULT_MODEL_DIR

        config = json.loads((DEFAULT_MODEL_DIR / "config.json").read_text(encoding="utf-8"))
        return str(config["sha256"][TURN_ENCODER_FILE])[:12]

    def encode(self, texts: list[str]) -> np.ndarray:
        from affectlens.dialogue.context_model import TURN_ENCODER_FILE, TURN_ENCODER_SESSION_CONFIG
        from affectlens.recognizers.text_onnx import TextOnnxRecognizer

        if self._encoder is None:
            self._encoder = TextOnnxRecognizer(session_config=TURN_ENCODER_SESSION_CONFIG,
                                               model_file=TURN_ENCODER_FILE)
        assert isinstance(self._encoder, TextOnnxRecognizer)
        features, _ = self._encoder.turn_features(texts)
        return features

    def get(self, corpus: str, split: str, max_texts: int | None = None) -> tuple[CorpusTexts, np.ndarray]:
        data = load_corpus(corpus, split, self.root, max_texts)
        path = self.cache / f"{corpus}-{split}-{self._model_key()}-{_texts_key(data)}.npy"
        if path.is_file():
            features = np.load(path)
            if features.shape == (len(data), FEATURE_DIM):
                return data, features.astype(np.float32)
        started = time.perf_counter()
        features = self.encode(data.texts).astype(np.float16)
        self.cache.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp.npy")
        np.save(tmp, features)
        tmp.replace(path)
        self.on_progress(f"encoded {corpus} {split}: {len(data)} texts in {time.perf_counter() - started:.0f} s")
        return data, features.astype(np.float32)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cache", type=Path, default=None)
    parser.add_argument("--data-root", type=Path, default=None)
    parser.add_argument("--corpus", action="append", choices=sorted(LOADERS))
    parser.add_argument("--split", action="append", choices=SPLITS)
    parser.add_argument("--max-train", type=int, default=MAX_TRAIN_TEXTS)
    args = parser.parse_args()
    cache = FeatureCache(args.cache, args.data_root, on_progress=lambda line: print(line, flush=True))
    for corpus in args.corpus or list(LOADERS):
        for split in args.split or SPLITS:
            cache.get(corpus, split, args.max_train if split == "train" else MAX_TEST_TEXTS.get(corpus))


if __name__ == "__main__":
    main()
