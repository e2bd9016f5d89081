"""Text emotion recognizer over an ONNX encoder with a token-decomposable head.

A model folder holds ``model.onnx`` (inputs ``input_ids``, ``attention_mask``; outputs
``logits`` [B, 28], ``vad`` [B, 3], ``token_logits`` [B, T, 28]), ``tokenizer.json`` and
``config.json`` (labels, per-label temperatures and thresholds, VAD scaling, sha256 of
the files).  The shipped default is ``models/text-minilm-goemotions-v1``; any folder of
the same layout works (``TextOnnxRecognizer(model_dir=...)``), which is how a user points
us to a local export of another model.  Loading the folder, running the graph and the pooled
turn features that the dialogue heads read are the encoder's (``text_encoder.TextEncoder``,
which this recognizer is); this module adds windows, calibration, labels and cues.

Long texts are not truncated.  ``analyze`` cuts a text longer than one window
(``max_tokens`` word pieces) at sentence boundaries into windows that fit, and returns a
document aggregate (the length-weighted mean of the windows' probabilities) followed by a
segment per window with its character span (``recognizers/text_windows.py``); the text is
never tokenised whole, so memory stays bounded.  Other callers of ``_infer`` (occlusion,
turn features, training) still see the older overlapping windows (stride
``max_tokens * 3 // 4``): emotion logit the maximum over windows, neutral logit the
minimum, VAD the length-weighted mean, a word's cue weight averaged over its windows.

A config may name a VAD branch (``"vad_branch": {"file": ..., "input": "hidden_layer3"}``): a
second, small graph over an inner tensor of ``model.onnx`` whose VAD replaces the main
graph's ``vad`` output (``affectlens_recipes/text_vad_branch.py``); with ``"input": "input_ids"`` it is a
whole encoder of its own over the same word pieces (a VAD student, ``affectlens_recipes/text_teacher.py``).
With ``"blend": [wv, wa, wd]`` the two are averaged per dimension (standardised VAD), the
branch weighted ``w``: the weights are fitted on EmoBank dev when the branch is exported.

``"model_file"`` names the graph ``analyze`` runs when it is not ``model.onnx``: the shipped
model runs ``model_static.onnx`` (int8 activations, a VAD student merged in and blended inside
the graph, ``affectlens_recipes/text_static.py``) and keeps ``model.onnx`` for the conversation and cause
models, whose heads learnt from its features (they pass ``model_file="model.onnx"``).

``"onnxruntime_session_config"`` holds onnxruntime session entries for that graph (not
for a branch).  The shipped default needs none (its static int8 graph runs as stored); its
float variant (``config_float.json``, ``text.minilm-goemotions-float.v1``) sets
``"session.disable_quant_qdq": "1"``: onnxruntime then runs ``model.onnx``'s int8-weight
MatMuls as float MatMuls over dequantised weights instead of fusing them into ``MatMulNBits``
with int8 activations, which is faster on these CPUs and what that config's temperatures and
thresholds were fitted on.  A caller whose heads were trained on the fused path's features
(the conversation model) passes ``model_file`` and ``session_config`` to choose it.

``cues="occlusion"`` replaces the word cues read off the one pass by the probability each
label loses when a word is deleted, the model re-run once per word (``explain/text.py``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from affectlens.calibration import threshold_decisions
from affectlens.explain.text import delete_words, occlusion_cues, word_cues, word_spans
from affectlens.inputs import TextItem, as_text_item
from affectlens.io.language_hints import language_warning
from affectlens.recognizer_params import RecognizerParams
from affectlens.recognizers.text_encoder import PieceStates as PieceStates  # re-exported: their home before
from affectlens.recognizers.text_encoder import TextEncoder, TurnPass, feature_block, padded_batch
from affectlens.recognizers.text_model_config import ModelFilesMissing as ModelFilesMissing  # re-exported
from affectlens.recognizers.text_model_config import ModelIntegrityError as ModelIntegrityError
from affectlens.types import VAD, EmotionResult, Modality, Provenance, Segment, StreamedResult

#: what the graph gives one text: (logits [L], vad [3], [((encoding, first, last), token_logits [T, L])])
TextOutput = tuple[np.ndarray, np.ndarray, list[tuple[Any, np.ndarray]]]

DEFAULT_MODEL_DIR = Path(__file__).resolve().parent.parent / "models" / "text-minilm-goemotions-v1"
DEFAULT_NAME = "text.minilm-goemotions.v1"
CUE_METHODS = ("decomposition", "occlusion")
#: occlusion re-runs the model once per word: texts with more words (or several windows) fall back
MAX_OCCLUSION_WORDS = 64
#: texts longer than this (characters) go to sentence windows without a whole-text tokenisation
LONG_TEXT_CHARS = 20_000
#: deleted-word variants scored per model pass, which bounds the memory of a large batch
OCCLUSION_VARIANTS_PER_PASS = 2048


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


class TextOnnxRecognizer(RecognizerParams, TextEncoder):
    """GoEmotions-28 text emotions, VAD and word cues from an ONNX model (onnxruntime + tokenizers)."""

    # analysis only: with_params copies share the model
    RUNTIME_PARAMS = frozenset({"cues", "n_cues", "batch_size", "max_tokens"})

    modality = Modality.TEXT

    def __init__(
        self,
        model_dir: str | Path | None = None,
        *,
        name: str = DEFAULT_NAME,
        max_tokens: int = 128,
        batch_size: int = 32,  # windows per onnxruntime call: 32 ran 6-8% faster than 64 on 2 cores
        n_cues: int = 3,
        threads: int | None = None,
        verify: bool = True,
        session_config: Mapping[str, str] | None = None,
        model_file: str | None = None,
        config_file: str = "config.json",
        cues: str = "decomposition",
    ) -> None:
        if cues not in CUE_METHODS:
            raise ValueError(f"cues must be one of {', '.join(CUE_METHODS)}, not {cues!r}")
        self.model_dir = Path(model_dir) if model_dir is not None else DEFAULT_MODEL_DIR
        self.name = name
        self.max_tokens = max_tokens
        self.batch_size = batch_size
        self.n_cues = n_cues
        self.threads = threads
        self.verify = verify
        self.session_config = session_config  # None: the model config's entries
        self.model_file = model_file  # None: the model config's graph
        self.config_file = config_file
        # "decomposition": each word's share of the logit, read off one pass (``explain/text.py``);
        # "occlusion": the model re-run without each word (up to MAX_OCCLUSION_WORDS words), slower
        self.cues = cues
        self.version = name.rsplit(".", 1)[-1]
        self.label_set = "goemotions"
        # the encoder's state (``TextEncoder``), set by ``load()``
        self._session = None
        self._vad_session = None
        self._tokenizer = None
        self._config = None
        self._neutral_index = None

    # -- inference -----------------------------------------------------------------------
    def analyze(self, batch: Sequence[Any]) -> list[EmotionResult]:
        if not batch:
            return []
        self.load()
        items: list[TextItem | None] = []
        warnings: list[str | None] = []
        for value in batch:
            try:
                item = as_text_item(value)
            except ValueError as err:
                items.append(None)
                warnings.append(str(err))
                continue
            if not item.text.strip():
                items.append(None)
                warnings.append("empty text: nothing to analyse")
            else:
                items.append(item)
                warnings.append(None)
        # texts longer than one window become sentence windows + a document aggregate
        documents = {i for i, item in enumerate(items) if item is not None and self.is_long_text(item.text)}
        valid = [i for i, item in enumerate(items) if item is not None and i not in documents]
        valid_items = [item for item in (items[i] for i in valid) if item is not None]  # (valid has no None)
        texts = [item.text for item in valid_items]
        too_long: list[int] = []
        built: dict[int, EmotionResult] = {}
        if texts and self.cues == "occlusion":
            outputs = self._infer(texts, too_long=too_long)
            skipped = set(too_long)
            for t, (output, drops) in enumerate(zip(outputs, self._occlusion(texts, outputs), strict=True)):
                if t not in skipped:
                    item = valid_items[t]
                    built[valid[t]] = _warn_if_not_english(self._to_result(item, *output, drops=drops), item)
        elif texts:
            # each text's result is made as soon as its batch is back, while the next batches run:
            # the Python of results and cues no longer waits for the last batch on an idle core
            # (2 cores, GoEmotions test, full path: 1.03x, docs/training.md, "v4's speed, session 15")
            for t, output in self._infer_stream(texts, too_long=too_long):
                built[valid[t]] = _warn_if_not_english(self._to_result(valid_items[t], *output), valid_items[t])
        documents.update(valid[k] for k in too_long)
        results: list[EmotionResult] = []
        for i, maybe in enumerate(items):
            if maybe is None:
                source = getattr(batch[i], "source", None)
                results.append(EmotionResult((), source, (warnings[i] or "unreadable input",)))
            elif i in documents:
                from affectlens.recognizers.text_windows import analyze_document

                results.append(_warn_if_not_english(analyze_document(self, maybe), maybe))
            else:
                results.append(built[i])
        return results

    @staticmethod
    def is_long_text(text: str) -> bool:
        """Read as a document of sentence windows (``analyze`` also does so with a shorter text whose
        word pieces do not fit one window)."""
        return len(text) > LONG_TEXT_CHARS

    def stream_document(self, item: TextItem) -> StreamedResult:
        """A long text's result with its window segments handed on as they are made and the document
        aggregate last (``text_windows.stream_document``): bounded memory for a text of any length."""
        from affectlens.recognizers.text_windows import stream_document

        self.load()
        note = language_warning(item.text)
        return StreamedResult(stream_document(self, item), item.source, () if note is None else (note,),
                              item.record_id)

    def _occlusion(self, texts: list[str], outputs: list[tuple[np.ndarray, np.ndarray, list[Any]]],
                   ) -> list[np.ndarray | None]:
        """Per text, [words, labels]: the calibrated probability lost when each word is deleted.

        None for a text of several windows or more than ``MAX_OCCLUSION_WORDS`` words.
        """
        temperatures = self.config.temperatures
        jobs: list[tuple[int, list[str]]] = []  # (text index, the text without each of its words)
        for t, (text, (_, _, spans)) in enumerate(zip(texts, outputs, strict=True)):
            words = word_spans(text)
            if len(spans) == 1 and 0 < len(words) <= MAX_OCCLUSION_WORDS:
                jobs.append((t, [delete_words(text, [span]) for span in words]))
        drops: list[np.ndarray | None] = [None] * len(texts)
        first = 0
        while first < len(jobs):  # whole texts per pass, up to OCCLUSION_VARIANTS_PER_PASS variants
            last, size = first, 0
            while last < len(jobs) and (last == first or size + len(jobs[last][1]) <= OCCLUSION_VARIANTS_PER_PASS):
                size += len(jobs[last][1])
                last += 1
            variants = [v for _, text_variants in jobs[first:last] for v in text_variants]
            probs = _sigmoid(np.stack([o[0] for o in self._infer(variants)]) / temperatures)
            offset = 0
            for t, text_variants in jobs[first:last]:
                full = _sigmoid(outputs[t][0] / temperatures)
                drops[t] = full[None, :] - probs[offset : offset + len(text_variants)]
                offset += len(text_variants)
            first = last
        return drops

    def _infer(self, texts: list[str], first_windows: dict[int, tuple[np.ndarray, np.ndarray | None]] | None = None,
               too_long: list[int] | None = None) -> list[TextOutput]:
        """Per text: (logits [L], vad [3], [(encoding window, token_logits [T, L])]).

        With ``first_windows`` (a dict), also stores there, under each text's index and from
        the same encoder pass, its first window's turn features (see ``turn_features``) and,
        when that window holds the whole text, its pieces' ``hidden_layer3`` rows.
        With ``too_long`` (a list), texts longer than one window are not run: their indices
        are appended there and their entries are empty placeholders (``analyze`` reads them
        as sentence windows instead).
        """
        out: list[TextOutput | None] = [None] * len(texts)
        for t, output in self._infer_stream(texts, first_windows, too_long):
            out[t] = output
        n_labels = len(self.config.labels)
        return [(np.zeros(n_labels, dtype=np.float32), np.zeros(3, dtype=np.float32), []) if o is None else o
                for o in out]

    def _infer_stream(self, texts: list[str],
                      first_windows: dict[int, tuple[np.ndarray, np.ndarray | None]] | None = None,
                      too_long: list[int] | None = None) -> Iterator[tuple[int, TextOutput]]:
        """``(text index, _infer's entry)`` per text as soon as its last window's batch is back.

        Texts come in the order their batches finish (shortest first), not in ``texts`` order;
        texts put in ``too_long`` are not yielded (``too_long`` is complete once this is exhausted).
        """
        encodings = self._tokenizer.encode_batch(texts, add_special_tokens=False)
        token_ids = [enc.ids for enc in encodings]  # ``Encoding.ids`` builds a new list per access
        cls_id = self._tokenizer.token_to_id("[CLS]")
        sep_id = self._tokenizer.token_to_id("[SEP]")
        body = self.max_tokens - 2
        stride = max(1, body * 3 // 4)
        windows: list[tuple[int, int, int]] = []  # (text index, start, end) in word pieces
        for t, ids_t in enumerate(token_ids):
            n = len(ids_t)
            if too_long is not None and n > body:
                too_long.append(t)
                continue
            start = 0
            while True:
                end = min(n, start + body)
                windows.append((t, start, end))
                if end >= n:
                    break
                start += stride
        # length-bucketed batches: sorting by length removes almost all padding
        order = sorted(range(len(windows)), key=lambda w: windows[w][2] - windows[w][1])
        n_labels = len(self.config.labels)
        win_logits = np.zeros((len(windows), n_labels), dtype=np.float32)
        win_vad = np.zeros((len(windows), 3), dtype=np.float32)
        win_tokens: list[np.ndarray] = [np.zeros((0, n_labels), dtype=np.float32)] * len(windows)
        chunks = [order[b : b + self.batch_size] for b in range(0, len(order), self.batch_size)]
        batches = (padded_batch([[cls_id, *token_ids[windows[w][0]][windows[w][1] : windows[w][2]], sep_id]
                                 for w in chunk]) for chunk in chunks)
        extra = ["embedding", "hidden_layer3"] if first_windows is not None else []
        per_text: dict[int, list[int]] = {}
        for w, (t, _, _) in enumerate(windows):
            per_text.setdefault(t, []).append(w)
        waiting = {t: len(ws) for t, ws in per_text.items()}
        runs = self._run_batches(["logits", "vad", "token_logits", *extra], batches)
        for chunk, (mask, (logits, vad, token_logits, *hidden)) in zip(chunks, runs, strict=True):
            block = feature_block(logits, hidden[0], hidden[1], mask) if hidden else None
            done: list[int] = []
            for row, w in enumerate(chunk):
                t, s, e = windows[w]
                if block is not None and first_windows is not None and s == 0:
                    whole = hidden[1][row, 1 : e + 1].copy() if e == len(token_ids[t]) else None
                    first_windows[t] = (block[row], whole)
                win_logits[w] = logits[row]
                win_vad[w] = vad[row]
                win_tokens[w] = token_logits[row, : (e - s) + 2]  # [CLS] + pieces + [SEP]
                waiting[t] -= 1
                if not waiting[t]:
                    done.append(t)
            for t in done:
                ws = per_text[t]
                weights = np.asarray([max(1, windows[w][2] - windows[w][1]) for w in ws], dtype=np.float32)
                weights /= weights.sum()
                # An emotion voiced in any window is present in the text (max); the text is
                # neutral only if every window is (min); VAD is a length-weighted mean.
                logits_t = win_logits[ws].max(0)
                if self._neutral_index is not None:
                    logits_t[self._neutral_index] = win_logits[ws, self._neutral_index].min()
                vad_t = (win_vad[ws] * weights[:, None]).sum(0)
                spans = [((encodings[t], windows[w][1], windows[w][2]), win_tokens[w]) for w in ws]
                yield t, (logits_t, vad_t, spans)

    # -- the encoder's features with the recognizer's results (``text_encoder`` has the rest) ------
    def analyze_with_turn_features(self, texts: Sequence[str]) -> TurnPass:
        """``analyze`` and ``turn_features`` of non-empty texts from one encoder pass.

        The features are those of ``turn_features`` with ``max_tokens`` = this recognizer's
        ``max_tokens`` (the first window of ``analyze``); the conversation model reads both
        per turn, and the encoder is most of the cost.  Memory grows with the texts' pieces
        (their ``hidden_layer3`` rows are kept): pass a dialogue batch, not a corpus.
        """
        if any(not str(t).strip() for t in texts):
            raise ValueError("analyze_with_turn_features needs non-empty texts")
        if not texts:
            return TurnPass([], np.zeros((0, 0), dtype=np.float32), [])
        self.load()
        first: dict[int, tuple[np.ndarray, np.ndarray | None]] = {}
        outputs = self._infer([str(t) for t in texts], first)
        results = [self._to_result(TextItem(str(t)), *o) for t, o in zip(texts, outputs, strict=True)]
        states: list[PieceStates | None] = []
        for i, (_, _, spans) in enumerate(outputs):
            hidden = first[i][1]
            (encoding, _, end), window_logits = spans[0]
            states.append(None if hidden is None else PieceStates(encoding, hidden, window_logits[1 : end + 1]))
        return TurnPass(results, np.stack([first[i][0] for i in range(len(texts))]), states)

    def _to_result(self, item: TextItem, logits: np.ndarray, vad_raw: np.ndarray,
                   spans: list[tuple[Any, np.ndarray]], drops: np.ndarray | None = None) -> EmotionResult:
        cfg = self.config
        probs = _sigmoid(logits / cfg.temperatures)
        predicted = threshold_decisions(probs, cfg.thresholds)
        labels = tuple(cfg.labels[i] for i in np.flatnonzero(predicted)[np.argsort(-probs[predicted])])
        scores = {label: float(p) for label, p in zip(cfg.labels, probs, strict=True)}
        vad_unit = self._vad_unit(vad_raw)
        cue_labels = [label for label in labels if label != cfg.neutral_label][: self.n_cues]
        label_index = {label: i for i, label in enumerate(cfg.labels)}
        targets = [(lb, label_index[lb]) for lb in cue_labels]
        if drops is not None:
            cues = occlusion_cues(item.text, drops, targets, per_label=self.n_cues)
        else:
            cues = word_cues(item.text, spans, targets, per_label=self.n_cues)
        extras: dict[str, Any] = {"windows": len(spans)} if len(spans) > 1 else {}
        if self.cues != "decomposition":  # say which cues a text got when it had to fall back
            extras["cue_method"] = "occlusion" if drops is not None else "decomposition"
        segment = Segment(
            modality=Modality.TEXT,
            label_set=cfg.label_set,
            scores=scores,
            labels=labels,
            vad=VAD(*(float(x) for x in vad_unit)),
            confidence=float(max(probs[predicted].max(), 0.0)),
            provenance=Provenance(self.name, self.version),
            cues=tuple(cues),
            source=item.source,
            text=item.text,
            start=item.start,
            end=item.end,
            turn=item.turn,
            speaker=item.speaker,
            record_id=item.record_id,
            extras=extras,
        )
        return EmotionResult((segment,), item.source)


def create(**params: Any) -> TextOnnxRecognizer:
    return TextOnnxRecognizer(**params)


FLOAT_NAME = "text.minilm-goemotions-float.v1"


def create_float(**params: Any) -> TextOnnxRecognizer:
    """The shipped encoder alone on onnxruntime's float path (``config_float.json``): no VAD student."""
    return TextOnnxRecognizer(**{"name": FLOAT_NAME, "config_file": "config_float.json", **params})


def _warn_if_not_english(result: EmotionResult, item: TextItem | None) -> EmotionResult:
    """A text that is plainly not English (``io.language_hints``): its scores come with a warning."""
    note = language_warning(item.text) if item is not None else None
    return result if note is None else replace(result, warnings=(*result.warnings, note))


__all__ = ["DEFAULT_MODEL_DIR", "ModelFilesMissing", "ModelIntegrityError", "TextOnnxRecognizer", "create"]
