"""`gae-sym grade`: keys, one-student TOML, class CSV, report CSV, exit codes."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from gae_sym.cli import main
from gae_sym.homework.grading import grade, load_answers, load_key
from gae_sym.homework.worker import CheckWorker

EXAMPLES = Path(__file__).parent.parent / "docs" / "examples" / "homework"
KEY = EXAMPLES / "key.toml"


def test_one_student_toml(capsys):
    code = main(["grade", str(KEY), str(EXAMPLES / "answers.toml")])
    out = capsys.readouterr().out
    assert code == 1  # Ada's two-step answer discounts the bootstrap by γ, not γ²
    assert "== Ada: 7/9" in out
    assert "bootstrap term is discounted by γ^{n−1}" in out


def test_class_csv_json_and_report(capsys, tmp_path):
    report = tmp_path / "report.csv"
    code = main(["grade", str(KEY), str(EXAMPLES / "class.csv"), "--json", "--out", str(report)])
    doc = json.loads(capsys.readouterr().out)
    assert code == 1
    totals = {s["student"]: s["total"] for s in doc["students"]}
    assert totals == {"Ada": 9, "Ben": 4, "Chen": 5, "Dana": 2}
    dana = {a["question"]: a for a in doc["students"][3]["answers"]}
    assert dana["q2-two-step"]["verdict"] == "unreadable"  # \alpha: refused, others graded
    assert dana["q5-three-step-return"]["verdict"] == "missing"
    rows = list(csv.DictReader(report.open(encoding="utf-8")))
    assert rows[0].keys() >= {"student", "question", "verdict", "points", "max_points", "hint"}
    assert [r["points"] for r in rows if r["question"] == "TOTAL"] == ["9", "4", "5", "2"]


def test_all_correct_exits_0(tmp_path, capsys):
    answers = tmp_path / "perfect.toml"
    answers.write_text(
        "q1-td-error = 'r_t + \\gamma V(s_{t+1}) - V(s_t)'\n"
        "q2-two-step = 'delta[t] + gamma*delta[t+1]'\n"
        "q3-gae = 'sum(l=0..inf, (gamma*lambda)^l*delta[t+l])'\n"
        "q4-lambda-zero = '\\delta_t'\n"
        "q5-three-step-return = 'r[t] + gamma*r[t+1] + gamma^2*r[t+2] + gamma^3*V[t+3]'\n",
        encoding="utf-8",
    )
    assert main(["grade", str(KEY), str(answers)]) == 0
    assert "== perfect: 9/9" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("key_text", "phrase"),
    [
        ("not toml [", "cannot read the key"),
        ("[[question]]\nname = 'a'\npoints = 1\n", "exactly one of"),
        ("[[question]]\nname = 'a'\nquestion = 'gae-2'\n", "unknown question"),
        ("title = 'no questions'\n", "no [[question]]"),
        # A typo in an expected expression stops the run even if nobody answered it.
        ("[[question]]\nname = 'a'\nexpected = 'r_t + \\beta'\n", "'\\beta'"),
    ],
)
def test_unreadable_key_exits_2(tmp_path, capsys, key_text, phrase):
    key = tmp_path / "key.toml"
    key.write_text(key_text, encoding="utf-8")
    assert main(["grade", str(key), str(EXAMPLES / "answers.toml")]) == 2
    assert phrase in capsys.readouterr().err


def test_unreadable_answers_exit_2(tmp_path, capsys):
    bad = tmp_path / "class.csv"
    bad.write_text("name,answer\nAda,r_t\n", encoding="utf-8")
    assert main(["grade", str(KEY), str(bad)]) == 2
    assert "student,question,answer" in capsys.readouterr().err
    assert main(["grade", str(KEY), str(tmp_path / "missing.toml")]) == 2


def test_spreadsheet_csv_with_a_byte_order_mark(tmp_path, capsys):
    exported = tmp_path / "excel.csv"
    exported.write_text(
        "student,question,answer\nAda,q1-td-error,r[t] + gamma*V[t+1] - V[t]\n",
        encoding="utf-8-sig",
    )
    assert main(["grade", str(KEY), str(exported)]) == 1  # four answers are missing
    assert "q1-td-error           correct" in capsys.readouterr().out


def test_a_timeout_never_stops_the_rest(tmp_path):
    answers = tmp_path / "class.csv"
    bomb = "+".join(
        rf"\sum_{{l=0}}^{{n+{150 - i}}}\sum_{{k=0}}^{{n+{150 - i}}}\sum_{{j=0}}^{{n+{150 - i}}} "
        r"r_{t+j+k+l}"
        for i in range(24)
    )
    answers.write_text(
        "student,question,answer\n"
        f"Eve,q1-td-error,{bomb}\n"
        "Eve,q4-lambda-zero,\\delta_t\n"
        "Fay,q1-td-error,r[t] + gamma*V[t+1] - V[t]\n",
        encoding="utf-8",
    )
    key = load_key(KEY)
    with CheckWorker(timeout=1.0, warm=True) as worker:
        reports, stats = grade(key, load_answers(answers, key), worker=worker)
    eve, fay = reports
    assert eve.answers[0].verdict == "unreadable" and "too complex" in eve.answers[0].hint
    assert eve.answers[3].verdict == "correct"
    assert fay.answers[0].verdict == "correct"
    assert stats["timeouts"] == 1


def test_out_is_checked_before_grading_and_its_folder_made(tmp_path, capsys, monkeypatch):
    import gae_sym.homework.grading as grading

    def never(*args, **kwargs):
        raise AssertionError("graded before --out was checked")

    monkeypatch.setattr(grading, "grade", never)
    assert main(["grade", str(KEY), str(EXAMPLES / "class.csv"), "--out", str(tmp_path)]) == 2
    assert "is a folder; give the CSV's file name" in capsys.readouterr().err
    blocked = tmp_path / "file"
    blocked.write_text("")
    out = blocked / "r.csv"  # a folder that cannot be made: its parent is a file
    assert main(["grade", str(KEY), str(EXAMPLES / "class.csv"), "--out", str(out)]) == 2
    assert f"cannot write {out}" in capsys.readouterr().err
    monkeypatch.undo()
    nested = tmp_path / "new" / "dir" / "r.csv"
    main(["grade", str(KEY), str(EXAMPLES / "class.csv"), "--out", str(nested)])
    assert nested.read_text().startswith("student")
