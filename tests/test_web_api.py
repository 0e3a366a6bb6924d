"""`gae-sym serve`: the JSON API contract, errors, escaping and bounds, on a real server."""

from __future__ import annotations

import io
import json
import threading
import time

import pytest
from web_server import ROOT, Server

from gae_sym.cli.serve import exposure_warning
from gae_sym.homework.questions import question_list

HOMEWORK = ROOT / "docs" / "examples" / "homework"
SLOW_ANSWER = "sum(l=0..inf, sum(k=0..l, (gamma*lambda)^l*delta[t+l+k]))"
"""About 0.8 s to check (a double sum the numeric layer evaluates term by term)."""

HOSTILE = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "A_t^{<script>alert(1)</script>} = r_t",
    "\\hat{A}_t^{(2)}<img src=x onerror=alert(1)> = r_t",
    "r_t + \\text{<b>bold</b>}",
    "</math><script>alert(1)</script>",
    "r[t] & <svg onload=alert(1)>",
]


@pytest.fixture(scope="module")
def server():
    running = Server("--workers", "2", "--queue", "8")
    yield running
    running.stop()


def test_healthz_and_questions(server):
    health = server.client.get("/healthz").json()
    assert health["status"] == "ok" and health["workers"] == 2
    listed = server.client.get("/api/questions").json()["questions"]
    assert [q["id"] for q in listed] == [qid for qid, _ in question_list()]
    td = listed[0]
    assert "".join(part["text"] for part in td["parts"]) == td["text"]
    math = [part for part in td["parts"] if part.get("mathml")]
    assert math and math[0]["text"] == "δ_t" and "<msub>" in math[0]["mathml"]


def _cli_check_json(question: str, answer: str) -> dict:
    """What `gae-sym check --question Q ANSWER --json` prints: the document of check_answer."""
    from gae_sym.homework import check_answer

    return json.loads(json.dumps(check_answer(answer, question)))


def test_check_returns_the_cli_document(server):
    answer = r"\hat{A}_t^{(2)} = r_t + \gamma r_{t+1} + \gamma V(s_{t+2}) - V(s_t)"
    reply = server.client.post("/api/check", json={"question": "nstep-2", "answer": answer})
    assert reply.status_code == 200
    assert reply.json() == _cli_check_json("nstep-2", answer)
    document = reply.json()
    assert document["verdict"] == "incorrect"
    assert document["mistake"]["id"] == "bootstrap-gamma-n-minus-1"
    assert document["counterexample"]["gamma"] == "1/2"


def test_check_against_an_expected_expression(server):
    reply = server.client.post(
        "/api/check",
        json={"expected": "r[t] + gamma*r[t+1]", "answer": r"r_t + \gamma r_{t+1}", "render": True},
    )
    assert reply.status_code == 200
    document = reply.json()
    assert document["verdict"] == "correct"
    assert document["parsed_mathml"].startswith('<math xmlns="http://www.w3.org/1998/Math/MathML"')


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (b"{not json", "not valid JSON"),
        (b"\xff\xfe", "not valid JSON"),
        (b"[1, 2]", "JSON object"),
        (b"[" * 8000, "nested too deeply"),  # a RecursionError in json.loads: was a 500
        (b'{"answer": ' + b"[" * 3000 + b"}", "nested too deeply"),
        (b'{"question": "td-error"}', "missing field 'answer'"),
        (b'{"question": "td-error", "answer": 3}', "'answer' must be a string"),
        (b'{"answer": "r[t]"}', "exactly one of"),
        (b'{"question": "td-error", "expected": "r[t]", "answer": "r[t]"}', "exactly one of"),
        (b'{"question": ["td-error"], "answer": "r[t]"}', "'question' must be a string"),
        (b'{"question": "no-such-question", "answer": "r[t]"}', "unknown question"),
        (b'{"expected": "r[t] +* 2", "answer": "r[t]"}', "expected expression"),
        (b'{"question": "td-error", "answer": "r[t]", "render": "yes"}', "'render'"),
    ],
)
def test_check_bad_requests_are_400_with_a_message(server, body, says):
    reply = server.client.post("/api/check", content=body)
    assert reply.status_code == 400
    assert says in reply.json()["error"]


