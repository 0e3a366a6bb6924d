"""Homework checking: read a student's answer safely, check it in layers, explain mistakes.

``check_answer`` checks one answer in a worker process under the hard 5 s limit (the way
untrusted input must be checked); :mod:`gae_sym.homework.grading` grades a class.
Modules: ``screen`` (raw-text pre-screen), ``text_reader`` / ``latex_reader`` (parsers),
``canonical`` (structural and algebraic layers), ``numeric_check`` (test points),
``questions`` (catalogue and known mistakes), ``checker`` (the layers in order),
``worker`` (time-limited child process), ``grading`` (keys, answer files, reports).
"""

from __future__ import annotations

from gae_sym.homework.build import AnswerError


def check_answer(
    answer: str,
    question_id: str | None = None,
    expected: str | None = None,
    timeout: float = 5.0,
) -> dict:
    """Check ``answer`` against a question id or an expected expression, in a worker process.

    Returns the ``gae-sym check --json`` document (``verdict``, ``parsed_latex``,
    ``feedback``, ``counterexample``, ``mistake``, ...). An unknown question id or an
    unreadable expected expression raises :class:`AnswerError`.
    """
    from gae_sym.homework.checker import unreadable
    from gae_sym.homework.questions import question
    from gae_sym.homework.worker import CheckWorker

    if question_id is not None:
        question(question_id)
    with CheckWorker(timeout=timeout) as worker:
        status, payload = worker.check(answer, question_id, expected)
    if status == "ok":
        return payload
    message, kind = payload
    if kind in ("bad-expected", "unknown-question"):
        raise AnswerError(message, kind)
    return unreadable(message, kind, question_id).as_dict()


__all__ = ["AnswerError", "check_answer"]
