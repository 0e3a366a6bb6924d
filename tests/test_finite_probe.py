"""The one-pass finite check the public numpy path uses with numba (numba_kernels.all_finite)."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("numba")

import numeric
from numeric.kernels import numba_kernels


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("position", range(3))
def test_every_non_finite_value_is_found_wherever_it_is(dtype, bad, position):
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal((37, 16)).astype(dtype) for _ in range(3)]
    assert numba_kernels.all_finite(*arrays) is True
    for where in [(0, 0), (36, 15), (17, 3)]:
        broken = [a.copy() for a in arrays]
        broken[position][where] = bad
        assert numba_kernels.all_finite(*broken) is False
        name = ["rewards", "values", "next_values"][position]
        flags = np.zeros((37, 16), dtype=bool)
        with pytest.raises(ValueError, match=rf"{name} contains NaN or inf \(first at index"):
            numeric.gae(*broken, flags, gamma=0.9, lam=0.9)


def test_huge_finite_values_are_not_mistaken_for_overflow():
    # x * 0 is 0 for any finite x: a sum of maxima would overflow to inf, this does not.
    big = np.full((10, 16), np.finfo(np.float32).max, dtype=np.float32)
    assert numba_kernels.all_finite(big, big, -big) is True
    numeric.td_error(big, big * 0, big * 0, np.ones((10, 16), bool), gamma=0.0)


def test_it_declines_what_it_does_not_cover():
    one_column = np.ones((100, 1))
    assert numba_kernels.all_finite(one_column, one_column, one_column) is None
    mixed = np.ones((4, 16), np.float32)
    assert numba_kernels.all_finite(mixed, mixed.astype(np.float64), mixed) is None
    half = mixed.astype(np.float16)
    assert numba_kernels.all_finite(half, half, half) is None
