"""Every command form and error path of the reference, byte for byte against golden files.

The CLI runs in-process (``cli.main.run`` with byte streams) against ``oss_server``; outputs are
masked where runs differ (elapsed time, request ids, tokens, times, ports, temp paths).
``pytest tests/cli --update-golden`` rewrites the files; review the diff.
"""

from __future__ import annotations

import os
import stat
from datetime import datetime, timezone
from pathlib import Path

import pytest
from tests.cli.cases import BY_NAME, CASES, Case, prepare, replacements
from tests.cli.clitools import mask, run_ours

# ``ossutil sign``'s clock in the golden runs: its URLs (Expires, x-oss-date, signatures) are
# then fixed bytes; the differential test checks the same lines against Go at Go's own moment.
SIGN_MOMENT = datetime(2025, 1, 2, 3, 4, 5, tzinfo=timezone.utc)


@pytest.fixture(autouse=True)
def _frozen_sign_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("ossutil.cli.sign.clock", lambda: SIGN_MOMENT)


def _env(case: Case) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key != "LANG"}
    env.update({"LANG": "C"}, **case.env)
    return env


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_golden(case: Case, oss_server, fake_oss, golden, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    server = fake_oss if case.fake_only else oss_server
    prepare(case, server, tmp_path)
    outcome = run_ours(case.words(server), stdin=case.stdin, cwd=tmp_path, env=_env(case))
    masks = replacements(server, tmp_path)
    golden(case.name, mask(case.command_line(server), masks), outcome, masks)


def test_token_file_written_with_mode_0660_and_exact_bytes(fake_oss, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    case = BY_NAME["token_put_file_new"]
    prepare(case, fake_oss, tmp_path)
    old = os.umask(0o022)
    try:
        outcome = run_ours(case.words(fake_oss), cwd=tmp_path)
    finally:
        os.umask(old)
    assert outcome.code == 0
    written = (tmp_path / "t.xml").read_bytes()
    assert written.startswith(b"<CnameToken>\n <Bucket>cli-golden</Bucket>\n")
    assert written.endswith(b"</CnameToken>")  # no newline of its own
    assert stat.S_IMODE((tmp_path / "t.xml").stat().st_mode) == 0o640


def test_declined_overwrite_leaves_file_untouched(fake_oss, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    case = BY_NAME["list_file_no"]
    prepare(case, fake_oss, tmp_path)
    outcome = run_ours(case.words(fake_oss), stdin=case.stdin, cwd=tmp_path)
    assert outcome.code == 0
    assert (tmp_path / "out.xml").read_bytes() == b"old"


def test_list_file_gets_the_body_verbatim(fake_oss, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    case = BY_NAME["list_file_yes"]
    prepare(case, fake_oss, tmp_path)
    outcome = run_ours(case.words(fake_oss), stdin=case.stdin, cwd=tmp_path)
    assert outcome.code == 0
    body = (tmp_path / "out.xml").read_bytes()
    assert body.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<ListCnameResult>\n')
    assert body.endswith(b"</ListCnameResult>\n")
    assert outcome.stdout.startswith(b'\rbucket cname: overwrite "out.xml"(y or N)? \n\n\n')


def test_config_command_writes_0600_and_keeps_a_backup(tmp_path: Path) -> None:
    (tmp_path / "out.cfg").write_text("[Credentials]\nendpoint=old\n")
    outcome = run_ours(["config", "-e", "http://127.0.0.1:9000", "-i", "id", "-k", "sec",
                        "-c", "out.cfg"], cwd=tmp_path, env={"LANG": "C"})
    assert (outcome.code, outcome.stdout) == (0, b"")
    path = tmp_path / "out.cfg"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text() == ("[Credentials]\nlanguage=EN\nendpoint=http://127.0.0.1:9000\n"
                                "accessKeyID=id\naccessKeySecret=sec\n")
    assert (tmp_path / "out.cfg.bak").read_text() == "[Credentials]\nendpoint=old\n"


def test_config_interactive_asks_in_a_fixed_order(tmp_path: Path) -> None:
    answers = b"new.cfg\nEN\nhttp://127.0.0.1:9000\nmyid\nmysecret\n\n"
    outcome = run_ours(["config"], stdin=answers, cwd=tmp_path, env={"LANG": "C"})
    assert outcome.code == 0
    text = outcome.text
    order = [text.index(word) for word in ("path", "Language", "endpoint:", "accessKeyID:",
                                           "accessKeySecret:", "stsToken:")]
    assert order == sorted(order)
    assert (tmp_path / "new.cfg").read_text() == (
        "[Credentials]\nlanguage=EN\nendpoint=http://127.0.0.1:9000\naccessKeyID=myid\n"
        "accessKeySecret=mysecret\n")
    assert stat.S_IMODE((tmp_path / "new.cfg").stat().st_mode) == 0o600