def test_oversize_bodies_are_413_declared_or_streamed(server):
    big = json.dumps({"question": "td-error", "answer": "r" * 17_000}).encode()
    assert server.client.post("/api/check", content=big).status_code == 413
    assert server.client.post("/api/preview", content=big).status_code == 413

    def chunks():  # no Content-Length: the server must count what it reads
        yield b'{"question": "td-error", "answer": "'
        for _ in range(40):
            yield b"r" * 1000
        yield b'"}'

    reply = server.client.post("/api/check", content=chunks())
    assert reply.status_code == 413
    assert "16384" in reply.json()["error"]
    # Just under the limit is read, and refused by the checker's own 2,000-character cap.
    under = json.dumps({"question": "td-error", "answer": "r" * 16_000}).encode()
    assert len(under) <= 16 * 1024
    document = server.client.post("/api/check", content=under).json()
    assert document["verdict"] == "unreadable" and "at most" in document["feedback"]


@pytest.mark.parametrize("answer", HOSTILE)
def test_hostile_answers_come_back_escaped(server, answer):
    for route, body in (
        ("/api/check", {"question": "nstep-2", "answer": answer, "render": True}),
        ("/api/preview", {"answer": answer}),
    ):
        reply = server.client.post(route, json=body)
        assert reply.status_code == 200
        raw = reply.content.decode()
        assert "<" not in raw and ">" not in raw, raw  # every < > & is \u-escaped
        assert reply.headers["content-type"].startswith("application/json")
        assert "script-src 'self'" in reply.headers["content-security-policy"]
        document = reply.json()
        for key in ("parsed_mathml", "mathml"):
            if document.get(key):  # our own MathML only, with no trace of the markup sent
                assert "script" not in document[key] and "onerror" not in document[key]


def test_an_echoed_left_hand_side_is_data_not_markup(server):
    answer = "G^{<img src=x onerror=alert(1)>}_t = r_t"
    reply = server.client.post("/api/check", json={"question": "td-error", "answer": answer})
    assert reply.status_code == 200
    assert "<img" not in reply.text and "\\u003cimg" in reply.text
    # Decoded, the message is the student's text as typed (shown with textContent).
    assert reply.json()["verdict"] == "unreadable"


def test_preview_reads_without_checking(server):
    document = server.client.post("/api/preview", json={"answer": r"\frac{1}{2} r_t"}).json()
    assert document == {
        "read_as_latex": "\\frac{r_{t}}{2}",
        "error": None,
        "mathml": document["mathml"],
    }
    assert "<mfrac>" in document["mathml"]
    bad = server.client.post("/api/preview", json={"answer": "r_t +"}).json()
    assert bad["read_as_latex"] is None and bad["error"]
    bomb = server.client.post("/api/preview", json={"answer": "2^(2^(2^(2^99)))"}).json()
    assert "too large" in bad["error"] or "too" in bomb["error"]
    assert server.client.post("/api/preview", content=b"[]").status_code == 400
    assert server.client.post("/api/preview", content=b"[" * 8000).status_code == 400


def test_pages_are_served_with_a_content_security_policy(server):
    for path in ("/", "/grade"):
        page = server.client.get(path)
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert "default-src 'none'" in page.headers["content-security-policy"]
        assert "<script>" not in page.text  # no inline script anywhere (CSP would block it)
    assert server.client.get("/static/student.js").status_code == 200
    assert server.client.get("/static/../app.py").status_code == 404


def test_other_host_names_and_unknown_routes(server):
    # Listening on 127.0.0.1, a request naming another host (DNS rebinding) is refused.
    rebound = server.client.get("/api/questions", headers={"host": "evil.example:8000"})
    assert rebound.status_code == 400
    assert server.client.get("/healthz", headers={"host": "localhost"}).status_code == 200
    missing = server.client.get("/api/nothing")
    assert missing.status_code == 404 and missing.json() == {"error": "Not Found"}
    wrong_method = server.client.get("/api/check")
    assert wrong_method.status_code == 405 and wrong_method.json()["error"]


