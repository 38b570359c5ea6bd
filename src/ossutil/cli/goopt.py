"""Command-line parsing exactly as droundy/goopt does it for ossutil 1.7 (reference §2).

    >>> result = parse(["bucket-cname", "oss://b", "--meth", "get", "-e", "127.0.0.1"])
    >>> result.args, result.values["method"], result.values["endpoint"]
    (['bucket-cname', 'oss://b'], 'get', '127.0.0.1')

Rules (each one observed on the Go binary):

- Options and positional words interleave freely; ``--`` makes every later word positional.
- ``--name value`` / ``--name=value``; any unique prefix of a long name is accepted (the candidate
  list also holds goopt's own ``--list-options`` and ``--create-manpage``, and ``--version``
  twice, so ``--vers`` is ambiguous); an unknown or ambiguous ``--x`` is a "bad flag".
- A separate value is taken only when the next word is non-empty and either does not start
  with ``-`` or is exactly ``-``; otherwise ``Flag <word> requires argument!``.
- Short options: each character of ``-abc`` is an option; value-taking characters consume the
  following words in turn (``-ek E K``). ``-x`` unknown is ``Bad flag: -x``.
- ``--flag=value`` on a flag: ``Flag <word> doesn't want an argument!``.
- The last value wins; ``--query-param`` keeps every value.
- ``-h``/``--help`` prints goopt's usage and exits 0 when reached; a bad flag before it wins.

Parsing never prints: it returns a ``ParseResult`` or raises ``GooptExit`` carrying the exact
stdout text and exit code, which ``cli.main`` writes.
"""

from __future__ import annotations

import os
import sys

from ossutil.cli.options import BEYOND_OPTIONS, OPTIONS, Kind, Option

TYPE_CHECKING = False  # typing is not imported at run time (start-up cost)
if TYPE_CHECKING:
    from collections.abc import Sequence

HELP_NAMES = ("--help", "-h")
GOOPT_EXTRA_LONG = ("--list-options", "--create-manpage")


class GooptExit(Exception):
    """Parsing ended the program: ``text`` goes to stdout, then exit with ``code``. Beyond 1.7:
    ``hint`` (``Did you mean --method?``) goes to stderr after it; ``is_help`` marks goopt's
    ``-h``/``--help`` usage (``cli.main`` adds the command list when no command was named)."""

    def __init__(self, text: str, code: int, hint: str = "", is_help: bool = False) -> None:
        super().__init__(text)
        self.text = text
        self.code = code
        self.hint = hint
        self.is_help = is_help


class ParseResult:
    """Positional words and option values (by internal name) of one command line."""

    def __init__(self) -> None:
        self.args: list[str] = []
        self.values: dict[str, str] = {}  # internal name -> last value
        self.flags: dict[str, bool] = {}
        self.multi: dict[str, list[str]] = {}  # STRINGS options
        self.given: list[str] = []  # internal names, in the order seen

    def __repr__(self) -> str:
        return f"ParseResult(args={self.args!r}, values={self.values!r}, flags={self.flags!r})"

    def get(self, name: str) -> str:
        return self.values.get(name, "")

    def flag(self, name: str) -> bool:
        return self.flags.get(name, False)

    def command_line(self) -> dict[str, str | bool]:
        """Every option by internal name: value ("" when absent) or bool for flags."""
        result: dict[str, str | bool] = {}
        for option in OPTIONS:
            if option.kind == Kind.FLAG:
                result[option.name] = self.flags.get(option.name, False)
            elif option.kind == Kind.STRINGS:
                result[option.name] = ",".join(self.multi.get(option.name, []))
            else:
                result[option.name] = self.values.get(option.name, "")
        return result


def program_name() -> str:
    """goopt prints ``os.Args[0]``'s base name; ours is ``ossutil`` however we were started."""
    name = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else ""
    if not name or name.endswith(".py") or name in ("-c", "-m"):
        return "ossutil"
    return name


# --- help text (goopt.Usage / goopt.Help) -------------------------------------------------------


def _cell(option: Option) -> str:
    names = f"{option.short}, {option.long}" if option.short else option.long
    return "  " + names + ("=" if option.takes_value else "")


def _rows(options: Sequence[Option]) -> list[tuple[str, str]]:
    rows = [(_cell(option), option.help) for option in options]
    rows.append(("  -h, --help", "Show usage message"))
    rows.append(("  --version", "Show version"))
    return rows


def help_text(options: Sequence[Option] = OPTIONS) -> str:
    """``Options:`` then one line per option, help column aligned as Go's tabwriter does."""
    rows = _rows(options)
    width = max(len(cell) for cell, _ in rows) + 2
    lines = ["Options:"] + [f"{cell.ljust(width)}{text}" for cell, text in rows]
    return "\n".join(lines) + "\n"


def usage(options: Sequence[Option] = OPTIONS) -> str:
    """goopt's ``Usage()``: ``Usage of ossutil:``, a blank line, then the options."""
    return f"Usage of {program_name()}:\n\n{help_text(options)}"


def bad_flag(word: str) -> GooptExit:
    return GooptExit(usage() + "\n" + f"\nBad flag: {word}\n", 1, hint=did_you_mean(word))


