"""A mistyped or ambiguous long option: stdout and the exit status are ossutil 1.7's (goopt's
usage dump and ``Bad flag: --methd``, compared with the Go binary when it is present), and then,
beyond 1.7, stderr suggests what was meant. ``ossutil --help`` adds the command list."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.cli.clitools import our_command, run_ours, run_process

TYPOS = [
    (["bucket-cname", "--methd", "get", "oss://b"], "--methd", "Did you mean --method?\n"),
    (["bucket-cname", "--methd=get", "oss://b"], "--methd=get", "Did you mean --method?\n"),
    (["ls", "--endpont", "http://h"], "--endpont", "Did you mean --endpoint?\n"),
    (["bucket-cname", "--chek-dns"], "--chek-dns", "Did you mean --check-dns?\n"),
    (["ls", "--ver"], "--ver",
     "Did you mean one of --version, --version-id, --version-id-marker?\n"),
]


@pytest.mark.parametrize(("argv", "word", "hint"), TYPOS)
def test_typo_prints_1_7s_bad_flag_then_a_suggestion(argv: list[str], word: str,
                                                     hint: str) -> None:
    outcome = run_ours(argv)
    assert outcome.code == 1
    assert outcome.text.startswith("Usage of ossutil:\n\nOptions:\n")
    assert outcome.text.endswith(
        f"  --version                 Show version\n\n\nBad flag: {word}\n")
    assert outcome.stderr.decode() == hint


def test_nothing_close_means_no_suggestion() -> None:
    outcome = run_ours(["ls", "--zzzzzz"])
    assert (outcome.code, outcome.stderr) == (1, b"")
    assert outcome.text.endswith("\nBad flag: --zzzzzz\n")


def test_stdout_is_the_go_binarys(go_binary: Path, tmp_path: Path) -> None:
    argv = ["bucket-cname", "--methd", "get", "oss://b", "-e", "127.0.0.1", "-i", "a", "-k", "b"]
    env = {"LANG": "C", "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    go = run_process([go_binary, *argv], cwd=tmp_path, env=env)
    ours = run_process([*our_command(), *argv], cwd=tmp_path, env=env)
    # goopt prints its options in Go's map order and ours have our own prose: compare the option
    # column of each line, and the last line exactly
    def cells(text: str) -> list[str]:
        return sorted(line[:28].rstrip() for line in text.splitlines())

    assert (ours.code, cells(ours.text)) == (go.code, cells(go.text))
    assert ours.text.endswith("\n\nBad flag: --methd\n") and go.text.endswith(
        "\n\nBad flag: --methd\n")
    assert (go.stderr, ours.stderr) == (b"", b"Did you mean --method?\n")


def test_help_lists_the_commands() -> None:
    from ossutil.cli.main import COMMANDS

    outcome = run_ours(["--help"], env={"LANG": "C", "PATH": "/usr/bin:/bin"})
    assert (outcome.code, outcome.stderr) == (0, b"")
    usage, _, commands = outcome.text.partition(
        "\nUsage: ossutil [command] [args...] [options...]\n")
    assert usage.startswith("Usage of ossutil:\n\nOptions:\n")
    assert usage.endswith("  --version                 Show version\n\n")
    for name in COMMANDS:
        assert f"\n  {name:<18}{COMMANDS[name].params}\n" in commands
    # a command's own --help stays goopt's usage alone, as 1.7 prints it
    own = run_ours(["bucket-cname", "--help"], env={"LANG": "C", "PATH": "/usr/bin:/bin"})
    assert own.code == 0 and own.text == usage
