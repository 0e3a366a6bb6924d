"""Red team of numeric.gae's finite check riding inside the numba kernel (gae_kernel_finite).

Every refusal is compared with the message of backend="numpy" (the old separate check) and
pinned to the exact array name and index in the caller's shape; every finite input must come
back as a result, bit for bit the result of the plain kernel.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

pytest.importorskip("numba")

import numeric
from numeric.kernels import numba_kernels

NAMES = ("rewards", "values", "next_values")
COLUMNS, COLUMNS_PARALLEL, SCAN, SCAN_PARALLEL = (
    numba_kernels.COLUMNS,
    numba_kernels.COLUMNS_PARALLEL,
    numba_kernels.SCAN,
    numba_kernels.SCAN_PARALLEL,
)


def _message(name: str, index: tuple[int, ...]) -> str:
    return f"{name} contains NaN or inf (first at index {index})"


def _refusal(*args, **kwargs) -> str:
    with pytest.raises(ValueError) as caught:
        numeric.gae(*args, **kwargs)
    return str(caught.value)


def _assert_same_refusal(args, expected: str, **kwargs) -> None:
    """The default (numba, check in the kernel) and backend="numpy" both refuse with it."""
    for backend in (None, "numpy"):
        message = _refusal(*args, **kwargs, backend=backend)
        assert message == expected, (backend, message)


@pytest.fixture
def threads():
    yield numeric.set_threads
    numeric.set_threads(None)


# --- every loop, at its edges ---------------------------------------------------------------

# (shape, threads, the loop gae_plan must choose): one case per loop and dtype path.
LOOPS = [
    ((9, 5), 1, COLUMNS),
    ((300, 1), 1, COLUMNS),  # one short column: the column loop with width 1
    ((4099, 1), 1, SCAN),  # 4 chunks of 1024 and a tail of 3
    ((2048, 40), 2, COLUMNS),  # 40 columns: too narrow to split between threads
    ((64, 1040), 2, COLUMNS_PARALLEL),  # 1040 columns: blocks of 528 and 512
    ((65536 + 21, 1), 2, SCAN_PARALLEL),  # 32 chunks of 2048 and a tail of 21
]


def _edge_rows(steps: int, cols: int, threads: int) -> list[int]:
    _, n_chunks, _ = numba_kernels.gae_plan(steps, cols, threads)
    rows = {0, 1, steps - 1, steps - 2}
    if n_chunks:
        chunk = steps // n_chunks
        body = n_chunks * chunk
        # chunk boundaries (inside one interleaved group and across groups), last body step,
        # first tail step
        rows |= {chunk - 1, chunk, 3 * chunk, 4 * chunk - 1, 4 * chunk, body - 1, body}
    return sorted(r for r in rows if 0 <= r < steps)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(("shape", "n_threads", "loop"), LOOPS)
def test_every_loop_refuses_a_non_finite_value_at_each_of_its_edges(
    shape, n_threads, loop, dtype, threads
):
    threads(n_threads)
    steps, cols = shape
    assert numba_kernels.gae_plan(steps, cols, n_threads)[0] == loop
    rng = np.random.default_rng(steps + cols)
    base = [rng.standard_normal(shape).astype(dtype) for _ in range(3)]
    term = rng.random(shape) < 0.02
    bads = (np.nan, np.inf, -np.inf)
    case = 0
    for row in _edge_rows(steps, cols, n_threads):
        for col in sorted({0, cols - 1}):
            position = case % 3
            bad = bads[case // 3 % 3]
            # gamma 0 (inf * 0 in delta), 1, and a done step (nv never enters delta)
            gamma = (0.0, 1.0, 0.9)[case % 3]
            case += 1
            floats = [a.copy() for a in base]
            floats[position][row, col] = bad
            flags = term.copy()
            flags[row, col] = position == 2 or case % 2 == 0
            out = np.empty_like(floats[0])
            kernel_args = (*floats, flags, flags, gamma, 0.5, out)
            assert numba_kernels.gae_kernel_finite(*kernel_args) is False, (row, col)
            expected = _message(NAMES[position], (row, col))
            _assert_same_refusal((*floats, flags, flags), expected, gamma=gamma, lam=0.5)
            # and as the (T,) arrays of one column
            if cols == 1:
                one = [a[:, 0] for a in floats]
                _assert_same_refusal(
                    (*one, flags[:, 0]), _message(NAMES[position], (row,)), gamma=gamma, lam=0.5
                )


def test_the_first_array_is_named_even_when_a_later_one_breaks_earlier():
    shape = (30, 4)
    floats = [np.ones(shape, np.float32) for _ in range(3)]
    floats[2][0, 0] = np.nan  # next_values, first element
    floats[1][29, 3] = -np.inf  # values, last element
    flags = np.zeros(shape, bool)
    _assert_same_refusal((*floats, flags), _message("values", (29, 3)), gamma=0.9, lam=0.9)
    floats[0][17, 2] = np.inf
    floats[0][17, 1] = np.nan
    _assert_same_refusal((*floats, flags), _message("rewards", (17, 1)), gamma=0.9, lam=0.9)


@pytest.mark.parametrize(
    "bits",
    [
        np.array([0x7F800001], np.uint32).view(np.float32),  # signalling NaN
        np.array([0xFFC00001], np.uint32).view(np.float32),  # negative NaN with a payload
        np.array([0x7FF0000000000001], np.uint64).view(np.float64),
        np.array([0xFFF8000000000001], np.uint64).view(np.float64),
    ],
)
def test_every_nan_encoding_is_found(bits):
    for shape in [(6, 3), (4100,)]:
        floats = [np.zeros(shape, bits.dtype) for _ in range(3)]
        where = tuple(s - 1 for s in shape)
        floats[2][where] = bits[0]
        flags = np.zeros(shape, bool)
        flags[where] = True  # the nv of a terminated step: only the check's own "+ nv" reads it
        _assert_same_refusal((*floats, flags), _message("next_values", where), gamma=0.0, lam=1.0)


# --- layouts and shapes the common call accepts ----------------------------------------------


def _strided(a):
    big = np.zeros((2 * a.shape[0], *a.shape[1:]), a.dtype)
    big[::2] = a
    return big[::2]


def _reversed(a):
    return np.ascontiguousarray(a[::-1])[::-1]


def _read_only(a):
    a = a.copy()
    a.flags.writeable = False
    return a


def _unaligned(a):
    raw = np.zeros(a.nbytes + 1, np.uint8)
    view = np.frombuffer(raw.data, a.dtype, a.size, offset=1).reshape(a.shape)
    view[...] = a
    assert not view.flags.aligned
    return view


LAYOUTS = {
    "strided": _strided,
    "reversed": _reversed,
    "fortran": np.asfortranarray,
    "read-only": _read_only,
    "unaligned": _unaligned,
    "transposed": lambda a: np.ascontiguousarray(a.T).T,
}


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
@pytest.mark.parametrize(
    ("shape", "where"),
    [((20, 3), (13, 2)), ((20, 3, 4), (13, 2, 1)), ((5, 2, 1, 3), (4, 1, 0, 2)), ((1, 7), (0, 6))],
)
def test_a_view_in_any_layout_is_refused_with_the_callers_index(layout, shape, where):
    rng = np.random.default_rng(3)
    for position in range(3):
        floats = [rng.standard_normal(shape) for _ in range(3)]
        floats[position][where] = np.inf if position == 1 else np.nan
        floats = [LAYOUTS[layout](a) for a in floats]
        assert not np.isfinite(floats[position][where])
        flags = np.zeros(shape, bool)
        _assert_same_refusal(
            (*floats, flags, flags), _message(NAMES[position], where), gamma=0.99, lam=0.95
        )


def test_broadcast_views_and_one_array_passed_twice():
    shape = (20, 3)
    zeros = np.zeros(shape, np.float32)
    flags = np.broadcast_to(np.False_, shape)
    everywhere = np.broadcast_to(np.float32(np.nan), shape)  # stride 0 in both axes
    _assert_same_refusal(
        (zeros, everywhere, zeros, flags), _message("values", (0, 0)), gamma=0.9, lam=0.9
    )
    one_column = np.broadcast_to(np.array([0, 0, np.inf], np.float32), shape)  # stride 0 in time
    _assert_same_refusal(
        (zeros, zeros, one_column, flags), _message("next_values", (0, 2)), gamma=0.0, lam=0.9
    )
    same = np.zeros(shape)
    same[5, 1] = -np.inf
    _assert_same_refusal(
        (same, same, same[:, :], flags), _message("rewards", (5, 1)), gamma=0.9, lam=0.9
    )
    _assert_same_refusal(
        (np.zeros(shape), same, same, flags), _message("values", (5, 1)), gamma=0.9, lam=0.9
    )


# --- finite inputs are never refused, and the check changes no bit ----------------------------


def _plain(floats, term, trunc, gamma, lam):
    steps = floats[0].shape[0]
    flat = [a.reshape(steps, -1) for a in (*floats, term, trunc)]
    out = np.empty(flat[0].shape, floats[0].dtype)
    numba_kernels.gae_kernel(*flat, gamma, lam, out)
    return out.reshape(floats[0].shape)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_extreme_finite_values_come_back_as_the_plain_kernels_result(dtype, threads):
    info = np.finfo(dtype)
    rng = np.random.default_rng(7)
    for n_threads, shape in [(1, (10, 16)), (1, (5000,)), (2, (2048, 40)), (2, (65536 + 5,))]:
        threads(n_threads)
        term = rng.random(shape) < 0.2
        trunc = rng.random(shape) < 0.2
        cases = {
            "max": [np.full(shape, s * info.max, dtype) for s in (1, -1, 1)],
            "mixed max": [
                (rng.choice([-1, 1, 0.5], shape) * info.max).astype(dtype) for _ in "rvn"
            ],
            "subnormal": [
                (rng.standard_normal(shape) * 3 * info.smallest_subnormal).astype(dtype)
                for _ in "rvn"
            ],
            "negative zero": [np.full(shape, -0.0, dtype) for _ in "rvn"],
        }
        for kind, floats in cases.items():
            for gamma, lam in [(0.0, 0.0), (1.0, 1.0), (0.9, 0.95)]:
                with np.errstate(all="ignore"):
                    result = numeric.gae(*floats, term, trunc, gamma=gamma, lam=lam)
                    plain = _plain(floats, term, trunc, gamma, lam)
                assert result.dtype == dtype
                np.testing.assert_array_equal(result, plain, err_msg=f"{kind} {shape}")
                if kind == "negative zero":
                    assert np.signbit(result).tolist() == np.signbit(plain).tolist()
                    expected = numeric.gae(
                        *floats, term, trunc, gamma=gamma, lam=lam, backend="numpy"
                    )
                    np.testing.assert_array_equal(result, expected)


def test_finite_results_agree_with_the_numpy_backend_in_every_layout(threads):
    rng = np.random.default_rng(11)
    for n_threads, shape in [(1, (33, 2, 3)), (1, (4100,)), (2, (2048, 33)), (2, (65540, 1))]:
        threads(n_threads)
        for dtype, rtol in [(np.float32, 2e-5), (np.float64, 1e-12)]:
            floats = [_reversed(rng.standard_normal(shape).astype(dtype)) for _ in range(3)]
            term = rng.random(shape) < 0.01
            trunc = rng.random(shape) < 0.01
            result = numeric.gae(*floats, term, trunc, gamma=0.99, lam=0.95)
            expected = numeric.gae(*floats, term, trunc, gamma=0.99, lam=0.95, backend="numpy")
            np.testing.assert_allclose(result, expected, rtol=rtol, atol=rtol)


# --- what routes through gae ----------------------------------------------------------------


def test_the_estimators_built_on_gae_refuse_with_the_same_message():
    shape = (12, 3)
    floats = [np.ones(shape, np.float32) for _ in range(3)]
    floats[1][11, 2] = np.nan
    flags = np.zeros(shape, bool)
    expected = _message("values", (11, 2))
    for function, kwargs in [
        (numeric.mc_advantage, {"gamma": 1.0}),
        (numeric.lambda_return, {"gamma": 0.9, "lam": 0.0}),
    ]:
        for backend in (None, "numpy"):
            with pytest.raises(ValueError) as caught:
                function(*floats, flags, **kwargs, backend=backend)
            assert str(caught.value) == expected, (function, backend)
    values = np.arange(5.0)
    with pytest.raises(ValueError, match=re.escape(_message("next_values", (4,)))):
        numeric.compute_gae([1.0] * 5, values, float("inf"))
    values[2] = np.nan
    with pytest.raises(ValueError, match=re.escape(_message("values", (2,)))):
        numeric.compute_gae([1.0] * 5, values, 0.0)
    with pytest.raises(ValueError, match=re.escape(_message("rewards", (3,)))):
        numeric.compute_gae([1.0, 1.0, 1.0, float("-inf"), 1.0], np.arange(5.0), 0.0)


def test_a_non_finite_array_is_named_before_a_bad_gamma_or_lam():
    # With the separate pass (backend="numpy", and numba on any input outside the common call)
    # the NaN is what the refusal names, whatever gamma and lam are; the common call checks
    # finiteness after them, inside the kernel, and must say the same.
    shape = (5, 3)
    floats = [np.zeros(shape) for _ in range(3)]
    floats[0][1, 1] = np.nan
    flags = np.zeros(shape, bool)
    expected = _message("rewards", (1, 1))
    for kwargs in [{"gamma": 2.0, "lam": 0.9}, {"lam": 0.9}, {"gamma": 0.9, "lam": float("nan")}]:
        _assert_same_refusal((*floats, flags), expected, **kwargs)
        # the general path of the numba backend: integer flags
        assert _refusal(*floats, flags.astype(int), **kwargs) == expected


def test_a_non_finite_tensor_is_named_before_a_bad_gamma_or_lam():
    torch = pytest.importorskip("torch")
    shape = (5, 3)
    tensors = [torch.zeros(shape) for _ in range(3)]
    tensors[2][4, 0] = float("inf")
    flags = torch.zeros(shape, dtype=torch.bool)
    expected = _message("next_values", (4, 0))
    for kwargs in [{"gamma": -0.5, "lam": 0.9}, {"gamma": 0.9}]:
        for backend in (None, "torch"):
            assert _refusal(*tensors, flags, **kwargs, backend=backend) == expected, backend
        # the torch path with the check still owed to the kernel: integer flags
        assert _refusal(*tensors, flags.int(), **kwargs) == expected


# --- torch ----------------------------------------------------------------------------------


def _tensor_layouts(torch):
    def transposed(t):
        return t.t().contiguous().t() if t.dim() == 2 else t

    def permuted(t):
        if t.dim() != 3:
            return t
        return t.permute(2, 0, 1).contiguous().permute(1, 2, 0)

    def strided(t):
        big = torch.zeros((2 * t.shape[0], *t.shape[1:]), dtype=t.dtype)
        big[::2] = t
        return big[::2]

    return {
        "contiguous": lambda t: t,
        "transposed": transposed,
        "permuted": permuted,
        "strided": strided,
        "requires grad": lambda t: t.clone().requires_grad_(True),
        "parameter": lambda t: torch.nn.Parameter(t.clone()),
    }


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(("shape", "where"), [((20, 3), (19, 0)), ((8, 2, 3), (0, 1, 2))])
def test_cpu_tensors_in_any_layout_are_refused_like_the_torch_path(dtype, shape, where):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    layouts = _tensor_layouts(torch)
    for name, layout in layouts.items():
        for position in range(3):
            floats = [rng.standard_normal(shape) for _ in range(3)]
            floats[position][where] = [np.nan, np.inf, -np.inf][position]
            tensors = [layout(torch.tensor(a, dtype=getattr(torch, dtype))) for a in floats]
            assert torch.equal(
                torch.isfinite(tensors[position]), torch.from_numpy(np.isfinite(floats[position]))
            )
            term = torch.zeros(shape, dtype=torch.bool)
            term[where] = position == 2
            expected = _message(NAMES[position], where)
            for flags in [(term, term), (term, None), (term.int(), term)]:  # int: torch path
                for backend in (None, "torch"):
                    with pytest.raises(ValueError) as caught:
                        numeric.gae(*tensors, *flags, gamma=0.9, lam=0.9, backend=backend)
                    assert str(caught.value) == expected, (name, position, backend, flags[0].dtype)


def test_expanded_and_mixed_precision_tensors_are_refused_like_the_torch_path():
    torch = pytest.importorskip("torch")
    shape = (20, 3)
    zeros = torch.zeros(shape)
    flags = torch.zeros(shape[0], dtype=torch.bool).unsqueeze(1).expand(shape)
    cases = [
        ((zeros, torch.tensor(float("nan")).expand(shape), zeros, flags), ("values", (0, 0))),
        (
            (zeros, zeros, torch.tensor([0, 0, float("inf")]).expand(shape), flags),
            ("next_values", (0, 2)),
        ),
    ]
    doubles = torch.zeros(shape, dtype=torch.float64)
    doubles[3, 1] = float("-inf")
    cases.append(((zeros, doubles, zeros, flags), ("values", (3, 1))))
    cases.append(((doubles, zeros, zeros, flags.int()), ("rewards", (3, 1))))
    for args, (name, where) in cases:
        for backend in (None, "torch"):
            with pytest.raises(ValueError) as caught:
                numeric.gae(*args, gamma=0.0, lam=0.9, backend=backend)
            assert str(caught.value) == _message(name, where), backend


def test_a_finite_tensor_result_matches_the_torch_path(threads):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(9)
    layouts = _tensor_layouts(torch)
    for n_threads, shape in [(1, (40, 3)), (1, (4100, 1)), (2, (2048, 40))]:
        threads(n_threads)
        for layout in ("transposed", "strided", "requires grad"):
            tensors = [layouts[layout](torch.tensor(rng.standard_normal(shape))) for _ in "rvn"]
            term = torch.from_numpy(rng.random(shape) < 0.05)
            result = numeric.gae(*tensors, term, gamma=0.99, lam=0.95)
            expected = numeric.gae(*tensors, term, gamma=0.99, lam=0.95, backend="torch")
            torch.testing.assert_close(result, expected, rtol=1e-12, atol=1e-12)
