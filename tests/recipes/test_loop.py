"""Length buckets and the warm-up schedule of the text training loops."""

from __future__ import annotations

import random

from affectlens_recipes.loop import bucketed_batches, warmup_then_linear


def test_buckets_cover_every_item_once_with_similar_lengths() -> None:
    rng = random.Random(0)
    lengths = [rng.randint(1, 60) for _ in range(1000)]
    batches = bucketed_batches(lengths, 8, random.Random(1))
    flat = sorted(i for b in batches for i in b)
    assert flat == list(range(1000))
    assert all(len(b) <= 8 for b in batches)
    spread = sum(max(lengths[i] for i in b) - min(lengths[i] for i in b) for b in batches) / len(batches)
    assert spread < 5  # sorted inside chunks: a batch holds near-equal lengths (random batches: ~45)
    assert bucketed_batches(lengths, 8, random.Random(1)) == batches
    assert bucketed_batches(lengths, 8, random.Random(2)) != batches


def test_warmup_then_linear() -> None:
    scale = warmup_then_linear(100)  # 6 warm-up steps
    assert scale(0) == 0.0
    assert scale(3) == 0.5
    assert scale(6) == 1.0
    assert scale(53) == 0.5
    assert scale(100) == 0.0
    assert max(scale(s) for s in range(101)) == 1.0
