"""Command-line errors, for every command: validated numeric flags, JSON errors, progress bars.

The parametrized tests walk the real parser, so a command added later (and every flag of it)
is covered without editing this file.
"""

from __future__ import annotations

import argparse
import fcntl
import io
import json
import os
import pty
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pytest

from gae_sym.cli import build_parser, main
from gae_sym.cli._common import NumberFlag, float_flag, int_flag, progress_bar
from gae_sym.errors import UserError

ROOT = Path(__file__).resolve().parent.parent


def _subparsers() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    raise AssertionError("no sub-commands")


COMMANDS = _subparsers()


def _flags(kinds=(int, float, NumberFlag)):
    for name, sub in COMMANDS.items():
        for action in sub._actions:
            if action.option_strings and (
                action.type in kinds or isinstance(action.type, NumberFlag)
            ):
                yield pytest.param(name, action, id=f"{name} {action.option_strings[-1]}")


def _has_json(command: str) -> bool:
    return any("--json" in a.option_strings for a in COMMANDS[command]._actions)


@pytest.mark.parametrize(("command", "action"), list(_flags()))
def test_every_numeric_flag_declares_its_range(command, action):
    """No plain type=int / type=float: those let -1, nan and 1e400 through to a traceback."""
    assert isinstance(action.type, NumberFlag), (
        f"gae-sym {command} {action.option_strings[-1]} uses type={action.type!r}; "
        "use gae_sym.cli._common.int_flag / float_flag with its range"
    )
    if action.default is not None:
        assert action.type.contains(action.default), "the default lies outside the range"
        assert action.type(str(action.default)) == action.default


def _bad_values(flag: NumberFlag) -> list[str]:
    bad = ["abc", "", "nan", "inf", "-inf", "1e400"]
    if flag.minimum is not None:
        bad.append(repr(flag.minimum) if flag.min_open else repr(flag.minimum - 1))
        if not flag.integer:
            bad.append(repr(flag.minimum - 1e-3))
    if flag.maximum is not None:
        bad.append(repr(flag.maximum) if flag.max_open else repr(flag.maximum + 1))
    if flag.integer:
        bad += ["1.5", "2e3", "0x10"]
    return bad


@pytest.mark.parametrize(("command", "action"), list(_flags()))
def test_bad_numeric_values_exit_2_naming_the_flag_and_its_range(command, action, capsys):
    flag = action.option_strings[-1]
    for bad in _bad_values(action.type):
        argv = [command, f"{flag}={bad}"]  # "-inf" after a space would read as a flag
        if _has_json(command):
            argv.append("--json")
        code = main(argv)
        captured = capsys.readouterr()
        assert code == 2, (argv, captured)
        assert "Traceback" not in captured.err
        assert f"argument {flag}" in captured.err
        assert action.type.describe() in captured.err, captured.err
        if _has_json(command):
            document = json.loads(captured.out)  # exactly one JSON document, nothing else
            assert document["error"]["kind"] == "usage"
            assert document["error"]["command"] == command
            assert action.type.describe() in document["error"]["message"]
        else:
            assert captured.out == ""


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_usage_errors_with_json_are_one_json_document(command, capsys):
    assert main([command, "--json", "--no-such-flag"]) == 2
    captured = capsys.readouterr()
    document = json.loads(captured.out)
    assert document["error"]["exit_status"] == 2
    assert document["error"]["kind"] == "usage"
    # The first thing wrong is reported: a missing argument, or the unknown flag.
    message = document["error"]["message"]
    assert "--no-such-flag" in message or "arguments are required" in message
    assert "usage:" not in captured.out


def test_unknown_or_missing_command_with_json(capsys):
    assert main(["no-such-command", "--json"]) == 2
    assert json.loads(capsys.readouterr().out)["error"]["kind"] == "usage"
    assert main(["--json"]) == 2
    assert json.loads(capsys.readouterr().out)["error"]["command"] is None


@pytest.mark.parametrize(
    ("argv", "phrase"),
    [
        (["check", "--question", "nope", "--json", "r_t"], "unknown question 'nope'"),
        (["check", "--question", "nstep-0", "--json", "r_t"], "K from 1 to 100"),
        (["check", "--question", "nstep-101", "--json", "r_t"], "K from 1 to 100"),
        (["check", "--json", "r_t"], "give --question ID"),
        (["grade", "/nonexistent/key.toml", "/nonexistent/a.toml", "--json"], "key"),
        (["prove", "--only", "nope", "--json"], "unknown derivation 'nope'"),
        (["verify-impl", "nosuchmodule_xyz:f", "--json"], "cannot import nosuchmodule_xyz"),
        (["study", "--out", "/proc/forbidden/x", "--json"], "cannot create output directory"),
    ],
)
def test_input_errors_with_json_are_one_json_document(argv, phrase, capsys):
    code = main(argv)
    captured = capsys.readouterr()
    document = json.loads(captured.out)
    assert code == 2
    assert document["error"]["kind"] == "input"
    assert document["error"]["command"] == argv[0]
    assert phrase in document["error"]["message"]
    assert phrase in captured.err  # a person reading the terminal sees it too


