"""`gae-sym bench`: every method it times computes the right advantages (speed is never asserted).

A tiny smoke run of the bench harness on small shapes; methods whose package (the optional
`bench` extra: SB3, Tianshou, TorchRL) is not installed are skipped by the harness itself.
"""

from __future__ import annotations

import importlib.util
import itertools
import json
import time

import numpy as np
import pytest

from gae_sym import oracle
from gae_sym.cli import bench as bench_cli
from gae_sym.cli import main
from numeric import bench

# TorchRL multiplies γ by an int mask (``gamma * (~terminated).int()``): that tensor is float32,
# torch's default dtype, so γ and γλ enter rounded to float32 even for float64 data (~1e-6 off).
LOOSE_FLOAT64 = {
    "TorchRL generalized_advantage_estimate",
    "TorchRL vec_generalized_advantage_estimate",
}


def test_reference_is_the_proven_closed_form():
    traj = bench.make_trajectory(30, 3, seed=4, end_rate=0.2)
    arrays = (traj.rewards, traj.values, traj.next_values, traj.terminated, traj.truncated)
    expected = oracle.gae(*arrays, gamma=bench.GAMMA, lam=bench.LAM)
    np.testing.assert_allclose(bench.reference_gae(traj), expected, rtol=0, atol=1e-12)


def test_trajectory_is_consistent_with_a_collector():
    traj = bench.make_trajectory(500, 4, seed=1, end_rate=0.05)
    inside = ~traj.done[:-1]
    np.testing.assert_array_equal(traj.next_values[:-1][inside], traj.values[1:][inside])
    assert traj.terminated.any() and traj.truncated.any()
    assert not (traj.terminated & traj.truncated).any()


@pytest.fixture(scope="module")
def smoke():
    # Episode ends at rate 0.1 (not the bench's 0.005): dozens of terminations and truncations
    # in these small shapes, so every method's done and bootstrap handling is exercised.
    return bench.run_bench(
        shapes=[(64, 4), (300, 1), (16, 40)],
        repeats=2,
        time_budget_s=0.2,
        end_rate=0.1,
        progress=None,
    )


def test_every_method_is_correct(smoke):
    rows = smoke["results"]
    assert {tuple(r["shape"]) for r in rows} == {(64, 4), (300, 1), (16, 40)}
    for row in rows:
        assert "error" not in row, row
        assert row["m_steps_per_s"] > 0 and row["gb_per_s"] > 0
        if row["floor"]:
            continue
        tol = 1e-4 if row["dtype"] == "float32" or row["method"] in LOOSE_FLOAT64 else 1e-10
        assert row["max_abs_diff"] < tol, row
        assert row["correct"], row  # the bench's own verdict agrees


def test_a_wrong_method_is_flagged_and_never_the_best_alternative():
    def no_done_cut(traj):  # the classic bug: the λ-chain runs through episode ends
        flags = np.zeros(traj.shape, dtype=bool)
        blind = bench.Trajectory(traj.rewards, traj.values, traj.next_values, flags, flags)
        return bench._numpy_loop(blind)

    candidates = [
        bench.Method("no done cut", no_done_cut),
        bench.Method("numpy loop", bench._numpy_loop),
        bench.Method(bench.FLOOR, bench._copy_floor, floor=True),
    ]
    rows = bench.bench_case(
        (200, 3), "float64", candidates, repeats=1, time_budget_s=0.05, end_rate=0.1
    )
    by_name = {r["method"]: r for r in rows}
    assert not by_name["no done cut"]["correct"] and by_name["numpy loop"]["correct"]
    assert by_name["no done cut"]["best_alternative"] == "numpy loop"
    document = {
        "results": rows,
        "skipped": [],
        "repeats": 1,
        "environment": {"cpu_count": 1, "load_average": None, "OMP_WAIT_POLICY": None},
    }
    assert "!" in bench_cli.format_table(document)


def test_the_core_methods_are_always_there(smoke):
    names = {r["method"] for r in smoke["results"]}
    for name in (
        bench.KERNEL,
        bench.FLOOR,
        "textbook Python loop (lecture)",
        "numpy loop over T (CleanRL/SB3 style)",
        "scipy lfilter per episode (RLlib/Spinning Up)",
        "plain numba loop",
    ):
        assert name in names
    for row in smoke["results"]:
        if row["method"] == bench.KERNEL:
            assert row["ours"] and "vs_best_alternative" in row and "vs_copy" in row


