"""The text encoder: the MiniLM ONNX session(s), tokenization and pooling, shared by every model that reads text.

``TextEncoder`` owns what the GoEmotions recognizer (``text_onnx.TextOnnxRecognizer``) and the
heads that reuse its features have in common: loading a text model folder (``model_folder``:
config, pinned hashes; the graph ``model_file`` names, an optional VAD branch, onnxruntime
session entries, the tokenizer), running the graph (``_run``), the first-window batches and
the pooled turn features (``turn_features``: ``[embedding, logits / 5, mean of hidden layer 3]``,
``feature_block``).  The heads (the conversation model ``dialogue/context_model``, the cause
models ``dialogue/causes`` and ``dialogue/cause_spans``, the support model ``dialogue/support``)
read those features; the recognizer adds windows, calibration, labels and cues on top.
``TextOnnxRecognizer`` is a ``TextEncoder``, so one loaded session serves both.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from affectlens.recognizers.text_model_config import TextModelConfig
from affectlens.types import EmotionResult


def padded_batch(seqs: Sequence[Sequence[int]]) -> tuple[np.ndarray, np.ndarray]:
    """``(input_ids, attention_mask)`` of token id sequences, zero-padded to the longest."""
    width = max(len(seq) for seq in seqs)
    ids = np.zeros((len(seqs), width), dtype=np.int64)
    mask = np.zeros((len(seqs), width), dtype=np.int64)
    for row, seq in enumerate(seqs):
        ids[row, : len(seq)] = seq
        mask[row, : len(seq)] = 1
    return ids, mask


@dataclass(frozen=True)
class PieceStates:
    """A text's word pieces from one encoder pass: tokenizer encoding, hidden layer 3, token logits."""

    encoding: Any  # tokenizers.Encoding of the text, without special tokens
    hidden_layer3: np.ndarray  # [pieces, H]
    token_logits: np.ndarray  # [pieces, L]


@dataclass(frozen=True)
class TurnPass:
    """What one encoder pass gives the conversation model per text (``analyze_with_turn_features``)."""

    results: list[EmotionResult]
    features: np.ndarray  # [texts, D]: ``turn_features``
    pieces: list[PieceStates | None]  # None where the text spans several windows


