from __future__ import annotations

import numpy as np

from affectlens_recipes.text_teacher import fit_blend


def test_fit_blend_weighs_each_dimension_by_which_prediction_tracks_gold() -> None:
    rng = np.random.default_rng(0)
    gold = rng.normal(size=(400, 3))
    noise_a, noise_b = rng.normal(size=(400, 3)), rng.normal(size=(400, 3))
    main = gold + 0.8 * noise_a
    branch = gold + 0.8 * noise_b
    main[:, 1] = gold[:, 1]  # arousal: the main prediction is exact
    branch[:, 2] = gold[:, 2]  # dominance: the branch is exact
    weights = fit_blend(gold, main, branch)
    assert 0.3 <= weights[0] <= 0.7  # equally noisy, independent errors: about half each
    assert weights[1] == 0.0
    assert weights[2] == 1.0
