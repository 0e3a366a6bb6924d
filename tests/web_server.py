"""Start a real ``gae-sym serve`` (a subprocess on 127.0.0.1, a free port) for the web tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("starlette", reason="the 'web' extra (starlette) is not installed")
pytest.importorskip("uvicorn", reason="the 'web' extra (uvicorn) is not installed")
httpx = pytest.importorskip("httpx", reason="the 'web' extra (httpx) is not installed")

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"


def child_pids(pid: int) -> set[int]:
    """Every process whose parent is ``pid`` (the server's check workers), from /proc."""
    children = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # "pid (comm) state ppid ...": comm may hold spaces, so split after the last ')'.
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == pid:
            children.add(int(entry.name))
    return children


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


class Server:
    """``gae-sym serve --port 0`` in a subprocess: ``url``, ``client``, ``workers()``."""

    def __init__(self, *flags: str, timeout: float = 60.0) -> None:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gae_sym", "serve", "--port", "0", *flags],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            cwd=ROOT,
        )
        line = self.process.stdout.readline()
        if "http://" not in line:
            self.process.kill()
            raise RuntimeError(
                f"gae-sym serve did not start: {line!r} {self.process.stderr.read()}"
            )
        self.url = line.split("http://", 1)[1].split("/", 1)[0]
        self.url = "http://" + self.url
        self.client = httpx.Client(base_url=self.url, timeout=timeout)
        deadline = time.monotonic() + 30
        while True:
            try:
                if self.client.get("/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("gae-sym serve never answered /healthz")
            time.sleep(0.1)
        self.seen_workers: set[int] = set()

    def workers(self) -> set[int]:
        pids = {pid for pid in child_pids(self.process.pid) if alive(pid)}
        self.seen_workers |= pids
        return pids

    def stop(self) -> int:
        """SIGINT (Ctrl-C), as a user stops it; the exit status."""
        self.client.close()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process.stdout.close()
        self.process.stderr.close()
        return self.process.returncode


def wait_gone(pids: set[int], seconds: float = 10.0) -> set[int]:
    """The pids still alive after waiting up to ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        left = {pid for pid in pids if alive(pid)}
        if not left:
            return set()
        time.sleep(0.05)
    return {pid for pid in pids if alive(pid)}
