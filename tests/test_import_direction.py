"""Imports flow one way (ARCHITECTURE.md; issue 9): a test of every module's imports.

Every module under ``src/ossutil`` is parsed with ``ast``; every ``import`` and ``from ...
import`` counts, at module level, inside functions (the lazy ones) and under ``TYPE_CHECKING``
alike. A wrong-way import fails with ``file:line``.

    wire       imports nothing of ours outside ``wire``
    dnsrules   imports nothing of ours outside ``dnsrules`` (shared by the CLI and the server)
    certcheck  only ``wire`` (PEM, chain, key and domain checks shared by the CLI and server)
    client     only ``wire`` (and ``client``)
    cli        never ``server``
    server/cname, buckets, objects, dns (the domain)
               never ``server/http``, the store implementations (``storage/sqlite``,
               ``storage/postgres``, the blob stores ``storage/files``,
               ``storage/postgres_blobs``) or ``aiohttp``
    server/storage
               never ``server/certs`` or a domain service (cname, buckets, objects, dns);
               one store implementation never imports another (shared row codecs are in
               ``storage/rows.py``), and the SQLite side never imports PostgreSQL or psycopg

``KNOWN`` lists the violations that remain while other changes of issue 9 are under way. It can
only shrink: an entry that no longer occurs fails the test too, so whoever removes the import
removes the entry.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "ossutil"

DOMAIN = ("ossutil.server.cname", "ossutil.server.buckets", "ossutil.server.objects",
          "ossutil.server.dns")
SQLITE_SIDE = ("ossutil.server.storage.sqlite", "ossutil.server.storage.files")
POSTGRES_SIDE = ("ossutil.server.storage.postgres", "ossutil.server.storage.postgres_blobs")

# (package of the importing module, what it must not import, why). A module "is in" a package
# when its dotted name equals it or starts with it plus a dot; so is an imported name.
RULES: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("ossutil.cli", ("ossutil.server",), "the CLI never depends on the server package"),
    *((domain, ("ossutil.server.http", *SQLITE_SIDE, *POSTGRES_SIDE, "aiohttp"),
       "domain code knows no HTTP and no store implementation") for domain in DOMAIN),
    ("ossutil.server.storage", ("ossutil.server.certs", *DOMAIN),
     "storage holds no crypto and no domain rules"),
    ("ossutil.server.auth", ("ossutil.server.http", "aiohttp"),
     "auth reads the operation table (server/operations.py), never the HTTP layer"),
    ("ossutil.server.operations", ("ossutil.server.http", "aiohttp"),
     "the operation table knows no HTTP"),
    *((module, SQLITE_SIDE, "the PostgreSQL side shares code with SQLite's through "
       "storage/rows.py, never by importing it") for module in POSTGRES_SIDE),
    *((module, (*POSTGRES_SIDE, "psycopg"), "the SQLite default never imports PostgreSQL "
       "code or its driver") for module in SQLITE_SIDE),
)
# (package, the only ossutil packages it may import)
ONLY_OURS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("ossutil.wire", ("ossutil.wire",)),
    ("ossutil.dnsrules", ("ossutil.dnsrules",)),
    ("ossutil.certcheck", ("ossutil.wire", "ossutil.certcheck")),
    ("ossutil.client", ("ossutil.wire", "ossutil.client")),
)

# Violations left while other engineers restructure those files (issue 9). Each entry is
# (importing module, imported module); remove the entry with the import.
KNOWN: frozenset[tuple[str, str]] = frozenset()


def _in(name: str, packages: tuple[str, ...]) -> bool:
    return any(name == package or name.startswith(package + ".") for package in packages)


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_module(dotted: str) -> bool:
    base = SRC.joinpath(*dotted.split("."))
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()


def _imports(path: Path, source: str | None = None) -> list[tuple[int, str]]:
    """(line, imported module) for every import in ``path`` (or ``source``, as if it were that
    file); ``from P import m`` names the submodule ``P.m`` when there is one."""
    module = _module_name(path)
    is_package = path.name == "__init__.py"
    if source is None:
        source = path.read_text(encoding="utf-8")
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source, str(path))):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".")
                anchor = anchor[:len(anchor) - node.level + (1 if is_package else 0)]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                target = f"{base}.{alias.name}"
                found.append((node.lineno, target if _is_module(target) else base))
    return found


def _reasons(module: str, imported: str) -> list[str]:
    """Why ``module`` must not import ``imported`` (empty: it may)."""
    reasons = [why for package, forbidden, why in RULES
               if _in(module, (package,)) and _in(imported, forbidden)]
    reasons += [f"{package} may import only {', '.join(allowed)} of ours"
                for package, allowed in ONLY_OURS
                if _in(module, (package,)) and _in(imported, ("ossutil",))
                and not _in(imported, allowed)]
    return reasons


def _violations() -> dict[tuple[str, str], list[str]]:
    """(importing module, imported module) -> ["file:line: why", ...]."""
    bad: dict[tuple[str, str], list[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        module = _module_name(path)
        where = path.relative_to(SRC.parent)
        for line, imported in _imports(path):
            for why in _reasons(module, imported):
                text = f"{where}:{line}: {module} imports {imported} ({why})"
                texts = bad.setdefault((module, imported), [])
                if text not in texts:  # ``from m import a, b``: one line, one report
                    texts.append(text)
    return bad


def test_imports_flow_one_way() -> None:
    new = [text for key, texts in _violations().items() if key not in KNOWN for text in texts]
    assert new == [], "wrong-way imports:\n" + "\n".join(new)


def test_known_violations_still_exist() -> None:
    """The KNOWN list only shrinks: an entry whose import is gone must be deleted."""
    gone = sorted(KNOWN - set(_violations()))
    assert gone == [], f"no longer imported, delete from KNOWN: {gone}"


@pytest.mark.parametrize("source, expected", [
    ("from ossutil.server.http import router\n", "ossutil.server.http.router"),
    ("from ossutil.server.http.router import Operation\n", "ossutil.server.http.router"),
    ("import aiohttp.web\n", "aiohttp.web"),
    ("def f():\n    from ..http import pipeline\n", "ossutil.server.http.pipeline"),
])
def test_imports_are_read_from_every_form(source: str, expected: str) -> None:
    """The parser sees plain, from, lazy and relative imports (as a file in server/cname)."""
    path = PACKAGE / "server" / "cname" / "probe.py"
    assert [name for _, name in _imports(path, source)] == [expected]


@pytest.mark.parametrize("module, imported, wrong", [
    ("ossutil.wire.xml", "ossutil.client.client", True),
    ("ossutil.wire.xml", "ossutil.wire.errors", False),
    ("ossutil.client.client", "ossutil.cli.main", True),
    ("ossutil.client.client", "ossutil.wire.signing", False),
    ("ossutil.cli.main", "ossutil.server.main", True),
    ("ossutil.cli.dnscheck", "ossutil.dnsrules.txt", False),
    ("ossutil.dnsrules.txt", "ossutil.server.dns.lookup", True),
    ("ossutil.server.cname.service", "aiohttp.web", True),
    ("ossutil.server.dns.lookup", "ossutil.server.storage.sqlite", True),
    ("ossutil.server.buckets.service", "ossutil.server.http.router", True),
    ("ossutil.server.objects.service", "ossutil.server.storage.base", False),
    ("ossutil.server.storage.sqlite", "ossutil.server.cname.service", True),
    ("ossutil.server.storage.sqlite", "ossutil.server.certs.keystore", True),
    ("ossutil.server.storage.postgres", "ossutil.server.storage.sqlite", True),
    ("ossutil.server.storage.postgres", "ossutil.server.storage.rows", False),
    ("ossutil.server.storage.postgres_blobs", "ossutil.server.storage.postgres", False),
    ("ossutil.server.storage.files", "psycopg", True),
    ("ossutil.server.objects.service", "ossutil.server.storage.files", True),
    ("ossutil.server.objects.service", "ossutil.server.storage.blobs", False),
    ("ossutil.server.http.pipeline", "aiohttp", False),
])
def test_rules(module: str, imported: str, wrong: bool) -> None:
    assert bool(_reasons(module, imported)) is wrong