def test_an_unexpected_exception_with_json_is_a_json_document(monkeypatch, capsys):
    import gae_sym.cli.prove as prove_cli

    def broken(args):
        raise RuntimeError("boom")

    monkeypatch.setattr(prove_cli, "register", _register_with(broken, prove_cli.register))
    assert main(["prove", "--json"]) == 1
    captured = capsys.readouterr()
    document = json.loads(captured.out)
    assert document["error"]["kind"] == "internal"
    assert "RuntimeError: boom" in document["error"]["message"]
    assert "Traceback" in captured.err
    with pytest.raises(RuntimeError):  # without --json a bug keeps its traceback
        main(["prove"])


def _register_with(func, register):
    def patched(subparsers):
        register(subparsers)
        subparsers.choices["prove"].set_defaults(func=func)

    return patched


def test_a_command_that_printed_its_document_gets_no_second_one(monkeypatch, capsys):
    import gae_sym.cli.prove as prove_cli
    from gae_sym.cli._common import print_json

    def report_then_fail(args):
        print_json({"report": "partial"})
        raise UserError("went wrong after the report")

    monkeypatch.setattr(prove_cli, "register", _register_with(report_then_fail, prove_cli.register))
    assert main(["prove", "--json"]) == 2
    assert json.loads(capsys.readouterr().out) == {"report": "partial"}


def test_latex_lists_each_known_name_once(capsys):
    assert main(["latex", "foo"]) == 2
    err = capsys.readouterr().err
    known = err.split("known: ", 1)[1].split(" (")[0].strip().split(", ")
    assert len(known) == len(set(known))
    assert "lambda-return" in known


def test_notes_refuses_a_missing_data_folder(tmp_path, capsys):
    assert main(["notes", "--data", str(tmp_path / "nope"), "--out", str(tmp_path / "o")]) == 2
    assert "no such folder" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_notes_name_the_data_files_they_read(tmp_path):
    from gae_sym.notes.data import load_data

    data = load_data(tmp_path)
    assert data.study_path == (tmp_path / "study" / "study.json").as_posix()
    assert data.runs_path == (tmp_path / "cartpole" / "runs.json").as_posix()
    assert load_data().study_path == "docs/data/study/study.json"  # the committed notes


def test_verify_impl_names_a_non_function_with_the_right_article(tmp_path, capsys):
    module = tmp_path / "consts.py"
    module.write_text("ANSWER = 3\nNAME = 'x'\n")
    assert main(["verify-impl", f"{module}:ANSWER"]) == 2
    assert "is an int, not a function" in capsys.readouterr().err
    assert main(["verify-impl", f"{module}:NAME"]) == 2
    assert "is a str, not a function" in capsys.readouterr().err


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_help_says_examples_and_exit_status(command):
    text = COMMANDS[command].format_help()
    lines = [line.strip() for line in text.splitlines()]
    assert "exit status" in text.lower(), f"{command} --help does not document its exit status"
    if "example:" in lines:
        start = lines.index("example:") + 1
        examples = [x for x in lines[start:] if x.startswith("gae-sym")]
        assert len(examples) == 1, f"{command}: 'example:' heads {len(examples)} examples"


def test_number_flags_refuse_what_argparse_int_and_float_accept():
    assert int_flag(0)("7") == 7
    assert float_flag(0, 1)("0.5") == 0.5
    for flag, text in [
        (int_flag(0), "-1"),
        (int_flag(0, 10), "11"),
        (float_flag(0, 1), "nan"),
        (float_flag(0, None, min_open=True), "0"),
        (float_flag(), "1e999"),
        (int_flag(), " 1_0x"),
    ]:
        with pytest.raises(argparse.ArgumentTypeError, match=r"must be (an integer|a number)"):
            flag(text)
    assert int_flag(2, 5).describe() == "an integer in [2, 5]"
    assert float_flag(0, 60, min_open=True).describe() == "a number in (0, 60]"
    assert float_flag(0).describe() == "a number >= 0"


# --- progress bars ----------------------------------------------------------------------


