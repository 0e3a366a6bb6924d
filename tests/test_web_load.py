"""Load and faults on a real `gae-sym serve` (127.0.0.1, bounded in count and time).

200 check requests from 20 concurrent clients, a mix of correct, wrong, unreadable and
hostile answers: every response has the status and verdict its kind must get, none is
lost, p50/p95 latencies are printed and written to ``test-artifacts/load.json``; the
server still answers /healthz. Then a worker is killed mid-check: that request gets an
error response (500), the next one works. Stopping the server leaves no worker behind.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import statistics
import threading
import time
from pathlib import Path

import pytest
from web_server import ARTIFACTS, Server, wait_gone

pytestmark = pytest.mark.load

REQUESTS = 200
CLIENTS = 20
DEADLINE_S = 180.0
SLOW_ANSWER = "sum(l=0..inf, sum(k=0..l, (gamma*lambda)^l*delta[t+l+k]))"

# (kind, body, expected status, expected verdict or None)
MIX = [
    ("correct", {"question": "td-error", "answer": "r[t] + gamma*V[t+1] - V[t]"}, 200, "correct"),
    ("correct", {"question": "gae", "answer": r"\sum_{l=0}^{\infty}(\gamma\lambda)^l\delta_{t+l}"},
     200, "correct"),
    ("correct", {"question": "nstep-2", "answer": r"\delta_t + \gamma \delta_{t+1}"},
     200, "correct"),
    ("wrong", {"question": "nstep-2",
               "answer": r"r_t + \gamma r_{t+1} + \gamma V(s_{t+2}) - V(s_t)"}, 200, "incorrect"),
    ("wrong", {"question": "gae-lambda1", "answer": r"\sum_{l=0}^{\infty}\gamma^l r_{t+l}"},
     200, "incorrect"),
    ("unreadable", {"question": "td-error", "answer": "r_t +"}, 200, "unreadable"),
    ("unreadable", {"question": "td-error", "answer": r"\foo{r_t}"}, 200, "unreadable"),
    ("hostile", {"question": "td-error", "answer": "2^(2^(2^(2^99)))"}, 200, "unreadable"),
    ("hostile", {"question": "td-error", "answer": "(" * 400 + "r[t]" + ")" * 400},
     200, "unreadable"),
    ("hostile", {"question": "td-error", "answer": "<script>alert(1)</script>"}, 200, "unreadable"),
    ("hostile", {"question": "td-error", "answer": "r" * 15_000}, 200, "unreadable"),  # < 16 KB
    ("hostile", {"question": "td-error", "answer": "r" * 17_000}, 413, None),  # > 16 KB
]  # fmt: skip


def state(pid: int) -> str:
    """The process state letter of /proc/PID/stat (R running, S sleeping, ...)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "?"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def test_load_mix_then_kill_a_worker_mid_check():
    server = Server("--workers", "2", "--queue", "32")
    try:
        started = time.monotonic()
        work: queue.Queue = queue.Queue()
        for i in range(REQUESTS):
            work.put((i, *MIX[i % len(MIX)]))
        results: dict[int, tuple] = {}
        problems: list[str] = []

        def client():
            import httpx

            with httpx.Client(base_url=server.url, timeout=30) as http:
                while time.monotonic() - started < DEADLINE_S:
                    try:
                        i, kind, body, status, verdict = work.get_nowait()
                    except queue.Empty:
                        return
                    t0 = time.monotonic()
                    try:
                        reply = http.post("/api/check", json=body)
                    except Exception as error:  # recorded, and the test fails on it
                        problems.append(f"request {i} ({kind}): {type(error).__name__}")
                        continue
                    results[i] = (kind, time.monotonic() - t0, reply, status, verdict)

        threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
        for thread in threads:
            thread.start()
        while any(t.is_alive() for t in threads):
            server.workers()  # remember every worker pid seen, to check none is left behind
            time.sleep(0.05)
        wall = time.monotonic() - started
        assert not problems, problems
        assert len(results) == REQUESTS, f"lost {REQUESTS - len(results)} requests"
        for i, (kind, _, reply, status, verdict) in sorted(results.items()):
            assert reply.status_code == status, (i, kind, reply.status_code, reply.text[:200])
            document = reply.json()
            if verdict is None:
                assert "error" in document
            else:
                assert document["verdict"] == verdict, (i, kind, document)
            assert "<" not in reply.text
        latencies = [r[1] for r in results.values()]
        summary = {
            "requests": REQUESTS,
            "clients": CLIENTS,
            "workers": 2,
            "wall_s": round(wall, 2),
            "p50_ms": round(1000 * statistics.median(latencies), 1),
            "p95_ms": round(1000 * percentile(latencies, 95), 1),
            "max_ms": round(1000 * max(latencies), 1),
            "by_kind_p50_ms": {
                kind: round(
                    1000 * statistics.median([r[1] for r in results.values() if r[0] == kind]), 1
                )
                for kind in ("correct", "wrong", "unreadable", "hostile")
            },
        }
        health = server.client.get("/healthz").json()
        assert health["status"] == "ok" and health["workers"] == 2 and health["busy"] == 0

        # A worker killed mid-check: that request gets an error response, the next works.
        killed = None
        for _attempt in range(3):
            before = server.workers()
            outcome = {}

            def slow(outcome=outcome):
                body = {"question": "gae", "answer": SLOW_ANSWER}
                outcome["reply"] = server.client.post("/api/check", json=body)

            thread = threading.Thread(target=slow)
            thread.start()
            # Kill once a worker is running (state R): the check takes about 0.8 s, and an
            # idle worker sleeps in its pipe read.
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline and not any(state(pid) == "R" for pid in before):
                time.sleep(0.005)
            for pid in before:
                os.kill(pid, signal.SIGKILL)
            thread.join(timeout=30)
            if outcome["reply"].status_code == 500:
                killed = outcome["reply"]
                break
        assert killed is not None, "the slow check always finished before the kill"
        assert killed.json()["reason"] == "crash" and "try again" in killed.json()["error"]
        after = server.client.post("/api/check", json=MIX[0][1])
        assert after.status_code == 200 and after.json()["verdict"] == "correct"
        # The pool hands workers out in turn: the next check meets the other killed one.
        again = server.client.post("/api/check", json=MIX[3][1])
        assert again.status_code == 200 and again.json()["verdict"] == "incorrect"
        health = server.client.get("/healthz").json()
        assert health["workers"] == 2 and health["restarts"] >= 1
        server.workers()
        summary["kill_mid_check"] = {"status": killed.status_code, "next": after.status_code}
        ARTIFACTS.mkdir(exist_ok=True)
        (ARTIFACTS / "load.json").write_text(json.dumps(summary, indent=2) + "\n")
        print(f"\nload: {json.dumps(summary)}")
    finally:
        code = server.stop()
    assert code == 0
    assert wait_gone(server.seen_workers) == set(), "worker processes left behind"
