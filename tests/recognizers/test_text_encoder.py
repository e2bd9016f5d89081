"""The text encoder is its own module: the recognizer and the dialogue heads build on it, not the other way round."""

from __future__ import annotations

import ast
import threading
import time
from pathlib import Path

import numpy as np

from affectlens.recognizers import text_encoder
from affectlens.recognizers.text_encoder import TextEncoder, feature_block


def test_the_encoder_module_imports_no_recognizer_and_no_head() -> None:
    tree = ast.parse(Path(text_encoder.__file__).read_text(encoding="utf-8"))
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    imported |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    assert not {m for m in imported if m.startswith(("affectlens.dialogue", "affectlens.recognizers.text_onnx"))}


def test_the_recognizer_is_an_encoder_and_heads_read_the_encoder_module() -> None:
    from affectlens.dialogue import context_model
    from affectlens.recognizers.text_onnx import PieceStates, TextOnnxRecognizer, TurnPass
    from affectlens.testing import support_model

    assert issubclass(TextOnnxRecognizer, TextEncoder)
    assert PieceStates is text_encoder.PieceStates and TurnPass is text_encoder.TurnPass  # old import path kept
    for head in (context_model, support_model):
        assert "affectlens.recognizers.text_encoder" in Path(head.__file__).read_text(encoding="utf-8")


def test_feature_block_is_embedding_scaled_logits_and_masked_mean_of_layer3() -> None:
    embedding = np.array([[1.0, 2.0]], np.float32)
    logits = np.array([[5.0, -10.0]], np.float32)
    hidden3 = np.array([[[1.0, 3.0], [3.0, 5.0], [100.0, 100.0]]], np.float32)  # the last piece is padding
    mask = np.array([[1, 1, 0]])
    assert feature_block(logits, embedding, hidden3, mask).tolist() == [[1.0, 2.0, 1.0, -2.0, 2.0, 4.0]]


_LOCK = threading.Lock()


class _SlowEncoder(TextEncoder):
    """``_run`` that sleeps longer for earlier batches: results must still come back in order."""

    def __init__(self, workers: int) -> None:
        from concurrent.futures import ThreadPoolExecutor

        self._workers = workers
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="affectlens-text") if workers > 1 else None
        self.running = 0
        self.most_at_once = 0

    def _run(self, outputs: list[str], ids: np.ndarray, mask: np.ndarray) -> list[np.ndarray]:
        with _LOCK:
            self.running += 1
            self.most_at_once = max(self.most_at_once, self.running)
        time.sleep(0.02 * (5 - int(ids[0, 0])) / 5)
        assert threading.current_thread().name.startswith("affectlens-text") or self._workers == 1
        with _LOCK:
            self.running -= 1
        return [ids * 10]


def test_batches_run_side_by_side_and_come_back_in_order() -> None:
    batches = [(np.full((2, 3), k, dtype=np.int64), np.ones((2, 3), dtype=np.int64)) for k in range(5)]
    for workers in (1, 2):
        encoder = _SlowEncoder(workers)
        results = list(encoder._run_batches(["logits"], iter(batches)))
        assert [int(values[0][0, 0]) for _, values in results] == [0, 10, 20, 30, 40]
        assert all(mask is batch[1] for (mask, _), batch in zip(results, batches, strict=True))
        assert encoder.most_at_once == workers
