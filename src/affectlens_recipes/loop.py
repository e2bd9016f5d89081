"""Pieces every text training loop here shares: length buckets, the LR schedule, one optimiser step."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any


def bucketed_batches(lengths: list[int], batch_size: int, rng: random.Random) -> list[list[int]]:
    """Batches of similar length: sort inside random chunks of 50 batches, then shuffle.

    Little padding (2 CPU cores spend their time on tokens), and still a different, shuffled
    order every epoch.
    """
    order = list(range(len(lengths)))
    rng.shuffle(order)
    chunk = batch_size * 50
    batches: list[list[int]] = []
    for start in range(0, len(order), chunk):
        part = sorted(order[start : start + chunk], key=lambda i: lengths[i])
        batches.extend(part[j : j + batch_size] for j in range(0, len(part), batch_size))
    rng.shuffle(batches)
    return batches


def warmup_then_linear(total: int, warmup_fraction: float = 0.06) -> Callable[[int], float]:
    """LR multiplier: linear warm-up over the first ``warmup_fraction`` of steps, then linear decay to 0."""
    warmup = int(warmup_fraction * total)

    def scale(step: int) -> float:
        if step < warmup:
            return step / max(1, warmup)
        return max(0.0, (total - step) / max(1, total - warmup))

    return scale


def optimiser_step(torch: Any, loss: Any, optimizer: Any, schedule: Any, parameters: Any,
                   max_norm: float = 1.0) -> None:
    """Backward, clip the gradient norm, step the optimiser and the LR schedule."""
    optimizer.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(parameters, max_norm)
    optimizer.step()
    if schedule is not None:
        schedule.step()


def print_progress(epoch: int, step: int, total: int, loss: float, started: float) -> None:
    """One line: where the run is, its loss, seconds per step and the time left."""
    import time

    rate = (time.time() - started) / max(1, step)
    print(f"epoch {epoch} step {step}/{total} loss {loss:.4f} {rate:.2f}s/step "
          f"eta {rate * (total - step) / 60:.1f} min", flush=True)
