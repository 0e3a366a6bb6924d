"""The homework web application: the student page, the grader page and the JSON API.

Starlette on uvicorn (not FastAPI): the API is six small routes whose error contract
(400 with our own message, 413, 429) is written by hand, so FastAPI's pydantic models and
422 validation documents would be a second dependency stack to work around, not a help.

Routes (a contract)::

    GET  /                      student page: pick a question, type, live preview, Check
    GET  /grade                 grader page: upload a key and a class CSV, progress, report
    GET  /healthz               {"status": "ok", "workers": N, "busy": K}
    GET  /api/questions         {"questions": [{"id", "text", "parts"}]}
    POST /api/check             {"question": ID | "expected": EXPR, "answer": TEXT}
                                -> 200 with the document of ``gae-sym check --json``
                                {"question": ID, "derivation": TEXT} (a multi-line align*)
                                -> 200 with the document of ``check --derivation --json``
    POST /api/preview           {"answer": TEXT} -> {"read_as_latex", "error", "mathml"}
                                {"derivation": TEXT} -> {"error", "lines": [...]}
    POST /api/grade             multipart ``key`` (TOML) + ``answers`` (CSV or TOML) -> 202 job
    GET  /api/grade/{job}       progress, then the ``gae-sym grade --json`` document
    GET  /api/grade/{job}/report.csv

Errors: 400 bad JSON / missing or mistyped fields / unknown question (``{"error": ...}``),
413 bodies over 16 KB (check, preview) or 2 MB (grade), 429 when every worker is busy and
the bounded queue is full (with ``Retry-After``), 500 when a worker died mid-check (the
next request gets a fresh worker). Answer text is only ever data: it goes to the worker
over a pipe, comes back in JSON whose ``<``, ``>`` and ``&`` are escaped, and the page
inserts text with ``textContent``; MathML is produced by the server and sanitised
(:mod:`gae_sym.web.mathml`); a Content-Security-Policy forbids inline script.
"""

from __future__ import annotations

import contextlib
import io
import json
import secrets
import tempfile
import threading
import time
from pathlib import Path

import anyio
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from gae_sym.web.derivation import (
    DERIVATION_QUEUE,
    DERIVATION_SLOTS,
    DerivationPool,
    derivation_preview_factory,
    unreadable_document,
)
from gae_sym.web.mathml import latex_to_mathml, message_parts, question_parts
from gae_sym.web.pool import Busy, CheckPool, preview_factory

STATIC = Path(__file__).with_name("static")
MAX_CHECK_BODY = 16 * 1024
MAX_GRADE_BODY = 2 * 1024 * 1024
MAX_GRADE_ANSWERS = 20_000
MAX_GRADE_JOBS_RUNNING = 1
MAX_GRADE_JOBS_KEPT = 16

SECURITY_HEADERS = {
    "content-security-policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
        "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    ),
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
}