def test_progress_on_a_pipe_writes_whole_lines_or_nothing():
    quiet = io.StringIO()
    with progress_bar(10, "checking", "answer", stream=quiet) as bar:
        for _ in range(10):
            bar.update()
    assert quiet.getvalue() == ""
    log = io.StringIO()
    with progress_bar(5, "training", "ep", log_every_s=0, stream=log) as bar:
        for k in range(5):
            bar.set_postfix(ret=k)
            bar.update()
    lines = log.getvalue().splitlines()
    assert "\r" not in log.getvalue()
    assert len(lines) == 5 and lines[-1].startswith("training: 5/5 ep") and "ret=4" in lines[-1]


def _terminal() -> tuple[int, int]:
    """A pseudo-terminal 100 columns wide (a fresh one has 0, and tqdm then draws nothing)."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    return leader, follower


def test_progress_on_a_terminal_is_a_bar():
    leader, follower = _terminal()
    try:
        with os.fdopen(follower, "w", closefd=False) as tty:
            with progress_bar(3, "checking", "answer", stream=tty, leave=True) as bar:
                bar.update(3)
            tty.flush()
        output = os.read(leader, 4096).decode()
    finally:
        os.close(leader)
        os.close(follower)
    assert "checking" in output and "0/3" in output  # a tqdm bar, drawn on the terminal


def _write_class(tmp_path: Path) -> tuple[Path, Path]:
    key = tmp_path / "key.toml"
    key.write_text('[[question]]\nname = "q1"\nquestion = "td-error"\npoints = 1\n')
    answers = tmp_path / "class.csv"
    rows = ["student,question,answer"] + [
        f"s{k},q1,r_t + \\gamma V(s_{{t+1}}) - V(s_t)" for k in range(30)
    ]
    answers.write_text("\n".join(rows) + "\n")
    return key, answers


def test_grade_writes_no_progress_into_a_redirected_log(tmp_path):
    key, answers = _write_class(tmp_path)
    run = subprocess.run(
        [sys.executable, "-m", "gae_sym", "grade", str(key), str(answers)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert "\r" not in run.stderr and "checking" not in run.stderr
    assert "30 students" in run.stdout


def test_grade_shows_a_bar_on_a_terminal(tmp_path):
    key, answers = _write_class(tmp_path)
    leader, follower = _terminal()
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "gae_sym", "grade", str(key), str(answers)],
            stdout=subprocess.DEVNULL,
            stderr=follower,
            cwd=ROOT,
        )
        os.close(follower)
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # the terminal closed: the process ended
                break
            if not chunk:
                break
            chunks.append(chunk)
        assert process.wait(timeout=120) == 0
    finally:
        os.close(leader)
    output = b"".join(chunks).decode(errors="replace")
    assert "checking" in output and "answer" in output


def test_every_progress_bar_goes_through_the_shared_helper():
    """tqdm straight to stderr writes \\r-joined redraws into a redirected log: only
    ``progress_bar`` (a bar on a terminal, whole lines or nothing elsewhere) may use it."""
    sources = [*(ROOT / "gae_sym").rglob("*.py"), *(ROOT / "numeric").rglob("*.py")]
    offenders = [
        str(path.relative_to(ROOT))
        for path in sources
        if path.name != "_common.py" and "tqdm" in path.read_text(encoding="utf-8")
    ]
    assert offenders == []


def test_a_mistyped_flag_gets_the_closest_flag_and_the_commands_own_help(capsys):
    assert main(["prove", "--jsn"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (
        "gae-sym prove: error: unrecognized arguments: --jsn; did you mean --json for --jsn? "
        "(see 'gae-sym prove --help')"
    )
    assert main(["check", "--qestion", "gae", "x"]) == 2
    assert "did you mean --question for --qestion?" in capsys.readouterr().err


def test_an_unquoted_answer_is_told_to_be_quoted(capsys):
    # The shell splits A_t = \delta_t into three words; the first is the answer.
    assert main(["check", "--question", "gae", "A_t", "=", "\\delta_t"]) == 2
    err = capsys.readouterr().err
    assert "a text with spaces must be quoted as one argument" in err
    assert "(see 'gae-sym check --help')" in err


def test_a_flag_far_from_every_real_one_gets_no_guess(capsys):
    assert main(["prove", "--zzzzzz"]) == 2
    err = capsys.readouterr().err
    assert "did you mean" not in err and "unrecognized arguments: --zzzzzz" in err


def test_an_unknown_option_with_a_value_is_not_told_to_quote(capsys):
    # "--repeats 5": the 5 is the unknown option's value, not an unquoted text.
    assert main(["bench", "--repeats", "5"]) == 2
    err = capsys.readouterr().err
    assert "unrecognized arguments: --repeats 5" in err
    assert "quoted" not in err and "(see 'gae-sym bench --help')" in err
