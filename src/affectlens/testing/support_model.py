"""Stand-ins for tests and demos of the support recognizer: a fake 4-number text encoder and tiny heads.

``SupportRecognizer(write_tiny_model(folder), text_model=FakeText())`` runs the whole
recognizer (points, care, cues) in milliseconds, with no shipped weights.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from affectlens.dialogue.support_features import N_STRATEGIES, STRATEGIES
from affectlens.recognizers.text_encoder import TurnPass
from affectlens.types import VAD, Cue, EmotionResult, Modality, Provenance, Segment

DIM = 4


class FakeText:
    """Stands in for the text model: 4 numbers per turn, a fixed emotion and one word cue."""

    max_tokens = 128
    name = "fake.text.v1"

    def load(self) -> None:
        pass

    def _features(self, texts: list[str]) -> np.ndarray:
        return np.array([[len(t) / 10, t.count("?"), t.count("!"), float("sad" in t)] for t in texts],
                        dtype=np.float32)

    def turn_features(self, texts: list[str], max_tokens: int = 128) -> tuple[np.ndarray, np.ndarray]:
        return self._features(texts), np.zeros((len(texts), 3), dtype=np.float32)

    def analyze_with_turn_features(self, texts: list[str]) -> TurnPass:
        results = []
        for t in texts:
            sad = "sad" in t
            cues = (Cue("word", '"sad"', 0.5, "sadness", span=(t.index("sad"), t.index("sad") + 3)),) if sad else ()
            scores = {"sadness": 0.9 if sad else 0.1, "joy": 0.1 if sad else 0.8}
            results.append(EmotionResult((Segment(
                Modality.TEXT, "goemotions", scores, ("sadness" if sad else "joy",),
                VAD(-0.6 if sad else 0.5, 0.1, 0.0), 0.9, Provenance("fake.text.v1", "v1"), cues, text=t),)))
        return TurnPass(results, self._features(texts), [None] * len(texts))


def write_tiny_model(folder: Path, seed: int = 1) -> Path:
    """Random ``observe``/``suggest`` heads over ``FakeText``'s 4 numbers, with a config and hashes."""
    import onnx

    from affectlens.models import sha256_file
    from affectlens_recipes.support_heads import LinearHead, linear_onnx

    rng = np.random.default_rng(seed)
    dims = {"observe": 2 * DIM + 2, "suggest": 2 * DIM + 3 * N_STRATEGIES + 10}
    for mode, d in dims.items():
        head = LinearHead(rng.normal(size=(N_STRATEGIES, d)).astype(np.float32), np.zeros(N_STRATEGIES, np.float32))
        onnx.save(linear_onnx(head, mode), str(folder / f"head_{mode}.onnx"))
    config = {"heads": {m: f"head_{m}.onnx" for m in dims}, "temperatures": {"observe": 1.0, "suggest": 1.5},
              "labels": list(STRATEGIES), "encoder": {"file": "model.onnx", "onnxruntime_session_config": {}},
              "sha256": {f"head_{m}.onnx": sha256_file(folder / f"head_{m}.onnx") for m in dims}}
    (folder / "config.json").write_text(json.dumps(config))
    return folder


__all__ = ["DIM", "FakeText", "write_tiny_model"]