def test_grade_a_class_like_the_cli(server):
    files = {
        "key": ("key.toml", (HOMEWORK / "key.toml").read_bytes()),
        "answers": ("class.csv", (HOMEWORK / "class.csv").read_bytes()),
    }
    started = server.client.post("/api/grade", files=files)
    assert started.status_code == 202
    job = started.json()["job"]
    deadline = time.monotonic() + 60
    while (status := server.client.get(f"/api/grade/{job}").json())["status"] == "running":
        assert time.monotonic() < deadline
        time.sleep(0.2)
    assert status["status"] == "done", status
    assert status["done"] == status["total"] == 4 * 5
    report = server.client.get(f"/api/grade/{job}/report.csv")
    assert report.headers["content-disposition"].startswith("attachment")
    # What `gae-sym grade KEY CLASS --out report.csv` writes, from the same functions.
    from gae_sym.homework.grading import grade, load_answers, load_key, write_csv

    key = load_key(HOMEWORK / "key.toml")
    reports, _ = grade(key, load_answers(HOMEWORK / "class.csv", key))
    expected = io.StringIO(newline="")
    write_csv(reports, expected)
    assert report.text == expected.getvalue()
    assert [s["student"] for s in status["result"]["students"]] == ["Ada", "Ben", "Chen", "Dana"]


def test_grade_errors(server):
    key = ("key.toml", (HOMEWORK / "key.toml").read_bytes())
    missing = server.client.post("/api/grade", files={"key": key})
    assert missing.status_code == 400 and "answers" in missing.json()["error"]
    huge = {"key": key, "answers": ("class.csv", b"x" * (2 * 1024 * 1024 + 1))}
    assert server.client.post("/api/grade", files=huge).status_code == 413
    bad_key = {"key": ("key.toml", b"[[question]]\nname = 1\n"), "answers": key}
    job = server.client.post("/api/grade", files=bad_key).json()["job"]
    deadline = time.monotonic() + 20
    while (status := server.client.get(f"/api/grade/{job}").json())["status"] == "running":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert status["status"] == "error" and "needs a name" in status["error"]
    # The server's temporary folder never shows: the uploader's files are "the key" etc.
    assert "gae-sym-grade-" not in status["error"] and "/tmp" not in status["error"]
    assert status["error"].startswith("the key key.toml: question 1 needs a name")
    assert server.client.get("/api/grade/not-a-job").status_code == 404
    assert server.client.get(f"/api/grade/{job}/report.csv").status_code == 404


def test_hostile_class_is_escaped_in_the_grade_document(server):
    csv_text = (
        "student,question,answer\n"
        '"<script>alert(1)</script>",q1-td-error,"<img src=x onerror=alert(1)>"\n'
        '"=HYPERLINK(""http://x"")",q1-td-error,r[t] + gamma*V[t+1] - V[t]\n'
    )
    files = {
        "key": ("key.toml", (HOMEWORK / "key.toml").read_bytes()),
        "answers": ("class.csv", csv_text.encode()),
    }
    job = server.client.post("/api/grade", files=files).json()["job"]
    deadline = time.monotonic() + 60
    while (status := server.client.get(f"/api/grade/{job}")).json()["status"] == "running":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert "<" not in status.text and ">" not in status.text
    students = [s["student"] for s in status.json()["result"]["students"]]
    assert students[0] == "<script>alert(1)</script>"  # data, intact once decoded


