"""`gae-sym serve`: the homework web page and its JSON API, on uvicorn."""

from __future__ import annotations

import argparse
import contextlib
import ipaddress
import socket
import sys

from gae_sym.cli._common import add_parser, float_flag, int_flag
from gae_sym.errors import UserError

DESCRIPTION = r"""serve the homework web page and its JSON API (Starlette on uvicorn).

  /            student page: pick a question, type an answer (LaTeX or plain text), see it
               typeset as read while you type, Check: verdict, counterexample, hint; or
               a derivation (align* lines), checked line by line
  /grade       grader page: upload a key (TOML) and a class (CSV), progress, table, CSV report
  /api/check   POST {"question": ID, "answer": TEXT} or {"expected": EXPR, "answer": TEXT}
               -> the document of 'gae-sym check --json'
               POST {"question": ID, "derivation": TEXT}
               -> the document of 'gae-sym check --question ID --derivation FILE --json'
  /api/preview POST {"answer": TEXT} -> {"read_as_latex": ..., "error": ...}
               POST {"derivation": TEXT} -> {"error": ..., "lines": [...]} (each line as read)
  /api/questions, /healthz

examples:
  gae-sym serve
  gae-sym serve --port 8080 --workers 4
  curl -s localhost:8000/api/check -H 'content-type: application/json' \
       -d '{"question": "td-error", "answer": "r[t] + gamma*V[t+1] - V[t]"}'

Every check runs in a sandboxed worker process with the hard time limit; at most
WORKERS + QUEUE checks are admitted at once, more get 429. A derivation runs in a process
of its own, killed past 20 s + 6 s a line (at most 60 s); one at a time, 4 waiting.
It binds 127.0.0.1 (this machine only) unless --host says otherwise. Needs the 'web'
extra: make serve, or .venv/bin/pip install -c constraints.txt -e '.[web]'.

exit status: 0 when stopped with Ctrl-C, 2 when a flag is out of range, the address cannot
be listened on or the 'web' extra is missing."""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = add_parser(subparsers, "serve", "the homework web page and JSON API", DESCRIPTION)
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1, local only)"
    )
    parser.add_argument(
        "--port",
        type=int_flag(0, 65535),
        default=8000,
        help="port, 0 to 65535 (default: 8000; 0 picks a free one)",
    )
    parser.add_argument(
        "--workers",
        type=int_flag(1, 64),
        default=2,
        metavar="N",
        help="check worker processes, 1 to 64 (default: 2)",
    )
    parser.add_argument(
        "--queue",
        type=int_flag(0, 1024),
        default=16,
        metavar="M",
        help="checks that may wait for a worker, 0 to 1024; more get 429 (default: 16)",
    )
    parser.add_argument(
        "--time-limit",
        type=float_flag(0, 60, min_open=True),
        default=5.0,
        metavar="S",
        help="hard limit in seconds per check, in (0, 60] (default: 5)",
    )
    parser.set_defaults(func=run)


def exposure_warning(host: str, port: int) -> str | None:
    """What binding ``host`` exposes, or None for a loopback address."""
    try:
        if ipaddress.ip_address(host).is_loopback:
            return None
    except ValueError:
        if host == "localhost":
            return None
    return (
        f"warning: listening on {host}:{port}, reachable from other machines"
        + (" (0.0.0.0: every network interface)" if host in ("0.0.0.0", "::") else "")
        + ". Anyone who can reach it can, without logging in: use the student page and the "
        "JSON API (each check costs up to the time limit of CPU), and upload a key and a class "
        "to /grade; a graded class's report is readable by whoever has its job link. No files "
        "are read or written outside a temporary folder. For a course, keep 127.0.0.1 behind a "
        "reverse proxy that authenticates."
    )


def run(args: argparse.Namespace) -> int:
    try:
        import uvicorn

        from gae_sym.web.app import create_app
    except ImportError as missing:
        raise UserError(
            f"gae-sym serve needs the 'web' extra ({missing.name} is not installed): "
            "make serve, or .venv/bin/pip install -c constraints.txt -e '.[web]'"
        ) from None
    family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((args.host, args.port))
    except OSError as problem:
        sock.close()
        raise UserError(f"cannot listen on {args.host}:{args.port}: {problem.strerror}") from None
    port = sock.getsockname()[1]
    warning = exposure_warning(args.host, port)
    if warning:
        print(warning, file=sys.stderr)
    shown = f"[{args.host}]" if family == socket.AF_INET6 else args.host
    print(
        f"gae-sym serve: http://{shown}:{port}/ (student page), http://{shown}:{port}/grade "
        f"(grader), {args.workers} check workers, queue {args.queue}; Ctrl-C stops",
        flush=True,
    )
    from gae_sym.web.app import LOOPBACK_HOSTS

    app = create_app(
        workers=args.workers,
        queue=args.queue,
        timeout=args.time_limit,
        allowed_hosts=None if warning else LOOPBACK_HOSTS,
    )
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on")
    # uvicorn shuts down cleanly (workers closed) and then re-raises Ctrl-C: for a server,
    # that is the normal way to stop, not an interruption.
    with contextlib.suppress(KeyboardInterrupt):
        uvicorn.Server(config).run(sockets=[sock])
    print("gae-sym serve: stopped", file=sys.stderr)
    return 0
