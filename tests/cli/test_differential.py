"""The same command lines through Go ossutil 1.7.19 and through ours: same stdout, same status.

Skipped when the reference binary (``../shared/reference/ossutil-1.7.19/ossutil``) is absent.
Both run as processes against the same loopback server, each in its own empty working directory
after the same set-up; stdout is compared after masking what varies (elapsed time, request id,
token, times, ports, the temp directory), and so are the files a command wrote. Cases whose
output is our own prose (help) are excluded here and covered by the golden files; the goopt
usage dump is compared as a set of option names (Go prints it in random map order).
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
from datetime import datetime, timezone
from pathlib import Path

import pytest
from tests.cli.cases import BY_NAME, CASES, SIGN_URL_CASES, Case, prepare, replacements
from tests.cli.clitools import Outcome, mask, our_command, run_ours, run_process

DIFF_CASES = [case for case in CASES if case.diff]


def _env(case: Case, home: Path) -> dict[str, str]:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C", "HOME": str(home)}
    env.update(case.env)
    return env


def _files(tmp: Path, masks: list[tuple[str, str]]) -> dict[str, str]:
    found = {}
    for path in sorted(tmp.rglob("*")):
        if path.is_file() and path.suffix not in (".cfg", ".bak") and path.name != "ossutil.log":
            found[str(path.relative_to(tmp))] = mask(path.read_bytes().decode("utf-8", "replace"),
                                                      masks)
    return found


def _run_both(case: Case, server: object, go_binary: Path,
              tmp_path: Path) -> tuple[tuple[Outcome, dict[str, str], str], ...]:
    results = []
    for name, command in (("go", [go_binary]), ("py", our_command())):
        work = tmp_path / name
        work.mkdir()
        prepare(case, server, work)
        outcome = run_process([*command, *case.words(server)], stdin=case.stdin, cwd=work,
                              env=_env(case, work))
        masks = replacements(server, work)
        results.append((outcome, _files(work, masks), mask(outcome.text, masks)))
    return tuple(results)


@pytest.mark.slow
@pytest.mark.parametrize("case", DIFF_CASES, ids=[case.name for case in DIFF_CASES])
def test_same_stdout_and_exit_status(case: Case, go_binary: Path, oss_server, fake_oss,  # type: ignore[no-untyped-def]
                                     tmp_path: Path) -> None:
    server = fake_oss if case.fake_only else oss_server
    (go, go_files, go_text), (py, py_files, py_text) = _run_both(case, server, go_binary,
                                                                 tmp_path)
    assert py_text == go_text
    assert py.code == go.code
    assert py_files == go_files


USAGE_CASES = ["bad_flag", "bad_short_flag", "ambiguous_prefix", "goopt_help",
               "goopt_help_in_command"]


def _usage_shape(text: str) -> tuple[list[str], list[str], list[str]]:
    """(lines around the option list, sorted option columns, help-column offsets)."""
    lines = text.split("\n")
    options = [line for line in lines if line.startswith("  -")]
    others = [line for line in lines if not line.startswith("  -")]
    names = sorted(re.split(r"\s{2,}", line.strip(), maxsplit=1)[0] for line in options)
    columns = sorted({str(len(line) - len(line[2:].split("  ", 1)[1].lstrip()))
                      for line in options if "  " in line[2:]})
    return others, names, columns


@pytest.mark.slow
@pytest.mark.parametrize("name", USAGE_CASES)
def test_goopt_usage_has_the_same_options_and_layout(name: str, go_binary: Path, oss_server,  # type: ignore[no-untyped-def]
                                                     tmp_path: Path) -> None:
    case = BY_NAME[name]
    (go, _, go_text), (py, _, py_text) = _run_both(case, oss_server, go_binary, tmp_path)
    assert py.code == go.code
    if name == "goopt_help":  # beyond 1.7: ``ossutil --help`` adds the command list after it
        py_text, added, commands = py_text.partition(
            "\nUsage: ossutil [command] [args...] [options...]\n")
        assert added and "\nCommands:\n  mb  " in commands
    assert _usage_shape(py_text) == _usage_shape(go_text)


@pytest.mark.slow
@pytest.mark.parametrize("answers", [b"y\n", b"n\n", b"\n"])
def test_prompt_answers_match(answers: bytes, go_binary: Path, oss_server,  # type: ignore[no-untyped-def]
                              tmp_path: Path) -> None:
    base = BY_NAME["list_file_yes"]
    case = Case("prompt", base.argv, setup=base.setup, files=base.files, stdin=answers)
    (go, go_files, go_text), (py, py_files, py_text) = _run_both(case, oss_server, go_binary,
                                                                 tmp_path)
    assert (py_text, py.code, py_files) == (go_text, go.code, go_files)


@pytest.mark.slow
def test_whole_help_lists_our_commands_in_ossutil_layout(go_binary: Path,  # type: ignore[no-untyped-def]
                                                         tmp_path: Path) -> None:
    go = run_process([go_binary, "help"], cwd=tmp_path, env={"LANG": "C", "PATH": "/bin"})
    py = run_process([*our_command(), "help"], cwd=tmp_path, env={"LANG": "C", "PATH": "/bin"})
    assert go.code == py.code == 0
    entry = re.compile(r"^  (\S+) +(.*)\n {8}\S", re.M)
    go_entries = dict(entry.findall(go.text))
    py_entries = dict(entry.findall(py.text))
    beyond = {"api", "completion", "doctor"}  # ossutil 2.0's api form, completion, doctor
    assert set(py_entries) - set(go_entries) == beyond
    for name, params in py_entries.items():
        if name in beyond:
            continue
        assert go_entries[name] == params
        column = py.text.index(f"  {name}")
        line = py.text[column:py.text.index("\n", column)]
        assert line.index(params) == 20
    assert py.text.endswith("\n\n") and go.text.endswith("\n\n")


SIGN_URL_NAMES = [*SIGN_URL_CASES, "sign_bucket_cname_config"]


def _go_moment(url: str, argv: str) -> datetime:
    """The moment the Go binary signed at: its ``x-oss-date``, else its absolute expiry minus
    the timeout (int64 arithmetic, as Go wrapped it)."""
    query = url.split("?", 1)[1]
    values = dict(part.partition("=")[::2] for part in query.split("&"))
    if "x-oss-date" in values:
        return datetime.strptime(values["x-oss-date"], "%Y%m%dT%H%M%SZ").replace(
            tzinfo=timezone.utc)
    expires = int(values.get("Expires") or values["x-oss-expires"])
    seconds = (expires - _timeout(argv) + 2**63) % 2**64 - 2**63
    return datetime.fromtimestamp(seconds, timezone.utc)


@pytest.mark.slow
@pytest.mark.parametrize("name", SIGN_URL_NAMES)
def test_sign_urls_match_go(name: str, go_binary: Path, tmp_path: Path,  # type: ignore[no-untyped-def]
                            monkeypatch: pytest.MonkeyPatch) -> None:
    """``ossutil sign``: the Go binary signs with its clock; ours then signs the same command
    line at that same second, and the two outputs must be the same bytes (URL, signature,
    elapsed line). A Go run that straddled a second boundary (V4 ``x-oss-expires`` one short)
    is retried."""
    case = BY_NAME[name]
    words = shlex.split(case.argv)  # no placeholders: sign needs no server
    for _attempt in range(3):
        go_work, py_work = tmp_path / "go", tmp_path / "py"
        for work in (go_work, py_work):
            shutil.rmtree(work, ignore_errors=True)
            work.mkdir()
            for rel, content in case.files.items():
                (work / rel).write_bytes(content or b"")
        go = run_process([go_binary, *words], cwd=go_work, env=_env(case, go_work))
        assert go.code == 0, go.text
        url = go.text.split("\n", 1)[0]
        if "x-oss-expires=" not in url or "x-oss-date=" not in url or \
                f"x-oss-expires={_timeout(case.argv)}&" in url:
            break
    moment = _go_moment(url, case.argv)
    monkeypatch.setattr("ossutil.cli.sign.clock", lambda: moment)
    py = run_ours(words, cwd=py_work, env=_env(case, py_work))
    assert (mask(py.text), py.code) == (mask(go.text), go.code)


def _timeout(argv: str) -> int:
    found = re.search(r"--timeout (\d+)", argv)
    return int(found.group(1)) if found else 60
