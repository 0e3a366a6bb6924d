"""What ``run_autograder`` runs on Gradescope: grade one submission, write results.json.

Gradescope's layout: the autograder zip unpacked in ``ROOT/source``, the student's files in
``ROOT/submission``, the results in ``ROOT/results/results.json`` (ROOT is ``/autograder``;
``--root`` moves it, for tests). The results are one Gradescope *test* per question of the
key, with ``score``, ``max_score``, ``status``, ``name``, ``number`` and an ``output``
holding the verdict, the answer as read, the counterexample and the hint; the scores are
those of ``gae-sym grade`` (full points for a correct answer, 0 otherwise).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from gae_sym.gradescope.submission import SUFFIXES, SubmissionError, parse_submission

FORMAT_HELP = (
    "Submit one .tex, .md, .txt or .toml file with one answer per question, each on a line "
    "that starts with the question name and a colon, e.g. 'q1-td-error: $r_t + \\gamma "
    "V(s_{t+1}) - V(s_t)$' (in .toml: q1-td-error = '...')."
)


class _Recording:
    """A check worker, started at the first answer, that remembers every full result.

    ``grade`` keeps the verdict and hint; the output shown to the student also needs the
    feedback and the counterexample, which are in the worker's full reply.
    """

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self.worker = None
        self.results: dict[tuple, tuple] = {}

    def check(self, answer, question_id=None, expected=None):
        from gae_sym.homework.worker import CheckWorker

        if self.worker is None:
            self.worker = CheckWorker(timeout=self.timeout, warm=True)
        reply = self.worker.check(answer, question_id, expected)
        self.results[(question_id, expected, answer)] = reply
        return reply

    def close(self) -> None:
        if self.worker is not None:
            self.worker.close()


def find_submission(folder: Path) -> tuple[Path | None, list[Path]]:
    """The file to grade (by the preference of ``SUFFIXES``) and every candidate seen."""
    candidates = [
        path
        for path in sorted(folder.rglob("*"))
        if path.is_file()
        and path.suffix.lower() in SUFFIXES
        and not any(
            part.startswith(".") or part == "__MACOSX" for part in path.relative_to(folder).parts
        )
    ]
    for suffix in SUFFIXES:
        for path in candidates:
            if path.suffix.lower() == suffix:
                return path, candidates
    return None, candidates


def _points(value: float) -> float:
    return float(value)


def describe(result: dict, answer: str | None) -> str:
    """The text shown to the student for one question."""
    lines = [f"verdict: {result['verdict']}"]
    if answer is not None:
        lines.append(f"your answer: {answer}")
    if result.get("parsed_latex"):
        lines.append(f"read as: {result['parsed_latex']}")
    if result.get("feedback"):
        lines.append(result["feedback"])
    if result.get("assumptions"):
        lines.append("assumptions: " + "; ".join(result["assumptions"]))
    example = result.get("counterexample")
    if example:
        params = ", ".join(
            f"{name} = {example[name]}" for name in ("gamma", "lambda", "n", "t") if name in example
        )
        lines.append(f"counterexample: {params}".rstrip())
        for name, label in (
            ("rewards", "rewards:"),
            ("values", "values: "),
            ("answer_value", "your answer ="),
            ("reference_value", "reference   ="),
            ("difference", "answer - reference ="),
        ):
            if name in example:
                lines.append(f"  {label} {example[name]}")
    mistake = result.get("mistake")
    if mistake and mistake.get("hint"):
        lines.append(f"hint: {mistake['hint']} (mistake: {mistake['id']})")
    return "\n".join(lines)


def grade_submission(root: Path, key_path: Path, timeout: float = 5.0) -> dict:
    """The results.json document for the submission under ``root/submission``."""
    from gae_sym.homework.checker import unreadable
    from gae_sym.homework.grading import grade, load_key

    started = time.monotonic()
    key = load_key(key_path)
    notes: list[str] = []
    answers: dict[str, str] = {}
    path, candidates = find_submission(root / "submission")
    if path is None:
        notes.append("No answer file found. " + FORMAT_HELP)
    else:
        relative = path.relative_to(root / "submission")
        try:
            text = path.read_text(encoding="utf-8-sig")
            answers, warnings = parse_submission(text, path.suffix.lower(), [k.name for k in key])
            notes.append(f"Read {relative}: answers to {len(answers)} of {len(key)} questions.")
            notes.extend(warnings)
        except UnicodeDecodeError:
            notes.append(f"{relative} is not UTF-8 text. " + FORMAT_HELP)
        except SubmissionError as error:
            notes.append(f"{relative}: {error}. " + FORMAT_HELP)
        if len(candidates) > 1:
            others = ", ".join(
                str(p.relative_to(root / "submission")) for p in candidates if p != path
            )
            notes.append(f"Only {relative} was graded (also submitted: {others}).")
        if not answers and path is not None and not notes[-1].startswith("Only"):
            notes.append(FORMAT_HELP)
    worker = _Recording(timeout)
    try:
        reports, _ = grade(key, {"submission": answers}, worker=worker)
    finally:
        worker.close()
    tests = []
    for number, (item, graded) in enumerate(zip(key, reports[0].answers, strict=True), 1):
        if graded.verdict == "missing":
            output = "verdict: missing\nNo answer to this question was found. " + FORMAT_HELP
        else:
            status, payload = worker.results[(item.question_id, item.expected, graded.answer)]
            result = payload if status == "ok" else unreadable(*payload, item.question_id).as_dict()
            output = describe(result, graded.answer)
        what = item.question_id or "expected expression"
        tests.append(
            {
                "name": f"{item.name} ({what})",
                "number": str(number),
                "score": _points(graded.points),
                "max_score": _points(graded.max_points),
                "status": "passed" if graded.verdict == "correct" else "failed",
                "output": output,
                "visibility": "visible",
            }
        )
    return {
        "score": _points(reports[0].total),
        "execution_time": round(time.monotonic() - started, 3),
        "output": "\n".join(notes),
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gae_sym.gradescope.autograder")
    parser.add_argument("--root", default="/autograder", help="Gradescope's root folder")
    parser.add_argument("--key", help="the key (default: ROOT/source/key.toml)")
    args = parser.parse_args(argv)
    root = Path(args.root)
    key_path = Path(args.key) if args.key else root / "source" / "key.toml"
    results = root / "results"
    results.mkdir(parents=True, exist_ok=True)
    try:
        document = grade_submission(root, key_path)
        code = 0
    except Exception as error:  # results.json must exist whatever happened
        document = {
            "score": 0.0,
            "output": f"The autograder itself failed ({type(error).__name__}: {error}); "
            "this is not your fault. Tell your instructor.",
            "visibility": "visible",
            "stdout_visibility": "visible",
            "tests": [],
        }
        code = 1
    (results / "results.json").write_text(
        json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    print(f"results.json: score {document['score']}, {len(document['tests'])} tests")
    return code


if __name__ == "__main__":
    sys.exit(main())
