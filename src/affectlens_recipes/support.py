"""Train the support-strategy model on ESConv: two small heads over frozen text-encoder features.

Recipe (reproduces ``models/support-esconv-minilm-v1``; needs ``../shared/datasets/esconv``)::

    python -m affectlens_recipes.support features --out artifacts/support   # encode every turn (~3-5 min)
    python -m affectlens_recipes.support train --out artifacts/support      # heads, valid selection, test once
    python -m affectlens_recipes.support finalize --out artifacts/support   # into models/, hashes, metrics

Design, and why:

* **Turn features from the shipped text encoder**, frozen (the same 796 numbers per turn the
  conversation model reads: ``TextOnnxRecognizer.turn_features``), so one encoder pass per
  turn serves the seeker's emotion, the word cues and both heads.
* **Two heads**, both multinomial logistic regressions (a linear layer + softmax, exported
  to ONNX as one ``Gemm``):

  - ``observe``: which strategy a supporter turn that *was* spoken used (its own features
    and the seeker turn before it).  At run time a user's transcript has no strategy
    labels, so the history of strategies the ``suggest`` head reads comes from this head.
  - ``suggest``: the strategy the supporter's *next* turn should use, from what is known
    before it is spoken: the seeker's latest turn(s), the supporter's previous turn, the
    strategies of the supporter's previous turns (as the ``observe`` head reads them),
    the seeker's valence and its change, and the position in the conversation.

* ``suggest`` is trained on the ``observe`` head's out-of-fold readings of the history
  (5 folds over train dialogues), the same kind of input it gets at run time; valid and
  test read the history with the ``observe`` head trained on all of train.
* Regularisation and class weighting are chosen on valid only; the temperature is fitted
  on valid; test is read once, by ``train``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import numpy as np

from affectlens.bench.esconv_data import SPLITS, EsconvDialogue, load_esconv


def extract_features(out: Path, data_root: Path | None) -> None:
    """Encode every ESConv turn once (``turn_features``), one ``.npz`` per split."""
    from affectlens.dialogue.context_model import TURN_ENCODER_FILE, TURN_ENCODER_SESSION_CONFIG
    from affectlens.recognizers.text_onnx import TextOnnxRecognizer

    out.mkdir(parents=True, exist_ok=True)
    encoder = TextOnnxRecognizer(session_config=TURN_ENCODER_SESSION_CONFIG, model_file=TURN_ENCODER_FILE)
    for split in SPLITS:
        started = time.perf_counter()
        dialogues = load_esconv(split, data_root)
        texts = [t if t.strip() else "." for d in dialogues for t in d.texts]
        features, vad = encoder.turn_features(texts)
        np.savez(out / f"{split}.npz", features=features.astype(np.float16), vad=vad)
        print(f"{split}: {len(texts)} turns encoded in {time.perf_counter() - started:.0f} s", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("step", choices=("features", "train", "finalize"))
    parser.add_argument("--out", type=Path, default=Path("artifacts/support"))
    parser.add_argument("--data-root", type=Path, default=None)
    args = parser.parse_args(argv)
    if args.step == "features":
        extract_features(args.out, args.data_root)
    elif args.step == "train":
        from affectlens_recipes.support_heads import train

        train(args.out, args.data_root)
    else:
        from affectlens_recipes.support_heads import finalize

        finalize(args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())


__all__: list[Any] = ["EsconvDialogue", "extract_features", "load_esconv"]
