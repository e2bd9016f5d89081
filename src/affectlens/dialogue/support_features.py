"""The inputs of the support-strategy heads: pure functions of one dialogue's encoded turns.

Training (``affectlens_recipes/support_heads.py``) and the recognizer (``dialogue/support.py``) build
the heads' inputs with these same functions, so the two cannot drift apart.

Per dialogue the caller passes, for every turn in order: the text encoder's turn features
(``text_encoder.TextEncoder.turn_features``: 796 numbers), its VAD in [-1, 1], whether the
supporter spoke it, and (for supporter turns) the probabilities of the 8 strategies the
turn used (the ``observe`` head's reading, or one-hot gold labels).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

#: the 8 ESConv strategies, in the order of every head's output
STRATEGIES: tuple[str, ...] = (
    "Question", "Restatement or Paraphrasing", "Reflection of feelings", "Self-disclosure",
    "Affirmation and Reassurance", "Providing Suggestions", "Information", "Others",
)
N_STRATEGIES = len(STRATEGIES)
#: turn counts are scaled by log(1 + n) / log(1 + these): ESConv dialogues run 16-120 turns
TURN_SCALE = 120
SUPPORTER_TURN_SCALE = 60


#: of the 796 turn features, the heads read the first 412: the pooled last layer (384) and the
#: GoEmotions logits / 5 (28), not the mean of layer 3 (half the size, and the fits ran on a
#: shared 2-core machine)
TURN_DIMS = 412


def _scaled(n: int, top: int) -> float:
    return math.log1p(n) / math.log1p(top)


def seeker_run(is_supporter: Sequence[bool] | np.ndarray, point: int) -> list[int]:
    """The turns before ``point`` since the supporter last spoke (what a reply at ``point`` answers),
    latest first."""
    run: list[int] = []
    for i in range(point - 1, -1, -1):
        if is_supporter[i]:
            break
        run.append(i)
    return run


def observe_inputs(features: np.ndarray, is_supporter: np.ndarray, index: int) -> np.ndarray:
    """The ``observe`` head's input for supporter turn ``index``: which strategy did it use?

    ``[its own features, the last seeker turn before it (zeros if none), previous turn
    was the supporter's, scaled position]``.
    """
    features = features[:, :TURN_DIMS]
    dim = features.shape[1]
    seeker_before = [i for i in range(index) if not is_supporter[i]]
    last_seeker = features[seeker_before[-1]] if seeker_before else np.zeros(dim, dtype=np.float32)
    flags = np.array([float(index > 0 and bool(is_supporter[index - 1])), _scaled(index, TURN_SCALE)],
                     dtype=np.float32)
    return np.concatenate([features[index], last_seeker, flags]).astype(np.float32)


def suggest_inputs(features: np.ndarray, vad: np.ndarray, is_supporter: np.ndarray,
                   strategy_probs: np.ndarray, point: int) -> np.ndarray:
    """The ``suggest`` head's input at ``point``: the supporter's next turn will be turn ``point``.

    Only turns before ``point`` are read.  ``point`` may equal the number of turns (the
    supporter answers after the last turn).  The parts: the last seeker turn's features,
    the supporter's previous turn's features, the strategies of the supporter's last two
    turns and their mean over the dialogue so far, the seeker's valence (last, change from
    their previous turn, mean) and arousal, and flags/counts for the position.
    """
    features = features[:, :TURN_DIMS]
    dim = features.shape[1]
    zeros = np.zeros(dim, dtype=np.float32)
    seeker = [i for i in range(point) if not is_supporter[i]]
    supporter = [i for i in range(point) if is_supporter[i]]
    last_seeker = features[seeker[-1]] if seeker else zeros
    last_supporter = features[supporter[-1]] if supporter else zeros
    none = np.zeros(N_STRATEGIES, dtype=np.float32)
    s1 = strategy_probs[supporter[-1]] if supporter else none
    s2 = strategy_probs[supporter[-2]] if len(supporter) > 1 else none
    s_mean = strategy_probs[supporter].mean(0) if supporter else none
    valence = [float(vad[i, 0]) for i in seeker]
    v_last = valence[-1] if valence else 0.0
    v_change = valence[-1] - valence[-2] if len(valence) > 1 else 0.0
    v_mean = float(np.mean(valence)) if valence else 0.0
    a_last = float(vad[seeker[-1], 1]) if seeker else 0.0
    run = len(seeker_run(is_supporter, point))
    numbers = np.array([
        float(point > 0 and bool(is_supporter[point - 1])), float(not seeker), float(not supporter),
        v_last, v_change, v_mean, a_last,
        _scaled(point, TURN_SCALE), _scaled(len(supporter), SUPPORTER_TURN_SCALE), _scaled(run, 8),
    ], dtype=np.float32)
    return np.concatenate([last_seeker, last_supporter, s1, s2, s_mean, numbers]).astype(np.float32)


def one_hot(strategies: list[str | None]) -> np.ndarray:
    """Gold strategies as rows of probabilities (zeros where there is none)."""
    out = np.zeros((len(strategies), N_STRATEGIES), dtype=np.float32)
    for i, s in enumerate(strategies):
        if s is not None:
            out[i, STRATEGIES.index(s)] = 1.0
    return out


__all__ = ["N_STRATEGIES", "STRATEGIES", "TURN_DIMS", "observe_inputs", "one_hot", "seeker_run", "suggest_inputs"]