class TextEncoder:
    """A text model folder's encoder: sessions, tokenizer, config (``load``), graph runs and turn features.

    The class that builds it stores the parameters below in ``__init__`` (``TextOnnxRecognizer`` does).
    """

    model_dir: Path
    config_file: str
    model_file: str | None  # None: the model config's graph
    session_config: Mapping[str, str] | None  # None: the model config's entries
    threads: int | None
    verify: bool
    batch_size: int
    label_set: str
    _session: Any
    _vad_session: Any
    _tokenizer: Any
    _config: TextModelConfig | None
    _neutral_index: int | None
    #: batches run at once, each on one thread of its own (``load``); 1: one run at a time on the pool
    _workers: int = 1
    _pool: Any = None

    # -- loading -------------------------------------------------------------------------
    def load(self) -> None:
        if self._session is not None:
            return
        import onnxruntime as ort
        from tokenizers import Tokenizer

        from affectlens.model_folder import ModelFolder
        from affectlens.runtime_threads import current_layout, session_options

        folder = ModelFolder.read(self.model_dir, kind="text", config_file=self.config_file, required_keys=("labels",))
        config = TextModelConfig.from_dict(folder.config)
        model_file = config.model_file if self.model_file is None else self.model_file
        files = [model_file, "tokenizer.json"]
        if config.vad_branch_file:
            files.append(config.vad_branch_file)
        # every pinned file present is checked, not only those named above: a graph may read its
        # weights out of another one (model_static.onnx out of model.onnx, affectlens_recipes/text_static.py)
        folder.check_files(files, verify=self.verify)
        # threads and spinning: ``runtime_threads`` (CPUs available, AFFECTLENS_THREADS, options).
        # With a branch, the two sessions take turns on the same cores: each may use them all,
        # but neither may spin (a pool that spin-waits after its run starves the other's
        # threads: a 3-layer student beside the shipped model gave 328 bare texts/s spinning,
        # 394 without), which the automatic layout never does
        entries = config.session_config if self.session_config is None else self.session_config
        # With N threads, N batches run at once, each on one thread (onnxruntime's ``run`` is
        # thread-safe), instead of one batch on an N-thread pool: a batch of short texts is many
        # small operators, and a pool that does not spin wakes its threads for each of them.
        # 2 cores, GoEmotions test, v2's graph alone: 565 vs 353-483 texts/s (docs/batch.md, "Threads")
        self._workers = current_layout(threads=self.threads).threads
        run_threads = 1 if self._workers > 1 else self.threads
        if self._workers > 1:
            from concurrent.futures import ThreadPoolExecutor

            self._pool = ThreadPoolExecutor(self._workers, thread_name_prefix="affectlens-text")
        options = session_options(ort, threads=run_threads, entries=entries)
        # every batch has its own length: a memory pattern planned and kept per input shape only
        # costs memory (GoEmotions test, 2 cores: peak RSS 251-266 vs 306-321 MB, texts/s the same)
        options.enable_mem_pattern = False
        self._session = ort.InferenceSession(str(self.model_dir / model_file), options,
                                             providers=["CPUExecutionProvider"])
        if config.vad_branch_file:
            self._vad_session = ort.InferenceSession(str(self.model_dir / config.vad_branch_file),
                                                     session_options(ort, threads=run_threads, entries={}),
                                                     providers=["CPUExecutionProvider"])
        tokenizer = Tokenizer.from_file(str(self.model_dir / "tokenizer.json"))
        tokenizer.no_padding()
        tokenizer.no_truncation()
        self._tokenizer = tokenizer
        self._config = config
        self.label_set = config.label_set
        labels = list(config.labels)
        self._neutral_index = labels.index(config.neutral_label) if config.neutral_label in labels else None

    @property
    def config(self) -> TextModelConfig:
        self.load()
        assert self._config is not None
        return self._config

    def _run_batches(self, outputs: list[str], batches: Iterable[tuple[np.ndarray, np.ndarray]],
                     ) -> Iterator[tuple[np.ndarray, list[np.ndarray]]]:
        """``(mask, _run(...))`` per ``(ids, mask)`` batch, in order; ``_workers`` at once, a few ahead at most.

        ``batches`` may be a generator: only the batches in flight are held (a long document's are not).
        """
        if self._workers <= 1 or self._pool is None:
            for ids, mask in batches:
                yield mask, self._run(outputs, ids, mask)
            return
        pending: deque[tuple[np.ndarray, Any]] = deque()
        for ids, mask in batches:
            pending.append((mask, self._pool.submit(self._run, outputs, ids, mask)))
            if len(pending) >= 2 * self._workers:
                mask_done, future = pending.popleft()
                yield mask_done, future.result()
        while pending:
            mask_done, future = pending.popleft()
            yield mask_done, future.result()

    def _run(self, outputs: list[str], ids: np.ndarray, mask: np.ndarray) -> list[np.ndarray]:
        """The main graph's ``outputs``; ``vad`` from the VAD branch when the model has one."""
        feeds = {"input_ids": ids, "attention_mask": mask}
        if self._vad_session is None or "vad" not in outputs:
            return list(self._session.run(outputs, feeds))
        source = self.config.vad_branch_input
        extra = [] if source in outputs or source == "input_ids" else [source]
        values = dict(zip(outputs + extra, self._session.run(outputs + extra, feeds), strict=True))
        # "input_ids": a whole second encoder (a VAD student) over the same word pieces
        branch_feeds = feeds if source == "input_ids" else {source: values[source], "attention_mask": mask}
        (branch_vad,) = self._vad_session.run(["vad"], branch_feeds)
        blend = self.config.vad_branch_blend
        values["vad"] = branch_vad if blend is None else (1.0 - blend) * values["vad"] + blend * branch_vad
        return [values[name] for name in outputs]

    def first_window_batches(self, texts: Sequence[str], outputs: list[str], max_tokens: int = 128,
                             ) -> Iterator[tuple[list[int], np.ndarray, list[np.ndarray]]]:
        """Run the graph over ``[CLS]`` + each text's first ``max_tokens - 2`` word pieces + ``[SEP]``.

        Yields, per length-sorted batch: the texts' indices, the attention mask and ``outputs``.
        """
        self.load()
        cls_id = self._tokenizer.token_to_id("[CLS]")
        sep_id = self._tokenizer.token_to_id("[SEP]")
        encodings = self._tokenizer.encode_batch(list(texts), add_special_tokens=False)
        token_ids = [[cls_id, *enc.ids[: max_tokens - 2], sep_id] for enc in encodings]
        order = sorted(range(len(token_ids)), key=lambda i: len(token_ids[i]))
        chunks = [order[b : b + self.batch_size] for b in range(0, len(order), self.batch_size)]

        batches = (padded_batch([token_ids[i] for i in chunk]) for chunk in chunks)
        for chunk, (mask, values) in zip(chunks, self._run_batches(outputs, batches), strict=True):
            yield chunk, mask, values

    def turn_features(self, texts: Sequence[str], max_tokens: int = 128) -> tuple[np.ndarray, np.ndarray]:
        """Per text: the encoder features the conversation model reads, and VAD in [-1, 1].

        Features are ``[embedding (384), logits / 5 (28), mean of layer 3 (384)]`` of the
        first ``max_tokens`` word pieces (dialogue turns are short; the conversation
        model was trained on the same truncation).  Needs a model exported with the
        ``embedding`` and ``hidden_layer3`` outputs (``affectlens_recipes/onnx_outputs.py``).
        """
        features: np.ndarray | None = None
        vad = np.zeros((len(texts), 3), dtype=np.float32)
        batches = self.first_window_batches(texts, ["logits", "vad", "embedding", "hidden_layer3"], max_tokens)
        for chunk, mask, (logits, vad_raw, embedding, hidden3) in batches:
            block = feature_block(logits, embedding, hidden3, mask)
            if features is None:
                features = np.zeros((len(texts), block.shape[1]), dtype=np.float32)
            features[chunk] = block
            vad[chunk] = self._vad_unit(vad_raw)
        return (features if features is not None else np.zeros((0, 0), dtype=np.float32)), vad

    def _vad_unit(self, vad_raw: np.ndarray) -> np.ndarray:
        """The model's standardised VAD -> the native scale -> [-1, 1]."""
        cfg = self.config
        native = vad_raw * cfg.vad_std + cfg.vad_mean
        return np.clip((native - cfg.vad_scale_center) / cfg.vad_scale_half_range, -1.0, 1.0)


def feature_block(logits: np.ndarray, embedding: np.ndarray, hidden3: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """``[embedding, logits / 5, mask-weighted mean of hidden_layer3]`` per row of a batch."""
    weights = mask[:, :, None].astype(np.float32)
    pooled3 = (hidden3 * weights).sum(1) / weights.sum(1)
    return np.concatenate([embedding, logits / 5.0, pooled3], axis=1)


__all__ = ["PieceStates", "TextEncoder", "TurnPass", "feature_block"]
