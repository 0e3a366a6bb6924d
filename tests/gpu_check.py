"""Standalone check of the CUDA path (and JAX on its default device) on a GPU machine.

    python tests/gpu_check.py            # from the repository root, with the venv active
    python tests/gpu_check.py --cpu      # a dry run of this script on CPU tensors

Runs numeric.gae / td_error / nstep_advantage / lambda_return on CUDA tensors (the generated
chunked torch scan for GAE) and, when JAX is installed, on JAX arrays of JAX's default
device, and compares each with the float64 numba/numpy result on the CPU. Prints one
``PASS``/``FAIL`` line per check with its max abs error and tolerance, then the time of the
CUDA GAE against the generated per-step torch loop. Exit status: 0 all passed, 1 a check
failed, 2 no CUDA device (nothing to check).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np


def trajectory(steps, batch, seed, dtype):
    rng = np.random.default_rng(seed)
    r, v, nv = (rng.standard_normal((steps, batch)).astype(dtype) for _ in range(3))
    term = rng.random((steps, batch)) < 0.004
    trunc = rng.random((steps, batch)) < 0.001
    return r, v, nv, term, trunc


def report(name, actual, expected, dtype):
    tolerance = (1e-4 if dtype == np.float32 else 1e-10) * (1 + float(np.abs(expected).max()))
    error = float(np.abs(np.asarray(actual, dtype=np.float64) - expected).max())
    ok = error <= tolerance
    print(f"{'PASS' if ok else 'FAIL'}  {name:58s} max_abs_diff={error:.3g} tol={tolerance:.3g}")
    return ok


def timed(run, repeats=5):
    run()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def main() -> int:
    import torch

    import numeric
    from numeric.kernels import torch_chunked_kernels, torch_kernels

    device = "cpu" if "--cpu" in sys.argv[1:] else "cuda"
    if device == "cuda" and not torch.cuda.is_available():
        print("SKIP  no CUDA device visible to torch: nothing to check")
        return 2
    name = torch.cuda.get_device_name(0) if device == "cuda" else "cpu (dry run)"
    print(f"device: {name}, torch {torch.__version__}")

    def sync():
        if device == "cuda":
            torch.cuda.synchronize()

    results = []
    cases = [(1, 1), (7, 3), (2048, 64), (128, 4096), (1_000_000, 1), (100_000, 64)]
    for shape in cases:
        for dtype in (np.float32, np.float64):
            arrays = trajectory(*shape, seed=sum(shape), dtype=dtype)
            wide = [a.astype(np.float64) for a in arrays[:3]] + list(arrays[3:])
            tensors = [torch.from_numpy(a).to(device) for a in arrays]
            label = f"{shape[0]}x{shape[1]} {np.dtype(dtype).name}"
            out = numeric.gae(*tensors, gamma=0.99, lam=0.95)
            sync()
            ok_device = out.device.type == device and out.dtype == tensors[0].dtype
            results.append(ok_device)
            print(
                f"{'PASS' if ok_device else 'FAIL'}  gae {label}: output on {device}, input dtype"
            )
            expected = numeric.gae(*wide, gamma=0.99, lam=0.95)
            results.append(
                report(
                    f"gae {device} (chunked scan on cuda) {label}",
                    out.cpu().numpy(),
                    expected,
                    dtype,
                )
            )
            if shape[0] * shape[1] <= 300_000:
                for name, function, kwargs in [
                    ("td_error", numeric.td_error, {"gamma": 0.99}),
                    ("nstep_advantage n=5", numeric.nstep_advantage, {"gamma": 0.99, "n": 5}),
                    ("lambda_return", numeric.lambda_return, {"gamma": 0.99, "lam": 0.95}),
                ]:
                    got = function(*tensors, **kwargs).cpu().numpy()
                    results.append(
                        report(f"{name} {device} {label}", got, function(*wide, **kwargs), dtype)
                    )
    # The chunked scan called directly (on CPU it is not what numeric.gae picks), uneven chunks.
    for chunk in (1, 7, 1000):
        arrays = trajectory(5000, 3, seed=chunk, dtype=np.float64)
        tensors = [torch.from_numpy(a).to(device) for a in arrays]
        out = torch.empty_like(tensors[0])
        torch_chunked_kernels.gae_chunked(*tensors, 0.99, 0.95, out, chunk=chunk)
        expected = numeric.gae(*arrays, gamma=0.99, lam=0.95)
        label = f"gae_chunked {device} 5000x3 float64 chunk={chunk}"
        results.append(report(label, out.cpu().numpy(), expected, np.float64))
    arrays = trajectory(1_000_000, 1, seed=0, dtype=np.float32)
    tensors = [torch.from_numpy(a).to(device) for a in arrays]
    out = torch.empty_like(tensors[0])

    def public():
        numeric.gae(*tensors, gamma=0.99, lam=0.95)
        sync()

    head = [a[:20_000] for a in tensors]  # the per-step loop: 20,000 steps, scaled to 10^6

    def loop():
        torch_kernels.gae_kernel(*head, 0.99, 0.95, out[:20_000])
        sync()

    fast, slow = timed(public), timed(loop, repeats=1) * 50
    print(
        f"time  gae 10^6x1 f32 on {device}: numeric.gae {fast * 1e3:.1f} ms, "
        f"per-step torch loop ~{slow * 1e3:.0f} ms (from 20,000 steps; {slow / fast:.0f}x)"
    )
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        print("SKIP  jax is not installed")
    else:
        print(f"jax {jax.__version__} default device: {jax.devices()[0]}")
        for backend in ("jax", "jax-associative"):
            arrays = trajectory(2048, 64, seed=1, dtype=np.float32)
            got = numeric.gae(*map(jnp.asarray, arrays), gamma=0.99, lam=0.95, backend=backend)
            expected = numeric.gae(
                *[a.astype(np.float64) for a in arrays[:3]], *arrays[3:], gamma=0.99, lam=0.95
            )
            results.append(
                report(f"gae {backend} 2048x64 float32", np.asarray(got), expected, np.float32)
            )
    passed = sum(results)
    print(f"{'PASS' if all(results) else 'FAIL'}: {passed}/{len(results)} checks passed")
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
