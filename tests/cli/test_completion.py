"""``ossutil completion bash|zsh`` (beyond 1.7): the generated bash script, sourced in a real bash,
completes command names, options and option values (driven through COMP_WORDS/COMP_CWORD and
the function ``complete`` registered, as bash's readline would); the scripts follow the command
table (a command added to ``cli.main.COMMANDS`` is completed without touching completion.py)."""

from __future__ import annotations

import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
from tests.cli.clitools import run_ours

BASH = shutil.which("bash")


def script(shell: str) -> str:
    outcome = run_ours(["completion", shell])
    assert (outcome.code, outcome.stderr) == (0, b"")
    return outcome.text


def complete_bash(tmp_path: Path, words: list[str]) -> list[str]:
    """COMPREPLY for the command line ``words`` (the last word is the one being completed)."""
    if BASH is None:
        pytest.skip("bash is not installed")
    path = tmp_path / "ossutil.bash"
    path.write_text(script("bash"))
    driver = (f"source {shlex.quote(str(path))}\n"
              f"COMP_WORDS=({' '.join(shlex.quote(word) for word in words)})\n"
              f"COMP_CWORD={len(words) - 1}\n"
              "spec=$(complete -p ossutil)\n"
              'function=${spec#*-F }; function=${function%% *}\n'
              '"$function" ossutil "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"\n'
              'printf "%s\\n" "$spec"\n'
              '[ ${#COMPREPLY[@]} -eq 0 ] || printf "%s\\n" "${COMPREPLY[@]}"\n')
    done = subprocess.run([BASH, "--norc", "--noprofile", "-c", driver], capture_output=True,
                          text=True, timeout=30, cwd=tmp_path)
    assert (done.returncode, done.stderr) == (0, "")
    spec, *reply = done.stdout.splitlines()
    assert spec == "complete -o default -F _ossutil ossutil"
    return reply


def test_bash_completes_a_command_name(tmp_path: Path) -> None:
    assert complete_bash(tmp_path, ["ossutil", "bucket-c"]) == ["bucket-cname"]


def test_bash_completes_an_option_of_the_command(tmp_path: Path) -> None:
    assert complete_bash(tmp_path, ["ossutil", "bucket-cname", "--meth"]) == ["--method"]
    # options given before the command are skipped with their values
    assert complete_bash(tmp_path, ["ossutil", "-e", "http://h", "bucket-cname", "--meth"]) == \
        ["--method"]
    # beyond-1.7 options of the command, and the ones every command takes
    assert complete_bash(tmp_path, ["ossutil", "bucket-cname", "--check-"]) == ["--check-dns"]
    assert complete_bash(tmp_path, ["ossutil", "ls", "--prof"]) == ["--profile"]
    # an option the command does not take is not offered
    assert complete_bash(tmp_path, ["ossutil", "ls", "--meth"]) == []


def test_bash_completes_option_values_and_help_topics(tmp_path: Path) -> None:
    assert complete_bash(tmp_path, ["ossutil", "bucket-cname", "--method", ""]) == \
        ["get", "put", "delete"]
    assert complete_bash(tmp_path, ["ossutil", "bucket-cname", "--item", "c"]) == \
        ["certificate"]
    assert complete_bash(tmp_path, ["ossutil", "mb", "--storage-class", "A"]) == ["Archive"]
    assert complete_bash(tmp_path, ["ossutil", "help", "bucket-"]) == ["bucket-cname"]
    assert complete_bash(tmp_path, ["ossutil", "completion", ""]) == ["bash", "zsh"]


def test_bash_without_a_command_offers_every_command(tmp_path: Path) -> None:
    from ossutil.cli.main import COMMANDS

    assert complete_bash(tmp_path, ["ossutil", ""]) == list(COMMANDS)
    assert "completion" in COMMANDS


def test_scripts_follow_the_command_table(monkeypatch: pytest.MonkeyPatch,
                                          tmp_path: Path) -> None:
    from ossutil.cli import main

    entry = main.CommandEntry("ossutil.cli.mb", "Commands", "cloud_url", "A new command")
    monkeypatch.setitem(main.COMMANDS, "brand-new", entry)
    assert complete_bash(tmp_path, ["ossutil", "brand-n"]) == ["brand-new"]
    assert "brand-new) words_=" in script("zsh")


def test_zsh_script_shape() -> None:
    text = script("zsh")
    assert text.startswith("#compdef ossutil\n")
    assert "(bucket-cname) words_=\"" in text and "compdef _ossutil ossutil" in text


@pytest.mark.skipif(shutil.which("zsh") is None, reason="zsh is not installed")
def test_zsh_script_offers_commands_options_and_values(tmp_path: Path) -> None:
    """Sourced in zsh with compsys's compadd/_files/compdef stood in by functions that print
    (compadd itself filters by the typed prefix; the stub prints every candidate offered)."""
    path = tmp_path / "_ossutil"
    path.write_text(script("zsh"))
    assert subprocess.run(["zsh", "-n", str(path)], timeout=30).returncode == 0

    def offered(*words: str) -> list[str]:
        quoted = " ".join(shlex.quote(word) for word in words)
        driver = ('compdef() { print -r -- "compdef $*"; }\n'
                  'compadd() { shift; print -rl -- "$@"; }\n'
                  "_files() { print -r -- FILES; }\n"
                  f"source {shlex.quote(str(path))}\n"
                  f"words=({quoted}); CURRENT={len(words)}; _ossutil\n")
        done = subprocess.run(["zsh", "-f", "-c", driver], capture_output=True, text=True,
                              timeout=30)
        assert (done.returncode, done.stderr) == (0, "")
        first, *rest = done.stdout.splitlines()
        assert first == "compdef _ossutil ossutil"
        return rest

    from ossutil.cli.main import COMMANDS

    assert offered("ossutil", "bucket-c") == list(COMMANDS)
    assert "--method" in offered("ossutil", "bucket-cname", "--meth")
    assert "--method" not in offered("ossutil", "ls", "--meth")
    assert offered("ossutil", "bucket-cname", "--method", "") == ["get", "put", "delete"]
    assert offered("ossutil", "cp", "") == ["FILES"]


def test_unknown_shell_is_an_ossutil_error() -> None:
    outcome = run_ours(["completion", "fish"])
    assert (outcome.code, outcome.text) == \
        (1, "Error: completion: unknown shell fish, expected bash or zsh\n")
    missing = run_ours(["completion"])
    assert missing.code == 1
    assert missing.text == ('Error: invalid usage of "completion" command, reason: the command '
                            'needs at least 1 argument, please try "help completion" for more '
                            'information\n')
