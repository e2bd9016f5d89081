"""A file's pooled rows on disk until its end: read back in order, mean and spread as numpy gives them."""

from __future__ import annotations

import numpy as np
import pytest

from affectlens.recognizers.row_spill import RowSpill


def test_rows_come_back_in_order_in_chunks_with_their_mean_and_spread() -> None:
    rows = np.random.default_rng(0).standard_normal((7, 5)).astype(np.float32) * 3 + 10
    with RowSpill() as spill:
        for row in rows:
            spill.add(row)
        assert [c.shape[0] for c in spill.chunks(3)] == [3, 3, 1]
        np.testing.assert_array_equal(np.concatenate(list(spill.chunks(3))), rows)
        mean, std = spill.mean_std()
        np.testing.assert_allclose(mean, rows.astype(np.float64).mean(axis=0), rtol=1e-12)
        np.testing.assert_allclose(std, rows.astype(np.float64).std(axis=0), rtol=1e-9)
        np.testing.assert_array_equal(np.concatenate(list(spill.chunks(10))), rows)  # read again


def test_a_constant_column_gets_the_floor_and_a_wrong_width_is_refused() -> None:
    with RowSpill() as spill:
        spill.add(np.ones(3))
        spill.add(np.ones(3))
        assert spill.mean_std()[1].tolist() == [1e-6] * 3
        with pytest.raises(ValueError, match="3 values"):
            spill.add(np.ones(4))
    with RowSpill() as empty:
        assert list(empty.chunks(2)) == []
        with pytest.raises(ValueError, match="no rows"):
            empty.mean_std()
