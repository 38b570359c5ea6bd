"""goopt's parsing rules as ossutil 1.7.19 applies them (reference §2), one row per rule."""

from __future__ import annotations

import pytest

from ossutil.cli import goopt

# (argv, positional args, {internal name: value}, {flag: True})
PARSES = [
    (["bucket-cname", "oss://b", "--method", "get"], ["bucket-cname", "oss://b"],
     {"method": "get"}, {}),
    (["oss://b", "--method", "get", "d.com"], ["oss://b", "d.com"], {"method": "get"}, {}),
    (["--meth", "get"], [], {"method": "get"}, {}),  # unique prefix
    (["--endp=http://x"], [], {"endpoint": "http://x"}, {}),  # prefix with =value
    (["--method="], [], {"method": ""}, {}),  # empty value via =
    (["--method", "get", "--meth", "put"], [], {"method": "put"}, {}),  # last wins
    (["--method", "-"], [], {"method": "-"}, {}),  # a lone dash is a value
    (["-e", "E", "-i", "I"], [], {"endpoint": "E", "accessKeyID": "I"}, {}),
    (["-ek", "E", "K", "x"], ["x"], {"endpoint": "E", "accessKeySecret": "K"}, {}),
    (["-rf"], [], {}, {"recursive": True, "force": True}),  # bundled flags
    (["--", "--method", "get", "-e"], ["--method", "get", "-e"], {}, {}),
    (["-", "x"], ["-", "x"], {}, {}),  # a lone dash is positional
    (["--force-path-style", "oss://b"], ["oss://b"], {}, {"forcePathStyle": True}),
    (["--version"], [], {}, {"version": True}),  # ossutil's -v, not goopt's own
    (["--query-param", "a", "--query-param", "b"], [], {}, {}),
]


@pytest.mark.parametrize(("argv", "args", "values", "flags"), PARSES,
                         ids=[" ".join(row[0]) or "empty" for row in PARSES])
def test_parse(argv: list[str], args: list[str], values: dict[str, str],
               flags: dict[str, bool]) -> None:
    result = goopt.parse(argv)
    assert result.args == args
    assert result.values == values
    assert result.flags == flags


def test_strings_option_keeps_every_value() -> None:
    assert goopt.parse(["--query-param", "a", "--query-param", "b"]).multi == {
        "queryParam": ["a", "b"]}


# (argv, exact stdout or a (prefix, suffix) pair, exit code)
EXITS = [
    (["--method"], "Flag --method requires argument!\n", 1),
    (["--meth"], "Flag --meth requires argument!\n", 1),
    (["--method", "-x"], "Flag --method requires argument!\n", 1),
    (["--method", ""], "Flag --method requires argument!\n", 1),
    (["-e"], "Flag -e requires argument!\n", 1),
    (["-e", ""], "Flag -e requires argument!\n", 1),
    (["-ek", "E"], "Flag -k requires argument!\n", 1),
    (["--force-path-style=true"], "Flag --force-path-style=true doesn't want an argument!\n", 1),
    (["--help=1"], "Flag --help=1 doesn't want an argument!\n", 1),
    (["--nosuch"], ("Usage of ossutil:\n\nOptions:\n", "\n\nBad flag: --nosuch\n"), 1),
    (["--vers"], ("Usage of ossutil:\n", "\nBad flag: --vers\n"), 1),  # --version twice
    (["--li"], ("Usage of ossutil:\n", "\nBad flag: --li\n"), 1),  # vs --list-options
    (["-x"], ("Usage of ossutil:\n", "\nBad flag: -x\n"), 1),
    (["--nosuch", "-h"], ("Usage of ossutil:\n", "\nBad flag: --nosuch\n"), 1),
    (["-h", "--nosuch"], ("Usage of ossutil:\n", "  --version" + " " * 17 + "Show version\n\n"), 0),
    (["bucket-cname", "--help"], ("Usage of ossutil:\n", "Show version\n\n"), 0),
    (["--list-o"], ("--config-file\n", "--help\n--version\n"), 0),
]


@pytest.mark.parametrize(("argv", "stdout", "code"), EXITS,
                         ids=[" ".join(row[0]) for row in EXITS])
def test_parse_ends_the_program(argv: list[str], stdout: str | tuple[str, str],
                                code: int) -> None:
    with pytest.raises(goopt.GooptExit) as info:
        goopt.parse(argv)
    assert info.value.code == code
    if isinstance(stdout, str):
        assert info.value.text == stdout
    else:
        assert info.value.text.startswith(stdout[0])
        assert info.value.text.endswith(stdout[1])


def test_usage_aligns_the_help_column_like_go_tabwriter() -> None:
    lines = goopt.help_text().splitlines()[1:]
    widest = max(len(line.split("  ", 2)[1]) for line in lines if line.startswith("  -"))
    starts = {len(line) - len(line.lstrip()) for line in lines}
    assert starts == {2}
    assert all(line[2 + widest + 2:][:1] != " " for line in lines)
    assert "  -k, --access-key-secret=  " in goopt.help_text()


@pytest.mark.parametrize(("word", "expected"), [
    ("--method", "--method"), ("--meth", "--method"), ("--me", ""), ("--version", "--version"),
    ("--version-id-m", "--version-id-marker"), ("--x=1", ""), ("--endpoint=a=b", "--endpoint"),
])
def test_match_unique_prefix(word: str, expected: str) -> None:
    assert goopt.match(word, goopt._long_names()) == expected