def test_document_is_json_and_table_renders(smoke):
    document = json.loads(json.dumps(smoke))
    assert document["statistic"] == "median"
    assert document["environment"]["cpu_count"] >= 1
    table = bench_cli.format_table(document)
    assert "64 x 4  float32" in table and bench.KERNEL in table


def test_copy_floor_moves_the_bytes_of_a_step():
    traj = bench.make_trajectory(100, 2, dtype=np.float32)
    target = bench._copy_floor(traj)()
    assert 2 * target.nbytes == 100 * 2 * bench.step_bytes(np.float32)


def test_help_teaches_with_an_example(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["bench", "--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    assert "--quick" in text and "--json" in text and "gae-sym bench --quick" in text


def test_tianshou_column_says_not_installed_when_tianshou_is_missing(smoke):
    # The same rows, as if Tianshou were not installed: no "nan" anywhere, the column says why.
    rows = [
        {k: v for k, v in r.items() if k != "vs_tianshou"}
        for r in smoke["results"]
        if r["method"] != bench.TIANSHOU
    ]
    document = {
        **smoke,
        "results": rows,
        "skipped": [f"{bench.TIANSHOU} (not installed: tianshou)"],
    }
    table = bench_cli.format_table(document)
    assert "nan" not in table.split("headline")[0].replace("x best alt", "")
    kernel_lines = [line for line in table.splitlines() if line.startswith(bench.KERNEL + " ")]
    assert kernel_lines and all("not installed" in line for line in kernel_lines)
    # Installed but absent from a row (it failed there): "n/a", never "not installed".
    document["skipped"] = []
    assert "not installed" not in bench_cli.format_table(document)


def test_jax_rows_report_compile_time_apart_and_the_headline_ratios(smoke):
    pytest.importorskip("jax")
    rows = {(r["method"], tuple(r["shape"]), r["dtype"]): r for r in smoke["results"]}
    for name in (bench.JAX_SCAN, bench.JAX_ASSOCIATIVE, bench.PUREJAXRL):
        row = rows[(name, (64, 4), "float64")]
        assert row["correct"] and row["compile_seconds"] > 0, row
        assert row["seconds"] < row["compile_seconds"] * 10  # a run is not a compile
    headline = {(tuple(h["shape"]), h["dtype"]): h for h in smoke["headline"]}
    assert set(headline) == {(s, d) for s in [(64, 4), (300, 1), (16, 40)] for d in bench.DTYPES}
    entry = headline[((64, 4), "float32")]
    kernel = rows[(bench.KERNEL, (64, 4), "float32")]["m_steps_per_s"]
    numba = rows[(bench.PLAIN_NUMBA, (64, 4), "float32")]["m_steps_per_s"]
    assert entry["kernel_vs_plain_numba"] == pytest.approx(kernel / numba)
    if importlib.util.find_spec("rlax"):
        assert entry["jax_vs_rlax"] is not None
        rlax = rows[(bench.RLAX, (64, 4), "float32")]["m_steps_per_s"]
        assert entry["kernel_vs_rlax"] == pytest.approx(kernel / rlax)
        threaded = [n for n, _, _ in rows if n.startswith(bench.JAX_NUMBA_THREADS.split("{}")[0])]
        assert bool(threaded) == (bench._machine_threads() > 1), threaded
        if threaded:  # a machine with more than one core: the row on all of them
            ffi = rows[(threaded[0], (64, 4), "float32")]["m_steps_per_s"]
            assert entry["jax_numba_threads_vs_rlax"] == pytest.approx(ffi / rlax)
    public = rows[(bench.PUBLIC, (64, 4), "float32")]
    assert entry["public_vs_copy"] == pytest.approx(public["vs_copy"])
    assert "headline ratios (goal):" in bench_cli.format_table(smoke)


def test_jax_float64_stays_a_bench_setting():
    # run_bench turns JAX's x64 on for its float64 rows and back off afterwards.
    jax = pytest.importorskip("jax")
    before = bool(jax.config.jax_enable_x64)
    bench.run_bench(shapes=[(8, 2)], repeats=1, time_budget_s=0.01, names=[bench.JAX_SCAN])
    assert bool(jax.config.jax_enable_x64) == before


def _counting(seconds: float = 0.0):
    """A correct method (the numpy loop) that records when each call starts; it can be made
    slow."""
    calls = []

    def prepare(traj):
        run = bench._numpy_loop(traj)

        def counted():
            calls.append(time.perf_counter())
            if seconds:
                time.sleep(seconds)
            return run()

        return counted

    return prepare, calls


def test_warm_cache_calls_each_fast_method_once_untimed_before_each_timed_call(monkeypatch):
    monkeypatch.setattr(bench, "WARM_SECONDS", 0.0)  # one untimed call, however fast
    fast, fast_calls = _counting()
    slow, slow_calls = _counting(seconds=bench.WARM_CALL_LIMIT_S * 1.2)
    candidates = [bench.Method("fast", fast), bench.Method("slow", slow)]
    rows = bench.bench_case((40, 2), "float64", candidates, repeats=3, time_budget_s=10.0)
    assert [r["repeats"] for r in rows] == [3, 3]
    # The checked first call, then (untimed, timed) per repeat; a slow call is never repeated.
    assert len(fast_calls) == 1 + 2 * 3
    assert len(slow_calls) == 1 + 3


def test_warm_cache_goes_on_calling_untimed_for_warm_seconds(monkeypatch):
    # One call did not reach the steady state on the VM (350, 220, 135, then ~100 us): the
    # untimed calls last WARM_SECONDS, then one timed call follows.
    monkeypatch.setattr(bench, "WARM_SECONDS", 0.03)
    timed_at = []
    real_timed = bench._timed

    def timed(run):
        timed_at.append(time.perf_counter())
        return real_timed(run)

    monkeypatch.setattr(bench, "_timed", timed)
    fast, calls = _counting(seconds=0.002)
    rows = bench.bench_case(
        (40, 2), "float64", [bench.Method("fast", fast)], repeats=2, time_budget_s=10.0
    )
    assert rows[0]["repeats"] == 2 and len(timed_at) == 3  # the checked first call, 2 timed
    for previous, current in itertools.pairwise(timed_at):
        untimed = [c for c in calls if previous + 0.002 < c < current]
        assert len(untimed) >= 2, untimed  # 30 ms of 2 ms calls, not one call
        assert current - untimed[0] >= 0.03


def test_cold_cache_flushes_before_every_timed_call_and_never_calls_untimed(monkeypatch):
    flushes = []

    class CountingFlush:
        def __call__(self):
            flushes.append(1)

    monkeypatch.setattr(bench, "_CacheFlush", CountingFlush)
    fast, fast_calls = _counting()
    rows = bench.bench_case(
        (40, 2),
        "float64",
        [bench.Method("fast", fast)],
        repeats=4,
        time_budget_s=10.0,
        cache="cold",
    )
    assert rows[0]["repeats"] == 4 and rows[0]["correct"]
    assert len(fast_calls) == 1 + 4 and len(flushes) == 4


def test_the_flush_writes_twice_the_last_level_cache_anew_each_time():
    assert bench.last_level_cache_bytes() >= 1 << 20
    assert bench.flush_bytes() == 2 * bench.last_level_cache_bytes()
    flush = bench._CacheFlush()
    assert flush._buffer.nbytes == bench.flush_bytes()
    flush()
    first = int(flush._buffer[-1])
    flush()
    assert int(flush._buffer[0]) == int(flush._buffer[-1]) != first  # every byte rewritten


def test_an_unknown_cache_state_is_refused_by_name():
    with pytest.raises(ValueError, match=r"cache must be one of .*'lukewarm'"):
        bench.run_bench(shapes=[(8, 2)], repeats=1, names=[bench.KERNEL], cache="lukewarm")


def test_the_document_and_the_table_say_which_cache_state_was_timed(monkeypatch):
    monkeypatch.setattr(bench, "flush_bytes", lambda: 1 << 20)
    names = [bench.KERNEL, bench.FLOOR]
    for cache, words in (("warm", "untimed calls of the same method (warm)"), ("cold", "1 MiB")):
        document = bench.run_bench(
            shapes=[(16, 2)], repeats=1, time_budget_s=0.05, names=names, cache=cache
        )
        assert document["cache"] == cache
        assert (document["flush_bytes"] is not None) == (cache == "cold")
        assert words in bench_cli.format_table(document)


def test_help_names_the_cold_flag(capsys):
    with pytest.raises(SystemExit):
        main(["bench", "--help"])
    text = capsys.readouterr().out
    assert "--cold" in text and "last-level cache" in text
