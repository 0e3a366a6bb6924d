"""Grade a homework: a key of questions, and one student's TOML or a class's CSV of answers.

KEY.toml::

    [[question]]
    name = "q1"                 # how answers refer to it
    question = "td-error"       # a catalogue id (gae-sym check --list) ...
    points = 1
    [[question]]
    name = "q2"
    expected = "\\delta_t + \\gamma \\delta_{t+1}"   # ... or the expected expression
    points = 2
    [[question]]
    name = "q3"
    question = "nstep"
    derivation = true           # the answer must be a derivation, checked line by line

ANSWERS: a TOML file of one student, ``q1 = 'r_t + \\gamma V(s_{t+1}) - V(s_t)'`` (question
name → answer; an optional ``student = "Ada"`` names them), or a CSV of a class with the
columns ``student,question,answer``. An answer holding an ``align*`` block (a TOML
multi-line string, a CSV cell) is a derivation, checked line by line
(:mod:`gae_sym.derivation_check.homework`). Each distinct (question, answer) pair is checked once
(a class repeats itself), all in one warm worker process with the hard time limit; an
unreadable answer scores 0 and the rest go on.
"""

from __future__ import annotations

import csv
import io
import sys
from dataclasses import dataclass, field
from pathlib import Path

from gae_sym.errors import UserError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib


@dataclass(frozen=True)
class KeyItem:
    name: str
    points: float
    question_id: str | None = None
    expected: str | None = None
    derivation: bool = False  # the answer must be a derivation (checked line by line)


@dataclass
class GradedAnswer:
    question: str
    verdict: str  # correct | incorrect | unreadable | missing
    points: float
    max_points: float
    hint: str
    answer: str | None = None
    parsed_latex: str | None = None
    mistake: str | None = None


@dataclass
class StudentReport:
    student: str
    answers: list[GradedAnswer] = field(default_factory=list)

    @property
    def total(self) -> float:
        return sum(a.points for a in self.answers)

    @property
    def max_total(self) -> float:
        return sum(a.max_points for a in self.answers)


def load_key(path: Path, shown: str | None = None) -> list[KeyItem]:
    """Read KEY.toml; a missing or malformed file raises UserError (exit 2), naming the
    file as ``shown`` (default: its path; the web page's uploads are not theirs to see)."""
    shown = str(path) if shown is None else shown
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"cannot read the key {shown}: no such file") from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise UserError(f"cannot read the key {shown}: {error}") from None
    items = data.get("question")
    if not isinstance(items, list) or not items:
        raise UserError(f"the key {shown} has no [[question]] entries")
    key: list[KeyItem] = []
    from gae_sym.homework.build import AnswerError
    from gae_sym.homework.questions import question
    from gae_sym.homework.reader import read_answer

    for number, item in enumerate(items, 1):
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise UserError(f"the key {shown}: question {number} needs a name")
        has_id, has_expected = "question" in item, "expected" in item
        if has_id == has_expected:
            raise UserError(
                f"the key {shown}: question '{item['name']}' needs exactly one of "
                "'question' (an id) and 'expected' (an expression)"
            )
        derivation = item.get("derivation", False)
        if not isinstance(derivation, bool) or (derivation and not has_id):
            raise UserError(
                f"the key {shown}: question '{item['name']}': derivation = true needs a "
                "catalogue 'question' id"
            )
        points = item.get("points", 1)
        if not isinstance(points, int | float) or isinstance(points, bool) or points < 0:
            raise UserError(f"the key {shown}: question '{item['name']}' has invalid points")
        try:
            if has_id:
                question(str(item["question"]))
            else:
                # Read (never evaluated) now, so a typo in the key stops the run before
                # any answer is graded, whether or not anyone answered the question.
                read_answer(str(item["expected"]))
        except AnswerError as error:
            what = "" if has_id else "the expected expression of "
            raise UserError(f"the key {shown}: {what}'{item['name']}': {error}") from None
        key.append(
            KeyItem(
                item["name"],
                float(points),
                str(item["question"]) if has_id else None,
                str(item["expected"]) if has_expected else None,
                derivation,
            )
        )
    names = [k.name for k in key]
    if len(set(names)) != len(names):
        raise UserError(f"the key {shown} names a question twice")
    return key


def load_answers(
    path: Path, key: list[KeyItem], shown: str | None = None
) -> dict[str, dict[str, str]]:
    """student -> question name -> answer, from a one-student TOML or a class CSV; errors
    name the file as ``shown`` (default: its path)."""
    path = Path(path)
    shown = str(path) if shown is None else shown
    try:
        # utf-8-sig: spreadsheets (Excel) start their CSV exports with a byte-order mark.
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise UserError(f"cannot read the answers {shown}: no such file") from None
    except (OSError, UnicodeDecodeError) as error:
        raise UserError(f"cannot read the answers {shown}: {error}") from None
    if path.suffix.lower() == ".csv":
        return _answers_from_csv(text, shown)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise UserError(f"cannot read the answers {shown}: {error}") from None
    names = {k.name for k in key}
    student = data.get("student") if "student" not in names else None
    answers = {}
    for name, value in data.items():
        if name == "student" and "student" not in names:
            continue
        answers[name] = value if isinstance(value, str) else str(value)
    return {str(student) if student else path.stem: answers}