def test_a_full_queue_answers_429_then_recovers():
    # One worker, no queue, and a time limit shorter than SLOW_ANSWER needs.
    server = Server("--workers", "1", "--queue", "0", "--time-limit", "0.3")
    try:
        replies = []
        together = threading.Barrier(6)

        def slow():
            body = {"question": "gae", "answer": SLOW_ANSWER}
            together.wait(timeout=30)  # all six at once: one is admitted, the rest refused
            replies.append(server.client.post("/api/check", json=body))

        threads = [threading.Thread(target=slow) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        codes = sorted(reply.status_code for reply in replies)
        assert codes.count(200) >= 1 and codes.count(429) >= 1, codes
        refused = next(reply for reply in replies if reply.status_code == 429)
        assert refused.headers["retry-after"] == "1" and "busy" in refused.json()["error"]
        # The admitted one ran into the limit: killed, "too complex", a fresh worker started.
        timed_out = next(reply for reply in replies if reply.status_code == 200).json()
        assert timed_out["verdict"] == "unreadable" and timed_out["reason"] == "too-complex"
        assert "time limit" in timed_out["feedback"]
        assert server.client.get("/healthz").json()["restarts"] >= 1
        again = server.client.post(
            "/api/check", json={"question": "td-error", "answer": "delta[t]"}
        )
        assert again.status_code == 200
    finally:
        server.stop()


def test_host_exposure_is_stated():
    assert exposure_warning("127.0.0.1", 8000) is None
    assert exposure_warning("::1", 8000) is None
    assert exposure_warning("localhost", 8000) is None
    text = exposure_warning("0.0.0.0", 8000)
    assert "every network interface" in text and "/grade" in text and "without logging in" in text
    assert "reachable from other machines" in exposure_warning("192.168.1.5", 8000)


@pytest.mark.parametrize(
    ("flags", "says"),
    [
        (["--workers", "0"], "must be an integer in [1, 64]"),
        (["--queue", "-1"], "must be an integer in [0, 1024]"),
        (["--port", "70000"], "must be an integer in [0, 65535]"),
        (["--time-limit", "0"], "must be a number in (0, 60]"),
        (["--host", "256.0.0.1"], "cannot listen on 256.0.0.1"),
    ],
)
def test_serve_flag_errors_exit_2(flags, says, capsys):
    from gae_sym.cli import main

    assert main(["serve", *flags]) == 2
    assert says in capsys.readouterr().err


def test_a_port_in_use_is_a_clear_error(server, capsys):
    from gae_sym.cli import main

    port = server.url.rsplit(":", 1)[1]
    assert main(["serve", "--port", port]) == 2
    assert f"cannot listen on 127.0.0.1:{port}" in capsys.readouterr().err


# --- derivation mode --------------------------------------------------------------------

STUDENT_NSTEP = ROOT / "docs" / "examples" / "derivations" / "homework" / "student_nstep.tex"
CORRECT_DERIVATION = r"""\begin{align*}
\hat{A}^{(n)}_t &= \sum_{l=0}^{n-1} \gamma^{l} \delta_{t+l} \\
  &= \sum_{l=0}^{n-1} \gamma^{l} r_{t+l} + \sum_{l=1}^{n} \gamma^{l} V(s_{t+l})
     - \sum_{l=0}^{n-1} \gamma^{l} V(s_{t+l}) && \text{definition of } \delta \\
  &= \sum_{l=0}^{n-1} \gamma^{l} r_{t+l} + \gamma^{n} V(s_{t+n}) - V(s_t)
\end{align*}
"""
# The wrong step of docs/examples/derivations/homework/student_nstep.tex, as bare lines.
BARE_WRONG = r"""\hat{A}^{(n)}_t &= \sum_{l=0}^{n-1} \gamma^{l} \delta_{t+l} \\
  &= \sum_{l=0}^{n-1} \gamma^{l} \left(r_{t+l} + \gamma V(s_{t+l+1}) - V(s_{t+l})\right) \\
  &= \sum_{l=0}^{n-1} \gamma^{l} r_{t+l} + \gamma^{n-1} V(s_{t+n}) - V(s_t)"""
UNJUSTIFIED = r"""\begin{align*}
\sum_{l=0}^{n-1} \gamma^l \delta_{t+l} &= \sum_{l=0}^{n-1} \gamma^{n-1-l} \delta_{t+n-1-l} \\
  &= \sum_{l=0}^{n-1} \gamma^{l} \delta_{t+l}
\end{align*}"""
"""True at every instance, and no rule found: the search runs its whole budget (about 2 s)."""


def _cli_derivation_json(question: str, text: str) -> dict:
    """What `gae-sym check --question Q --derivation FILE --json` prints for a file holding
    ``text``: the document of check_derivation (run here, in this process)."""
    from gae_sym.derivation_check.homework import check_derivation

    return json.loads(json.dumps(check_derivation(text, question)))


def _without_timings(document: dict) -> dict:
    document = json.loads(json.dumps(document))
    for line in (document.get("derivation") or {}).get("lines", []):
        line.pop("seconds")
    return document


def test_a_correct_derivation_returns_the_cli_document(server):
    body = {"question": "nstep", "derivation": CORRECT_DERIVATION}
    reply = server.client.post("/api/check", json=body)
    assert reply.status_code == 200
    document = reply.json()
    assert _without_timings(document) == _without_timings(
        _cli_derivation_json("nstep", CORRECT_DERIVATION)
    )
    assert document["verdict"] == "correct" and document["first_wrong_line"] is None
    assert [line["status"] for line in document["derivation"]["lines"]] == ["justified"] * 3
    assert [line["source_line"] for line in document["derivation"]["lines"]] == [2, 3, 5]
    assert "lines_mathml" not in document  # only with "render": true
    # The same derivation answers another question: justified, but not its answer.
    other = server.client.post("/api/check", json={**body, "question": "td-error"}).json()
    assert (
        other["verdict"] == "incorrect" and "the last line is not the answer" in (other["feedback"])
    )


def test_a_wrong_step_is_named_with_its_reason_counterexample_and_hint(server):
    text = STUDENT_NSTEP.read_text()
    body = {"question": "nstep", "derivation": text, "render": True}
    document = server.client.post("/api/check", json=body).json()
    assert _without_timings({k: v for k, v in document.items() if k != "lines_mathml"}) == (
        _without_timings(_cli_derivation_json("nstep", text))
    )
    assert document["verdict"] == "incorrect" and document["first_wrong_line"] == 18
    assert document["feedback"].startswith("line 18 is false: false under the declared")
    statuses = [(e["source_line"], e["status"]) for e in document["derivation"]["lines"]]
    assert statuses == [(13, "justified"), (14, "justified"), (16, "justified"), (18, "false")]
    example = document["counterexample"]
    assert set(example) == {"values", "sequences", "previous", "this_line"}
    assert example["previous"] != example["this_line"] and set(example["sequences"]) == {"r", "V"}
    assert document["mistake"]["id"] == "bootstrap-gamma-n-minus-1"
    assert "γ^n V(s_{t+n})" in document["mistake"]["hint"]
    # render: every line as written, typeset, in the order of the report's lines.
    rendered = document["lines_mathml"]
    assert [row["source_line"] for row in rendered] == [13, 14, 16, 18]
    assert rendered[3]["latex"].startswith("= \\sum_{l=0}^{n-1}")
    assert "&" not in rendered[3]["latex"] and "cancel" not in rendered[3]["latex"]
    assert all(row["mathml"].startswith("<math") for row in rendered)


def test_bare_lines_are_read_as_an_align_block_with_the_lines_as_typed(server):
    document = server.client.post(
        "/api/check", json={"question": "nstep", "derivation": BARE_WRONG}
    ).json()
    assert document["verdict"] == "incorrect" and document["first_wrong_line"] == 3
    lines = document["derivation"]["lines"]
    assert [(e["source_line"], e["status"]) for e in lines] == [
        (1, "justified"), (2, "justified"), (3, "false"),
    ]  # fmt: skip
    assert lines[0]["column"] == 1  # not counting the \begin{align*} the server put in front
    assert document["mistake"]["id"] == "bootstrap-gamma-n-minus-1"
    # The column of an unreadable fragment on line 1 is the column as typed.
    typed = "r_t + \\alpha &= r_t \\\\\n &= r_t"
    unreadable = server.client.post("/api/check", json={"question": "nstep", "derivation": typed})
    document = unreadable.json()
    assert document["verdict"] == "unreadable" and document["first_wrong_line"] == 1
    entry = document["derivation"]["lines"][0]
    assert (entry["error_line"], entry["error_column"]) == (1, typed.index("\\alpha") + 1)
    assert f"(line 1, column {typed.index(chr(92) + 'alpha') + 1})" in document["feedback"]


def test_an_unreadable_line_is_named(server):
    text = "\\begin{align*}\nr_t &= r_t \\\\\n &= \\alpha\n\\end{align*}\n"
    document = server.client.post(
        "/api/check", json={"question": "nstep", "derivation": text}
    ).json()
    assert document["verdict"] == "unreadable" and document["first_wrong_line"] == 3
    assert document["feedback"].startswith("line 3: the line: unrecognised notation '\\alpha'")
    entry = document["derivation"]["lines"][1]
    assert entry["status"] == "unreadable"
    assert (entry["error_line"], entry["error_column"]) == (3, 5)
    # No block at all: the checker's own message.
    plain = server.client.post(
        "/api/check", json={"question": "nstep", "derivation": "r_t + \\gamma V(s_{t+1})"}
    ).json()
    assert plain["verdict"] == "unreadable" and "no derivation block" in plain["feedback"]


HOSTILE_DERIVATIONS = [
    "<script>alert(1)</script> &= r_t \\\\ &= r_t",
    'r_t &= r_t && \\text{"><img src=x onerror=alert(1)>} \\\\ &= r_t',
    "r_t &= r_t \\\\ &= r_t + \\text{</math><script>alert(1)</script>}",
    "\\begin{align*}\nA^{<img src=x onerror=alert(1)>}_t &= r_t \\\\ &= r_t\n\\end{align*}",
]


@pytest.mark.parametrize("text", HOSTILE_DERIVATIONS)
def test_hostile_derivations_come_back_escaped(server, text):
    for route, body in (
        ("/api/check", {"question": "td-error", "derivation": text, "render": True}),
        ("/api/preview", {"derivation": text}),
    ):
        reply = server.client.post(route, json=body)
        assert reply.status_code == 200, reply.text
        raw = reply.content.decode()
        assert "<" not in raw and ">" not in raw, raw
        document = reply.json()
        rows = document.get("lines_mathml") or document.get("lines") or []
        assert rows, document
        for row in rows:
            markup = row.get("mathml") or ""
            assert "script" not in markup and "onerror" not in markup and "<img" not in markup
    # The reasons that quote the student's text are that text, as data.
    document = server.client.post(
        "/api/check", json={"question": "td-error", "derivation": text}
    ).json()
    assert document["verdict"] in ("incorrect", "unreadable")


def test_derivation_requests_that_are_wrong_are_400(server):
    cases = [
        ({"question": "nstep", "derivation": 3}, "'derivation' must be a string"),
        ({"derivation": CORRECT_DERIVATION}, "missing field 'question'"),
        ({"question": "nstep", "derivation": "x", "answer": "r_t"}, "no 'answer' or 'expected'"),
        ({"expected": "r[t]", "derivation": CORRECT_DERIVATION}, "no 'answer' or 'expected'"),
        ({"question": "nstep-0", "derivation": CORRECT_DERIVATION}, "unknown question"),
        ({"question": "nstep", "derivation": "x", "render": 1}, "'render'"),
    ]
    for body, says in cases:
        reply = server.client.post("/api/check", json=body)
        assert reply.status_code == 400, body
        assert says in reply.json()["error"], (body, reply.json())
    assert server.client.post("/api/preview", json={"derivation": None}).status_code == 400


def test_an_oversize_derivation_is_413_and_a_long_one_is_read(server):
    row = " &= r_t + \\gamma V(s_{t+1}) - V(s_t) \\\\\n"
    big = json.dumps({"question": "td-error", "derivation": "r_t" + row * 500}).encode()
    assert len(big) > 16 * 1024
    for route in ("/api/check", "/api/preview"):
        reply = server.client.post(route, content=big)
        assert reply.status_code == 413 and "16384" in reply.json()["error"]
    # Under the limit but over the checker's 40 lines a block: refused by the checker.
    long = "\\begin{align*}\nr_t" + " &= r_t \\\\\n" * 41 + "\\end{align*}"
    document = server.client.post(
        "/api/check", json={"question": "td-error", "derivation": long}
    ).json()
    assert document["verdict"] == "unreadable" and "at most 40" in document["feedback"]


def test_the_derivation_preview_reads_every_line_and_checks_none(server):
    document = server.client.post("/api/preview", json={"derivation": BARE_WRONG}).json()
    assert document["error"] is None
    lines = document["lines"]
    assert [line["source_line"] for line in lines] == [1, 2, 3]
    # As read: the named quantity unfolded to its definition, each line typeset.
    assert lines[0]["read_as_latex"].startswith("\\sum_{k=0}^{n-1} \\gamma^{k} \\delta_{t+k} = ")
    # (printed again from the expression: V(s_t) comes back as V(s_{t}))
    assert lines[2]["read_as_latex"].endswith("+ \\gamma^{n-1} V(s_{t+n}) - V(s_{t})")
    assert all(line["mathml"].startswith("<math") and line["error"] is None for line in lines)
    # The wrong step is read, not judged; an unreadable line says why, where it was typed.
    broken = server.client.post(
        "/api/preview", json={"derivation": "r_t + \\alpha &= r_t \\\\ &= r_t"}
    ).json()
    first, second = broken["lines"]
    assert first["read_as_latex"] is None and "(line 1, column 7)" in first["error"]
    assert second["read_as_latex"] == "= r_{t}"
    empty = server.client.post("/api/preview", json={"derivation": "r_t"}).json()
    assert empty["lines"] == [] and "no derivation yet" in empty["error"]
    assert server.client.post("/api/preview", json={"derivation": "  "}).json() == {
        "error": None,
        "lines": [],
    }


def test_derivation_admission_is_bounded_and_the_limit_kills():
    import multiprocessing

    from gae_sym.web.derivation import DerivationPool
    from gae_sym.web.pool import Busy

    pool = DerivationPool(slots=1, queue=1, limit=0.5)
    assert pool.time_limit(4) == 0.5
    assert DerivationPool().time_limit(4) == 20 + 4 * 6.0  # gae_sym.derivation_check.worker
    assert DerivationPool().time_limit(40) == 60.0
    pool.admit()
    pool.admit()
    with pytest.raises(Busy):
        pool.admit()
    pool.release()
    pool.admit()  # a released place is given again
    pool.release()
    pool.release()
    # The search takes about 2 s; the 0.5 s limit kills the process and says so.
    started = time.monotonic()
    status, (message, kind) = pool.check(UNJUSTIFIED, "nstep")
    assert status == "error" and kind == "too-complex", message
    assert message.startswith("too complex to check: no result within")
    assert time.monotonic() - started < 15  # the parent's one-time warm-up, then 0.5 s
    assert multiprocessing.active_children() == []


SLOW_TO_CHECK = r"""\begin{align*}
\sum_{l=0}^{n-1} \gamma^l \delta_{t+l} &= \sum_{l=0}^{n-1} \gamma^{n-1-l} \delta_{t+n-1-l} \\
  &= \sum_{l=0}^{n-1} \gamma^{l} \delta_{t+l} \\
  &= \sum_{l=0}^{n-1} \gamma^{n-1-l} \delta_{t+n-1-l} \\
  &= \sum_{l=0}^{n-1} \gamma^{l} \delta_{t+l}
\end{align*}"""
"""Three true steps no rule justifies: the search runs its budget on each (seconds)."""


def test_a_long_derivation_check_never_blocks_the_server(server):
    # Derivations are read and checked only in the worker processes, so the server keeps
    # answering meanwhile (a run of ~ once took the block finder seconds in the server).
    text = SLOW_TO_CHECK
    replies = {}

    def slow():
        body = {"question": "td-error", "derivation": text, "render": True}
        replies["check"] = server.client.post("/api/check", json=body)

    thread = threading.Thread(target=slow)
    thread.start()
    time.sleep(0.3)
    latencies = []
    while thread.is_alive() and len(latencies) < 40:
        started = time.monotonic()
        assert server.client.get("/healthz").status_code == 200
        latencies.append(time.monotonic() - started)
        time.sleep(0.05)
    thread.join(timeout=60)
    assert len(latencies) >= 3, "the check was too quick to show anything"
    assert max(latencies) < 0.5, latencies
    document = replies["check"].json()
    assert document["verdict"] in ("incorrect", "unreadable"), document


def test_a_long_run_of_spacing_is_answered_at_once(server):
    # The block finder reads a 6,000-character run of ~ in linear time (it was quadratic).
    body = {"question": "td-error", "derivation": "r_t &= r_t " + "~" * 6000}
    document = server.client.post("/api/check", json=body).json()
    assert document["verdict"] == "unreadable" and "no derivation block" in document["feedback"]


def test_derivations_beyond_the_slots_and_queue_get_429():
    # In process (the ASGI app through httpx), with one slot and no queue: while one slow
    # derivation is checked, the next one is refused at once.
    import anyio
    import httpx

    from gae_sym.web.app import create_app

    slow = {"question": "nstep", "derivation": SLOW_TO_CHECK}
    wrong = {"question": "nstep", "derivation": BARE_WRONG}
    app = create_app(workers=1, queue=0, derivation_slots=1, derivation_queue=0)
    replies = {}

    async def scenario():
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:

                async def first():
                    replies["slow"] = await client.post("/api/check", json=slow)

                async with anyio.create_task_group() as group:
                    group.start_soon(first)
                    with anyio.fail_after(10):
                        while app.state.derivations.admitted == 0:
                            await anyio.sleep(0.01)
                    replies["refused"] = await client.post("/api/check", json=wrong)
                # The place is free again once the slow one is answered.
                replies["again"] = await client.post("/api/check", json=wrong)

    anyio.run(scenario)
    refused = replies["refused"]
    assert refused.status_code == 429 and refused.headers["retry-after"] == "1"
    assert "derivation checker is busy" in refused.json()["error"]
    assert replies["slow"].status_code == 200
    assert replies["slow"].json()["verdict"] in ("incorrect", "unreadable")
    assert replies["again"].status_code == 200 and replies["again"].json()["first_wrong_line"] == 3
