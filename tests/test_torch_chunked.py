"""The generated chunked torch scan (the CUDA path of numeric.gae) against the oracle.

It runs on any device, so its arithmetic is tested here on CPU; the CUDA tests run when a GPU
is present and are skipped otherwise (``python tests/gpu_check.py`` is the standalone check).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gae_sym import oracle

torch = pytest.importorskip("torch")

import numeric  # noqa: E402
from numeric.kernels import torch_chunked_kernels  # noqa: E402

CUDA = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")


def trajectory(steps, batch, seed, end_rate=0.1, dtype=np.float64):
    rng = np.random.default_rng(seed)
    r, v, nv = (rng.standard_normal((steps, batch)).astype(dtype) for _ in range(3))
    term = rng.random((steps, batch)) < end_rate / 2
    trunc = rng.random((steps, batch)) < end_rate / 2
    return r, v, nv, term, trunc


def chunked(arrays, gamma, lam, chunk=None, device="cpu"):
    tensors = [torch.from_numpy(a).to(device) for a in arrays]
    out = torch.empty(tensors[0].shape, dtype=tensors[0].dtype, device=device)
    torch_chunked_kernels.gae_chunked(*tensors, gamma, lam, out, chunk=chunk)
    return out.cpu().numpy()


@settings(max_examples=40, deadline=None)
@given(
    steps=st.integers(1, 60),
    batch=st.integers(1, 4),
    chunk=st.one_of(st.none(), st.integers(1, 70)),
    seed=st.integers(0, 2**16),
    end_rate=st.sampled_from([0.0, 0.2, 0.9]),
    gamma=st.sampled_from([0.0, 0.9, 1.0]),
    lam=st.sampled_from([0.0, 0.95, 1.0]),
)
def test_chunked_scan_matches_the_oracle_at_every_chunk_size(
    steps, batch, chunk, seed, end_rate, gamma, lam
):
    # Chunks of 1, of T, larger than T, and every uneven tail; dones on chunk edges included.
    arrays = trajectory(steps, batch, seed, end_rate)
    expected = oracle.gae(*arrays, gamma=gamma, lam=lam)
    np.testing.assert_allclose(chunked(arrays, gamma, lam, chunk), expected, rtol=0, atol=1e-11)


def test_long_trajectory_float32_stays_accurate():
    arrays = trajectory(200_000, 1, seed=1, end_rate=0.001, dtype=np.float32)
    reference = numeric.gae(
        *(a.astype(np.float64) for a in arrays[:3]), *arrays[3:], gamma=0.99, lam=0.95
    )
    out = chunked(arrays, 0.99, 0.95)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, reference, rtol=0, atol=1e-4 * (1 + np.abs(reference).max()))


def test_cpu_tensors_with_backend_torch_use_the_loop_and_agree():
    arrays = trajectory(300, 3, seed=2)
    tensors = [torch.from_numpy(a) for a in arrays]
    loop = numeric.gae(*tensors, gamma=0.97, lam=0.9, backend="torch").numpy()
    np.testing.assert_allclose(loop, chunked(arrays, 0.97, 0.9), rtol=0, atol=1e-12)


@CUDA
@pytest.mark.parametrize("shape", [(1, 1), (7, 3), (2048, 64), (100_000, 1)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cuda_tensors_run_the_chunked_scan_on_the_device(shape, dtype):
    arrays = trajectory(*shape, seed=3, dtype=dtype)
    tensors = [torch.from_numpy(a).cuda() for a in arrays]
    out = numeric.gae(*tensors, gamma=0.99, lam=0.95)
    assert out.device.type == "cuda" and out.dtype == tensors[0].dtype
    expected = numeric.gae(
        *(a.astype(np.float64) for a in arrays[:3]), *arrays[3:], gamma=0.99, lam=0.95
    )
    tol = 1e-4 if dtype == np.float32 else 1e-10
    np.testing.assert_allclose(
        out.cpu().numpy(), expected, rtol=0, atol=tol * (1 + np.abs(expected).max())
    )


@CUDA
def test_cuda_td_nstep_and_lambda_return():
    arrays = trajectory(500, 8, seed=4)
    tensors = [torch.from_numpy(a).cuda() for a in arrays]
    for function, kwargs in [
        (numeric.td_error, {"gamma": 0.9}),
        (numeric.nstep_advantage, {"gamma": 0.9, "n": 5}),
        (numeric.lambda_return, {"gamma": 0.9, "lam": 0.8}),
    ]:
        result = function(*tensors, **kwargs).cpu().numpy()
        np.testing.assert_allclose(result, function(*arrays, **kwargs), rtol=0, atol=1e-10)