def _answers_from_csv(text: str, shown: str) -> dict[str, dict[str, str]]:
    reader = csv.DictReader(io.StringIO(text))
    columns = [c.strip() for c in reader.fieldnames or []]
    if not {"student", "question", "answer"} <= set(columns):
        raise UserError(f"the answers {shown} need the columns student,question,answer")
    reader.fieldnames = columns
    answers: dict[str, dict[str, str]] = {}
    try:
        for row in reader:
            student = (row.get("student") or "").strip()
            name = (row.get("question") or "").strip()
            if not student or not name:
                continue
            answers.setdefault(student, {})[name] = row.get("answer") or ""
    except csv.Error as error:
        raise UserError(f"cannot read the answers {shown}: {error}") from None
    if not answers:
        raise UserError(f"the answers {shown} contain no rows")
    return answers


def grade(
    key: list[KeyItem],
    answers: dict[str, dict[str, str]],
    worker=None,
    progress=None,
) -> tuple[list[StudentReport], dict]:
    """Grade every student; returns the reports and statistics (checks run, cache hits...)."""
    from gae_sym.homework.worker import CheckWorker

    own_worker = worker is None
    worker = worker or CheckWorker(warm=True)
    cache: dict[tuple, dict] = {}
    stats = {"answers": 0, "distinct_checks": 0, "timeouts": 0}
    reports = []
    try:
        for student, given in answers.items():
            report = StudentReport(student)
            for item in key:
                stats["answers"] += 1
                answer = given.get(item.name)
                if answer is None or not answer.strip():
                    report.answers.append(
                        GradedAnswer(item.name, "missing", 0.0, item.points, "no answer given")
                    )
                    if progress is not None:
                        progress()
                    continue
                cache_key = (item.question_id, item.expected, answer)
                if cache_key not in cache:
                    stats["distinct_checks"] += 1
                    cache[cache_key] = _run(worker, answer, item, stats)
                if progress is not None:
                    progress()  # once per answer of the class, a repeated one too
                result = cache[cache_key]
                correct = result["verdict"] == "correct"
                report.answers.append(
                    GradedAnswer(
                        item.name,
                        result["verdict"],
                        item.points if correct else 0.0,
                        item.points,
                        _hint(result),
                        answer,
                        result.get("parsed_latex"),
                        (result.get("mistake") or {}).get("id"),
                    )
                )
            reports.append(report)
    finally:
        if own_worker:
            worker.close()
    return reports, stats


def _run(worker, answer: str, item: KeyItem, stats: dict) -> dict:
    from gae_sym.derivation_check.homework import grade_derivation, looks_like_derivation

    if item.derivation or looks_like_derivation(answer):
        # A derivation (align* block) is checked line by line in its own worker.
        return grade_derivation(answer, item.question_id, item.derivation)
    status, payload = worker.check(answer, item.question_id, item.expected)
    if status == "ok":
        return payload
    message, kind = payload
    if kind == "too-complex":
        stats["timeouts"] += 1
    if kind == "bad-expected":
        raise UserError(f"the key's question '{item.name}': {message}")
    return {"verdict": "unreadable", "feedback": message, "parsed_latex": None, "mistake": None}


def _hint(result: dict) -> str:
    verdict = result["verdict"]
    if verdict == "correct":
        return ""
    if result.get("mistake"):
        return result["mistake"]["hint"]
    if verdict == "unreadable":
        return result.get("feedback", "")
    if result.get("hint"):  # a derivation's: which line is wrong, and why
        return result["hint"]
    return "differs from the reference (no known mistake matched)"


CSV_COLUMNS = ("student", "question", "verdict", "points", "max_points", "mistake", "hint")


FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
"""First characters that make a spreadsheet read a cell as a formula (OWASP, CSV injection)."""


def spreadsheet_safe(cell: str) -> str:
    """``cell`` with a leading ``'`` when a spreadsheet would run it as a formula.

    OWASP's advice for CSV injection: a cell that begins with ``=``, ``+``, ``-``, ``@``, a
    tab or a carriage return gets a single quote in front, which spreadsheets show as text.
    Leading spaces and line breaks are looked through (``  =1+1`` is also a formula to some).
    """
    text = str(cell)
    if text.startswith(FORMULA_TRIGGERS) or text.lstrip(" \n\r\t").startswith(FORMULA_TRIGGERS):
        return "'" + text
    return text


def write_csv(reports: list[StudentReport], out) -> None:
    """The report as CSV, one row per answer and a TOTAL row per student, every cell made
    :func:`spreadsheet_safe` (student names and answers are untrusted)."""
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for report in reports:
        for a in report.answers:
            _safe_row(
                writer,
                [
                    report.student,
                    a.question,
                    a.verdict,
                    format_points(a.points),
                    format_points(a.max_points),
                    a.mistake or "",
                    a.hint,
                ],
            )
        _safe_row(
            writer,
            [
                report.student,
                "TOTAL",
                "",
                format_points(report.total),
                format_points(report.max_total),
                "",
                "",
            ],
        )


def _safe_row(writer, cells: list) -> None:
    writer.writerow([spreadsheet_safe(cell) for cell in cells])


def format_points(value: float) -> str:
    """Points as a grader writes them: 2, not 2.0; 1.5 stays 1.5."""
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def as_json(reports: list[StudentReport], stats: dict) -> dict:
    return {
        "students": [
            {
                "student": r.student,
                "total": r.total,
                "max_total": r.max_total,
                "answers": [
                    {
                        "question": a.question,
                        "verdict": a.verdict,
                        "points": a.points,
                        "max_points": a.max_points,
                        "mistake": a.mistake,
                        "hint": a.hint,
                        "parsed_latex": a.parsed_latex,
                    }
                    for a in r.answers
                ],
            }
            for r in reports
        ],
        "summary": {
            "students": len(reports),
            "all_correct": all(a.verdict == "correct" for r in reports for a in r.answers),
            **stats,
        },
    }
