"""Bare ONNX Runtime throughput of candidate text encoders on 2 CPU cores (choosing a student).

Usage: python benchmarks/encoder_speed.py [--encoder minilm|mpnet] [--layers N] [--n 2000]
                                         [--activations float|static|dynamic]

Exports the encoder's first ``layers`` layers with mean pooling and a 3-value head (random:
speed only) to ONNX, stores its weights as int8 per output channel with float activations
(``training/quantize.py``, as the shipped text model), and times ``session.run`` over
GoEmotions test texts (the shipped examples when the corpus is absent) in length-sorted
batches of 64, tokenising included.  ``--activations`` quantizes the activations too: ``static``
(QDQ, per-channel, MinMax scales from 256 GoEmotions texts: deterministic per text) or
``dynamic`` (scales per batch: batch-dependent, so not shippable, but the fastest int8 path and
thus an upper bound on what any int8 export of the encoder can reach).  Compare a candidate
with ``--encoder minilm`` (the shipped encoder): the full public path of the shipped model
runs at about 0.8x its bare speed.
Needs ``make setup-train`` (and ``make setup-teacher`` for mpnet).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np


def _texts(n: int) -> list[str]:
    try:
        from affectlens.bench.datasets import load_goemotions

        texts = load_goemotions("test").texts
    except FileNotFoundError:
        examples = Path(__file__).resolve().parents[1] / "src/affectlens/examples/sentences.txt"
        texts = [t for t in examples.read_text(encoding="utf-8").splitlines() if t.strip()]
    while len(texts) < n:
        texts = texts + texts
    return texts[:n]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--encoder", choices=["minilm", "mpnet"], default="minilm")
    parser.add_argument("--layers", type=int, default=None)
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--activations", choices=["float", "static", "dynamic"], default="float")
    args = parser.parse_args()

    import onnxruntime as ort
    import torch
    from tokenizers import Tokenizer

    from affectlens_recipes.quantize import quantize_encoder
    from affectlens_recipes.text_teacher import _build, _encoder, _pad

    torch.manual_seed(0)
    tmp = Path(tempfile.mkdtemp())
    cache = Path("artifacts/text/teacher")
    encoder_dir, pad_token = _encoder(args.encoder, cache)
    model = _build(torch, encoder_dir, args.layers).eval()
    layers = model.encoder.config.num_hidden_layers
    fp32 = tmp / "encoder.onnx"
    torch.onnx.export(
        model, (torch.ones((2, 7), dtype=torch.long), torch.ones((2, 7), dtype=torch.long)), str(fp32),
        input_names=["input_ids", "attention_mask"], output_names=["vad"],
        dynamic_axes={"input_ids": {0: "b", 1: "s"}, "attention_mask": {0: "b", 1: "s"}, "vad": {0: "b"}},
        opset_version=17, dynamo=False,
    )
    tokenizer = Tokenizer.from_file(str(encoder_dir / "tokenizer.json"))
    tokenizer.no_padding()
    tokenizer.enable_truncation(128)
    pad_id = tokenizer.token_to_id(pad_token)
    if pad_id is None:
        raise SystemExit(f"{encoder_dir}: the tokenizer has no {pad_token}")
    texts = _texts(args.n)

    def batches(sample: list[str]) -> Iterator[dict[str, np.ndarray]]:
        ids = [e.ids for e in tokenizer.encode_batch(sample)]
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        for start in range(0, len(order), 64):
            batch, mask = _pad(torch, ids, order[start : start + 64], pad_id)
            yield {"input_ids": batch.numpy(), "attention_mask": mask.numpy()}

    int8 = tmp / f"encoder_{args.activations}.onnx"
    quantize_encoder(args.activations, fp32, int8, batches(texts[:256]))
    options = ort.SessionOptions()
    options.intra_op_num_threads = args.threads
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(str(int8), options, providers=["CPUExecutionProvider"])

    def run_all() -> None:
        for feeds in batches(texts):
            session.run(["vad"], feeds)

    run_all()  # warm-up
    t0 = time.perf_counter()
    run_all()
    seconds = time.perf_counter() - t0
    print(json.dumps({"encoder": args.encoder, "layers": layers, "texts": len(texts), "threads": args.threads,
                      "activations": args.activations,
                      "weights_mb": round(int8.stat().st_size / 1e6, 1),
                      "bare_texts_per_s": round(len(texts) / seconds, 1)}, indent=2))


if __name__ == "__main__":
    main()