class SafeJSONResponse(JSONResponse):
    """JSON with ``<``, ``>`` and ``&`` written as ``\\u003c`` etc.: inert even if sniffed."""

    def render(self, content) -> bytes:
        text = json.dumps(content, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
        text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
        return text.encode("utf-8")


def error(status: int, message: str, **extra) -> SafeJSONResponse:
    headers = {"retry-after": "1"} if status == 429 else None
    return SafeJSONResponse({"error": message, **extra}, status_code=status, headers=headers)


class TooLarge(Exception):
    pass


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refused (without reading on) once it passes ``limit`` bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise TooLarge
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise TooLarge
    return bytes(body)


async def read_json_object(request: Request, limit: int) -> dict:
    body = await read_body(request, limit)
    try:
        document = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as problem:
        raise ValueError(f"the body is not valid JSON: {problem}") from None
    except RecursionError:
        # 16 KB of "[" nests deeper than json's recursion allows: a bad body, not a crash
        raise ValueError("the body is not valid JSON: nested too deeply") from None
    if not isinstance(document, dict):
        raise ValueError("the body must be a JSON object")
    return document


def _string_field(document: dict, name: str, required: bool) -> str | None:
    value = document.get(name)
    if value is None:
        if required:
            raise ValueError(f"missing field '{name}' (a string)")
        return None
    if not isinstance(value, str):
        raise ValueError(f"the field '{name}' must be a string")
    return value


# --- pages ------------------------------------------------------------------------------


async def student_page(request: Request) -> Response:
    return FileResponse(STATIC / "student.html", media_type="text/html; charset=utf-8")


async def grader_page(request: Request) -> Response:
    return FileResponse(STATIC / "grade.html", media_type="text/html; charset=utf-8")


# --- API --------------------------------------------------------------------------------


async def healthz(request: Request) -> Response:
    pool: CheckPool = request.app.state.checks
    return SafeJSONResponse(
        {
            "status": "ok",
            "workers": len(pool.pids()),
            "busy": pool.admitted,
            "restarts": pool.restarts(),
        }
    )


async def questions(request: Request) -> Response:
    return SafeJSONResponse({"questions": request.app.state.question_list})


def _question_list() -> list[dict]:
    from gae_sym.homework.questions import question_list

    return [
        {"id": qid, "text": text, "parts": question_parts(text)} for qid, text in question_list()
    ]


async def _in_pool(pool: CheckPool, limiter, *args):
    """Run one job in ``pool`` or raise :class:`Busy` at once (bounded admission)."""
    pool.admit()
    try:
        return await anyio.to_thread.run_sync(pool.check, *args, limiter=limiter)
    finally:
        pool.release()


async def _readable(result: dict) -> dict:
    """The messages of a check document as parts the page shows (:func:`message_parts`):
    ``{"feedback", "hint", "lines"}``, the feedback without the hint (shown on its own row),
    ``lines`` the why of each derivation line. Math in them is MathML or plain Unicode text,
    never LaTeX source."""
    hint = (result.get("mistake") or {}).get("hint")
    feedback = result.get("feedback") or ""
    if hint and " Hint: " in feedback:
        feedback = feedback[: feedback.index(" Hint: ")]
    report = result.get("derivation") or {}
    whys = [line.get("why") for line in report.get("lines") or []]

    def build() -> dict:
        return {
            "feedback": message_parts(feedback),
            "hint": message_parts(hint),
            "lines": [message_parts(why) for why in whys],
        }

    return await anyio.to_thread.run_sync(build)


async def _mathml(latex: str | None) -> str | None:
    """:func:`latex_to_mathml` off the event loop (a parse of up to 20,000 characters)."""
    if not latex:
        return None
    return await anyio.to_thread.run_sync(latex_to_mathml, latex)


async def api_check(request: Request) -> Response:
    from gae_sym.homework.checker import unreadable

    try:
        document = await read_json_object(request, MAX_CHECK_BODY)
        if "derivation" in document:
            return await _check_derivation(request, document)
        answer = _string_field(document, "answer", True)
        question_id = _string_field(document, "question", False)
        expected = _string_field(document, "expected", False)
        if (question_id is None) == (expected is None):
            raise ValueError(
                "give exactly one of 'question' (an id) and 'expected' (an expression)"
            )
        render = document.get("render", False)
        if not isinstance(render, bool):
            raise ValueError("the field 'render' must be true or false")
        readable = document.get("readable", False)
        if not isinstance(readable, bool):
            raise ValueError("the field 'readable' must be true or false")
    except TooLarge:
        return error(413, f"the body is larger than {MAX_CHECK_BODY} bytes")
    except ValueError as problem:
        return error(400, str(problem))
    state = request.app.state
    try:
        status, payload = await _in_pool(
            state.checks, state.check_limiter, answer, question_id, expected
        )
    except Busy:
        return error(429, "every checker is busy; try again in a moment")
    if status == "ok":
        result = payload
    else:
        message, kind = payload
        if kind in ("unknown-question", "bad-expected"):
            return error(400, message)
        if kind == "crash":
            return error(500, f"{message}; try again", reason="crash")
        result = unreadable(message, kind, question_id).as_dict()
    if render:
        result = {**result, "parsed_mathml": await _mathml(result.get("parsed_latex"))}
    if readable:
        result = {**result, "readable": await _readable(result)}
    return SafeJSONResponse(result)


async def _check_derivation(request: Request, document: dict) -> Response:
    """``{"question": ID, "derivation": TEXT}``: the document of ``check --derivation``."""
    from gae_sym.homework.build import AnswerError
    from gae_sym.homework.questions import question

    try:
        text = _string_field(document, "derivation", True)
        question_id = _string_field(document, "question", False)
        if "answer" in document or "expected" in document:
            raise ValueError(
                "a derivation is the whole answer: give 'question' and 'derivation' only "
                "(no 'answer' or 'expected')"
            )
        if question_id is None:
            raise ValueError("missing field 'question': a derivation answers a catalogue question")
        render = document.get("render", False)
        if not isinstance(render, bool):
            raise ValueError("the field 'render' must be true or false")
        readable = document.get("readable", False)
        if not isinstance(readable, bool):
            raise ValueError("the field 'readable' must be true or false")
        question(question_id)  # a dictionary look-up (nstep-K: K from 1 to 100)
    except AnswerError as problem:
        return error(400, str(problem))
    except ValueError as problem:
        return error(400, str(problem))
    state = request.app.state
    try:
        status, payload = await _in_pool(
            state.derivations, state.derivation_limiter, text, question_id
        )
    except Busy:
        return error(429, "every derivation checker is busy; try again in a moment")
    if status == "ok":
        result = payload
    else:
        message, kind = payload
        if kind == "unknown-question":
            return error(400, message)
        if kind == "crash":
            return error(500, f"{message}; try again", reason="crash")
        result = unreadable_document(question_id, message)
    if render:
        result = {**result, "lines_mathml": await _written_lines(state, text)}
    if readable:
        result = {**result, "readable": await _readable(result)}
    return SafeJSONResponse(result)


async def _written_lines(state, text: str) -> list[dict]:
    """Each line of the answer block as written, typeset: ``[{"source_line", "latex",
    "mathml"}]`` in the order of ``derivation.lines``; empty when the reader is busy or
    fails (the page then shows the report's LaTeX as text). The lines are split in the
    time-limited reader process, never here."""
    try:
        status, payload = await _in_pool(
            state.derivation_previews, state.derivation_preview_limiter, text, None, None
        )
    except Busy:
        return []
    if status != "ok":
        return []
    return [
        {
            "source_line": line["source_line"],
            "latex": line["written_latex"],
            "mathml": await _mathml(line["written_latex"]),
        }
        for line in payload["lines"]
    ]


async def api_preview(request: Request) -> Response:
    try:
        document = await read_json_object(request, MAX_CHECK_BODY)
        if "derivation" in document:
            return await _preview_derivation(request, document)
        answer = _string_field(document, "answer", True)
    except TooLarge:
        return error(413, f"the body is larger than {MAX_CHECK_BODY} bytes")
    except ValueError as problem:
        return error(400, str(problem))
    if not answer.strip():
        return SafeJSONResponse({"read_as_latex": None, "error": None, "mathml": None})
    state = request.app.state
    try:
        status, payload = await _in_pool(state.previews, state.preview_limiter, answer, None, None)
    except Busy:
        return error(429, "the preview is busy; it will update on the next keystroke")
    if status != "ok":
        message, kind = payload
        if kind == "crash":
            return error(500, f"{message}; try again", reason="crash")
        payload = {"read_as_latex": None, "error": message}
    document = {**payload, "mathml": await _mathml(payload["read_as_latex"])}
    if payload["error"]:
        # The message as parts the page shows, its quoted LaTeX typeset (message_parts).
        document["error_parts"] = await anyio.to_thread.run_sync(message_parts, payload["error"])
    return SafeJSONResponse(document)


async def _preview_derivation(request: Request, document: dict) -> Response:
    """``{"derivation": TEXT}`` -> ``{"error", "lines": [{"source_line", "written_latex",
    "read_as_latex", "error", "mathml"}]}``: every line as read, nothing checked."""
    try:
        text = _string_field(document, "derivation", True)
    except ValueError as problem:
        return error(400, str(problem))
    if not text.strip():
        return SafeJSONResponse({"error": None, "lines": []})
    state = request.app.state
    try:
        status, payload = await _in_pool(
            state.derivation_previews, state.derivation_preview_limiter, text, None, None
        )
    except Busy:
        return error(429, "the preview is busy; it will update on the next keystroke")
    if status != "ok":
        message, kind = payload
        if kind == "crash":
            return error(500, f"{message}; try again", reason="crash")
        payload = {"error": message, "lines": []}
    lines = []
    for line in payload["lines"]:
        shown = {**line, "mathml": await _mathml(line["read_as_latex"])}
        if line["error"]:
            shown["error_parts"] = await anyio.to_thread.run_sync(message_parts, line["error"])
        lines.append(shown)
    return SafeJSONResponse({"error": payload["error"], "lines": lines})


# --- grading jobs -----------------------------------------------------------------------


class GradeJob:
    """One class being graded in a background thread, in its own warm worker process."""

    def __init__(
        self, key_text: str, answers_text: str, answers_suffix: str, timeout: float = 5.0
    ) -> None:
        self.id = secrets.token_urlsafe(16)
        self.timeout = timeout
        self.status = "running"
        self.done = 0
        self.total = 0
        self.message: str | None = None
        self.document: dict | None = None
        self.csv: str | None = None
        self.started = time.monotonic()
        self._inputs = (key_text, answers_text, answers_suffix)

    def run(self) -> None:
        from gae_sym.errors import UserError
        from gae_sym.homework.grading import as_json, grade, load_answers, load_key, write_csv
        from gae_sym.homework.worker import CheckWorker

        key_text, answers_text, suffix = self._inputs
        try:
            with tempfile.TemporaryDirectory(prefix="gae-sym-grade-") as folder:
                # Fixed file names: nothing a user sends becomes part of a path.
                key_path = Path(folder, "key.toml")
                answers_path = Path(folder, "answers" + suffix)
                key_path.write_text(key_text, encoding="utf-8")
                answers_path.write_text(answers_text, encoding="utf-8")
                # Messages name the files by these fixed names ("the key key.toml"), not by
                # the server's temporary path.
                key = load_key(key_path, shown=key_path.name)
                answers = load_answers(answers_path, key, shown=answers_path.name)
            count = sum(len(given) for given in answers.values())
            if count > MAX_GRADE_ANSWERS:
                raise UserError(f"{count} answers; at most {MAX_GRADE_ANSWERS} are graded at once")
            # grade() reports progress once per (student, question), as the CLI's bar counts.
            self.total = len(answers) * len(key)
            with CheckWorker(timeout=self.timeout, warm=True) as worker:
                reports, stats = grade(key, answers, worker=worker, progress=self._tick)
            self.document = as_json(reports, stats)
            out = io.StringIO()
            write_csv(reports, out)
            self.csv = out.getvalue()
            self.status = "done"
        except UserError as problem:
            self.status, self.message = "error", str(problem)
        except Exception as problem:  # the job must end with a status, whatever happened
            self.status, self.message = "error", f"grading failed ({type(problem).__name__})"
        finally:
            self._inputs = ("", "", "")

    def _tick(self) -> None:
        self.done += 1

    def as_dict(self) -> dict:
        return {
            "job": self.id,
            "status": self.status,
            "done": self.done,
            "total": self.total,
            "error": self.message,
            "seconds": round(time.monotonic() - self.started, 3),
            "result": self.document,
        }


async def api_grade(request: Request) -> Response:
    state = request.app.state
    try:
        body = await read_body(request, MAX_GRADE_BODY)
    except TooLarge:
        return error(413, f"the upload is larger than {MAX_GRADE_BODY} bytes")
    replayed = False

    async def receive():
        nonlocal replayed
        if replayed:
            return {"type": "http.disconnect"}
        replayed = True
        return {"type": "http.request", "body": body, "more_body": False}

    try:
        form = await Request(request.scope, receive).form(max_files=2, max_fields=4)
    except Exception as problem:
        return error(400, f"the upload is not a multipart form: {type(problem).__name__}")
    files = {}
    for name in ("key", "answers"):
        upload = form.get(name)
        if upload is None or isinstance(upload, str):
            return error(400, f"missing file '{name}' (the form needs 'key' and 'answers')")
        try:
            files[name] = ((await upload.read()).decode("utf-8-sig"), upload.filename or "")
        except UnicodeDecodeError:
            return error(400, f"the file '{name}' is not UTF-8 text")
    suffix = ".csv" if files["answers"][1].lower().endswith(".csv") else ".toml"
    with state.jobs_lock:
        running = sum(job.status == "running" for job in state.jobs.values())
        if running >= MAX_GRADE_JOBS_RUNNING:
            return error(429, "a class is being graded; try again when it is done")
        job = GradeJob(files["key"][0], files["answers"][0], suffix, state.checks.timeout)
        state.jobs[job.id] = job
        while len(state.jobs) > MAX_GRADE_JOBS_KEPT:
            oldest = next(iter(state.jobs))
            if state.jobs[oldest].status == "running":
                break
            del state.jobs[oldest]
    threading.Thread(target=job.run, name=f"grade-{job.id[:6]}", daemon=True).start()
    return SafeJSONResponse(job.as_dict(), status_code=202)


def _job(request: Request) -> GradeJob | None:
    return request.app.state.jobs.get(request.path_params["job"])


async def api_grade_status(request: Request) -> Response:
    job = _job(request)
    if job is None:
        return error(404, "no such grading job (jobs are kept in memory until the server stops)")
    return SafeJSONResponse(job.as_dict())


async def api_grade_csv(request: Request) -> Response:
    job = _job(request)
    if job is None or job.csv is None:
        return error(404, "no report for this job (yet)")
    return Response(
        job.csv,
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": 'attachment; filename="report.csv"'},
    )


# --- the application --------------------------------------------------------------------


class SecurityHeaders:
    """ASGI middleware: the headers of :data:`SECURITY_HEADERS` on every response."""

    def __init__(self, app) -> None:
        self.app = app
        self.headers = [(k.encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *self.headers]}
            await send(message)

        return await self.app(scope, receive, send_with_headers)


LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]")
"""Host headers accepted when the server listens on loopback only: a web page elsewhere that
points its own domain name at 127.0.0.1 (DNS rebinding) gets 400, not the API."""


