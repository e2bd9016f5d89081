"""The recognizers shipped inside the package, registered at first registry use."""

from __future__ import annotations

import json
from pathlib import Path

from affectlens.models import MODELS_DIR
from affectlens.registry import RecognizerSpec, register
from affectlens.types import Modality


def _size(folder: Path) -> int | None:
    files = [p for p in folder.glob("*") if p.is_file()]
    return sum(p.stat().st_size for p in files) if files else None


def _headline(folder: Path, fallback: str) -> str:
    try:
        metrics = json.loads((folder / "metrics.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return fallback
    go = metrics.get("goemotions_test", {})
    eb = metrics.get("emobank_test", {})
    return (f"GoEmotions test macro-F1 {go.get('macro_f1_dev_tuned_thresholds')}; "
            f"EmoBank test valence r {eb.get('pearson_valence')}")


_TEXT_DIR = MODELS_DIR / "text-minilm-goemotions-v1"

register(RecognizerSpec(
    name="text.minilm-goemotions.v1",
    modality=Modality.TEXT,
    label_set="goemotions",
    factory="affectlens.recognizers.text_onnx:create",
    description="MiniLM-L6 fine-tuned on GoEmotions (28 labels) + EmoBank (VAD); int8-weight ONNX; word cues.",
    license="CC BY-SA 4.0 (see model card)",
    training_data="GoEmotions train (43,410), EmoBank train (8,062)",
    headline_metric=_headline(_TEXT_DIR, "see models/text-minilm-goemotions-v1/MODEL_CARD.md"),
    size_bytes=_size(_TEXT_DIR),
    default=True,
))

register(RecognizerSpec(
    name="dummy.keywords.v1",
    modality=Modality.TEXT,
    label_set="ekman",
    factory="affectlens.testing:DummyRecognizer",
    description="Keyword matcher for tests and demos of the contract; not a model.",
    license="Apache-2.0",
    training_data="none",
    headline_metric="n/a",
))


def _register_peers() -> None:
    # peers (VADER, TF-IDF + logistic regression) are listed beside our models so that
    # `affectlens models` and `affectlens bench` show them; their heavy imports stay lazy
    from affectlens.recognizers.peers import register_peers

    register_peers()


_register_peers()