def did_you_mean(word: str) -> str:
    """Beyond 1.7, for stderr: the long options a mistyped or ambiguous ``--word`` may have
    meant (``--methd`` -> ``Did you mean --method?``), or "" when none is close."""
    if word[:2] != "--":
        return ""
    name = word.split("=", 1)[0]
    names = [option.long for option in (*OPTIONS, *BEYOND_OPTIONS)] + ["--help"]
    found = [candidate for candidate in names if candidate.startswith(name)]  # ambiguous
    if not found:
        import difflib  # only on this error path

        found = difflib.get_close_matches(name, names, n=1, cutoff=0.75)
    if not found:
        return ""
    if len(found) == 1:
        return f"Did you mean {found[0]}?\n"
    return f"Did you mean one of {', '.join(found[:6])}?\n"


def list_options_text() -> str:
    names = [option.long for option in OPTIONS] + ["--help", "--version"]
    return "".join(name + "\n" for name in names)


def manpage_text() -> str:
    """goopt's ``--create-manpage`` (a plain troff page of the options)."""
    import time

    prog = program_name()
    lines = [f'.TH "{prog}" 1 "{time.strftime("%B %-d, %Y")}" "" ""', ".SH NAME", prog,
             ".SH SYNOPSIS", prog, ".SH DESCRIPTION", "Simple tool for access OSS.", "",
             ".SH OPTIONS"]
    for option in OPTIONS:
        name = "\\-\\-" + option.long[2:]
        if option.short:
            name = f"\\-{option.short[1:]},{name}"
        lines += [".TP", name, option.help]
    return "\n".join(lines) + "\n"


# --- parsing ------------------------------------------------------------------------------------


def _long_names() -> list[str]:
    names = list(GOOPT_EXTRA_LONG)
    names += [option.long for option in OPTIONS]
    names += ["--help", "--version"]
    return names


def match(word: str, candidates: Sequence[str]) -> str:
    """goopt ``match``: drop ``=...``, exact name, else the only name it prefixes, else ""."""
    index = word.find("=")
    if index > 0:
        word = word[:index]
    if word in candidates:
        return word
    found = ""
    for candidate in candidates:
        if candidate.startswith(word):
            if found:
                return ""
            found = candidate
    return found


def _may_name(word: str, name: str) -> bool:
    """False when ``match(word, ...)`` cannot be ``name`` (it is neither ``name`` nor a prefix):
    spares scanning every long name for each word of the command line."""
    index = word.find("=")
    return name.startswith(word[:index] if index > 0 else word)


def _beyond(word: str) -> str:
    """A "beyond 1.7" option spelled in full (``--check-dns``, ``--cert-file=x``), else "".

    Asked only after 1.7's own matching found nothing, so every word 1.7 resolves keeps its
    meaning; no prefixes, so no 1.7 prefix becomes ambiguous (``options.BEYOND_OPTIONS``).
    """
    name = word.split("=", 1)[0] if word.find("=") > 0 else word
    return name if any(option.long == name for option in BEYOND_OPTIONS) else ""


def _usable_value(words: Sequence[str], index: int) -> bool:
    if index >= len(words):
        return False
    word = words[index]
    return len(word) >= 1 and (word[0] != "-" or word == "-")


def parse(argv: Sequence[str]) -> ParseResult:
    """Parse ``argv`` (without the program name)."""
    longs = _long_names()
    if any(_may_name(word, "--list-options") and match(word, longs) == "--list-options"
           for word in argv):
        raise GooptExit(list_options_text(), 0)
    if any(_may_name(word, "--create-manpage") and match(word, longs) == "--create-manpage"
           for word in argv):
        raise GooptExit(manpage_text(), 0)
    by_long = {option.long: option for option in (*OPTIONS, *BEYOND_OPTIONS)}
    by_short = {option.short[1]: option for option in OPTIONS if option.short}
    result = ParseResult()
    i = 0
    while i < len(argv):
        word = argv[i]
        if word == "--":
            result.args.extend(argv[i + 1:])
            break
        if len(word) > 1 and word[0] == "-" and word[1] != "-":
            skip = 0
            for char in word[1:]:
                if char == "h":
                    raise GooptExit(usage() + "\n", 0, is_help=True)
                option = by_short.get(char)
                if option is None:
                    raise bad_flag("-" + char)
                if option.takes_value:
                    if _usable_value(argv, i + skip + 1):
                        _store(result, option, argv[i + skip + 1])
                        skip += 1
                    else:
                        raise GooptExit(f"Flag -{char} requires argument!\n", 1)
                else:
                    _store(result, option, "")
            i += 1 + skip
            continue
        if len(word) > 2 and word[:2] == "--":
            name = match(word, longs) or _beyond(word)
            if name == "":
                raise bad_flag(word)
            if name == "--help":
                if "=" in word[1:]:
                    raise GooptExit(f"Flag {word} doesn't want an argument!\n", 1)
                raise GooptExit(usage() + "\n", 0, is_help=True)
            option = by_long.get(name)
            if option is None:  # goopt's own --version never runs: ossutil's -v wins
                raise bad_flag(word)
            equals = word.find("=")
            if equals > 0:
                if not option.takes_value:
                    raise GooptExit(f"Flag {word} doesn't want an argument!\n", 1)
                _store(result, option, word[equals + 1:])
            elif option.takes_value and _usable_value(argv, i + 1):
                _store(result, option, argv[i + 1])
                i += 1
            elif option.takes_value:
                raise GooptExit(f"Flag {word} requires argument!\n", 1)
            else:
                _store(result, option, "")
            i += 1
            continue
        result.args.append(word)
        i += 1
    return result


def _store(result: ParseResult, option: Option, value: str) -> None:
    result.given.append(option.name)
    if option.kind == Kind.FLAG:
        result.flags[option.name] = True
    elif option.kind == Kind.STRINGS:
        result.multi.setdefault(option.name, []).append(value)
    else:
        result.values[option.name] = value