async def _http_error(request: Request, problem: HTTPException) -> Response:
    """404/405 and the like as ``{"error": ...}``, like every other error of the API."""
    return error(problem.status_code, str(problem.detail))


def create_app(
    workers: int = 2,
    queue: int = 16,
    timeout: float = 5.0,
    allowed_hosts=None,
    derivation_slots: int = DERIVATION_SLOTS,
    derivation_queue: int = DERIVATION_QUEUE,
) -> Starlette:
    """The application; ``workers`` check processes, at most ``workers + queue`` checks
    admitted, and ``derivation_slots + derivation_queue`` derivations;
    ``allowed_hosts`` (e.g. :data:`LOOPBACK_HOSTS`) limits the Host header."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette):
        state = app.state
        state.question_list = _question_list()
        state.checks = CheckPool(workers, queue, timeout)
        state.previews = CheckPool(1, 3, timeout, factory=preview_factory)
        state.derivation_previews = CheckPool(1, 3, timeout, factory=derivation_preview_factory)
        state.derivations = DerivationPool(derivation_slots, derivation_queue)
        state.derivation_limiter = anyio.CapacityLimiter(state.derivations.capacity)
        state.derivation_preview_limiter = anyio.CapacityLimiter(state.derivation_previews.capacity)
        state.check_limiter = anyio.CapacityLimiter(state.checks.capacity)
        state.preview_limiter = anyio.CapacityLimiter(state.previews.capacity)
        state.jobs = {}
        state.jobs_lock = threading.Lock()
        try:
            yield
        finally:
            state.checks.close()
            state.previews.close()
            state.derivation_previews.close()

    routes = [
        Route("/", student_page),
        Route("/grade", grader_page),
        Route("/healthz", healthz),
        Route("/api/questions", questions),
        Route("/api/check", api_check, methods=["POST"]),
        Route("/api/preview", api_preview, methods=["POST"]),
        Route("/api/grade", api_grade, methods=["POST"]),
        Route("/api/grade/{job}", api_grade_status),
        Route("/api/grade/{job}/report.csv", api_grade_csv),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    app = Starlette(
        routes=routes, lifespan=lifespan, exception_handlers={HTTPException: _http_error}
    )
    if allowed_hosts is not None:
        app.add_middleware(TrustedHostMiddleware, allowed_hosts=list(allowed_hosts))
    app.add_middleware(SecurityHeaders)
    return app
