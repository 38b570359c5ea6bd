"""ZoneFileTxtLookup: answers from a master file, re-read when it changes."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import dns.exception
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ossutil.server.dns.lookup import MAX_CNAME_HOPS, TxtAnswer, TxtLookup
from ossutil.server.dns.zonefile import PARSES_PER_READ, ZoneFileTxtLookup, _LineCache, _parse

NAME = "_dnsauth.www.example.com"

ZONE = """\
$TTL 300
; absolute names, before any $ORIGIN
_dnsauth.www.example.com.   IN TXT "0123456789abcdef0123456789abcdef"
_dnsauth.multi.example.com. IN TXT "abc" "def"
_dnsauth.many.example.com.  IN TXT "one"
_dnsauth.many.example.com.  IN TXT "two"
alias.example.com.          IN CNAME hop.example.net.
hop.example.net.            IN CNAME _dnsauth.www.example.com.
dangling.example.com.       IN CNAME nowhere.example.net.
loop-a.example.com.         IN CNAME loop-b.example.com.
loop-b.example.com.         IN CNAME loop-a.example.com.
host.example.com.           IN A 192.0.2.1

$ORIGIN example.org.
_dnsauth                    IN TXT tok-org
_dnsauth.img                IN TXT "tok img"
"""


def lookup_txt(lookup: TxtLookup, name: str) -> TxtAnswer:
    return asyncio.run(lookup.lookup_txt(name))


def write(path: Path, text: str) -> None:
    """Write ``text`` and make sure the stamp changes even on a coarse-mtime file system."""
    before = path.stat().st_mtime_ns if path.exists() else 0
    path.write_text(text, encoding="utf-8")
    after = path.stat().st_mtime_ns
    if after <= before:
        os.utime(path, ns=(before + 1_000_000, before + 1_000_000))


@pytest.fixture
def zone_path(tmp_path: Path) -> Path:
    path = tmp_path / "dnsauth.zone"
    write(path, ZONE)
    return path


@pytest.fixture
def zone(zone_path: Path) -> ZoneFileTxtLookup:
    return ZoneFileTxtLookup(zone_path)


@pytest.mark.parametrize(
    ("name", "values"),
    [
        (NAME, ("0123456789abcdef0123456789abcdef",)),
        (NAME + ".", ("0123456789abcdef0123456789abcdef",)),
        (NAME.upper(), ("0123456789abcdef0123456789abcdef",)),
        ("_dnsauth.multi.example.com", ("abcdef",)),
        ("_dnsauth.example.org", ("tok-org",)),
        ("_dnsauth.img.example.org", ("tok img",)),
    ],
)
def test_zone_file_lookup_finds_txt(zone: ZoneFileTxtLookup, name: str,
                                    values: tuple[str, ...]) -> None:
    assert lookup_txt(zone, name) == TxtAnswer(name.rstrip("."), "found", values)


def test_zone_file_lookup_returns_one_value_per_record(zone: ZoneFileTxtLookup) -> None:
    answer = lookup_txt(zone, "_dnsauth.many.example.com")
    assert answer.outcome == "found"
    assert sorted(answer.values) == ["one", "two"]


def test_zone_file_lookup_reports_nxdomain_for_a_missing_name(zone: ZoneFileTxtLookup) -> None:
    assert lookup_txt(zone, "_dnsauth.nope.example.com") == TxtAnswer(
        "_dnsauth.nope.example.com", "nxdomain"
    )


def test_zone_file_lookup_reports_nodata_for_a_name_without_txt(
    zone: ZoneFileTxtLookup,
) -> None:
    assert lookup_txt(zone, "host.example.com") == TxtAnswer("host.example.com", "nodata")


def test_zone_file_lookup_reports_nodata_for_an_empty_non_terminal(
    zone: ZoneFileTxtLookup,
) -> None:
    assert lookup_txt(zone, "www.example.com").outcome == "nodata"


def test_zone_file_lookup_follows_cnames_inside_the_file(zone: ZoneFileTxtLookup) -> None:
    assert lookup_txt(zone, "alias.example.com") == TxtAnswer(
        "alias.example.com", "found", ("0123456789abcdef0123456789abcdef",)
    )


def test_zone_file_lookup_through_a_dangling_cname_is_nxdomain(
    zone: ZoneFileTxtLookup,
) -> None:
    assert lookup_txt(zone, "dangling.example.com").outcome == "nxdomain"


def test_zone_file_lookup_ends_a_cname_loop_as_failure(zone: ZoneFileTxtLookup) -> None:
    assert lookup_txt(zone, "loop-a.example.com") == TxtAnswer(
        "loop-a.example.com",
        "failure",
        detail="CNAME loop: loop-a.example.com -> loop-b.example.com -> loop-a.example.com",
    )


def test_zone_file_lookup_gives_up_after_the_maximum_number_of_cname_hops(
    zone_path: Path,
) -> None:
    lines = ["$TTL 60"]
    lines += [f"h{i}.example.com. IN CNAME h{i + 1}.example.com." for i in range(MAX_CNAME_HOPS)]
    lines.append(f"h{MAX_CNAME_HOPS}.example.com. IN TXT tok")
    write(zone_path, "\n".join(lines) + "\n")
    zone = ZoneFileTxtLookup(zone_path)
    assert lookup_txt(zone, "h0.example.com").values == ("tok",)  # exactly the maximum
    write(zone_path, "\n".join([*lines, "before.example.com. IN CNAME h0.example.com."]) + "\n")
    answer = lookup_txt(zone, "before.example.com")
    assert answer.outcome == "failure"
    assert answer.detail.startswith(f"CNAME chain longer than {MAX_CNAME_HOPS} hops: ")


def test_zone_file_lookup_sees_an_edit_at_once(zone_path: Path,
                                               zone: ZoneFileTxtLookup) -> None:
    new_name = "_dnsauth.new.example.com"
    assert lookup_txt(zone, new_name).outcome == "nxdomain"
    write(zone_path, ZONE + f"{new_name}. IN TXT fresh\n")
    assert lookup_txt(zone, new_name).values == ("fresh",)
    write(zone_path, ZONE.replace("tok-org", "tok-changed"))
    assert lookup_txt(zone, "_dnsauth.example.org").values == ("tok-changed",)
    assert lookup_txt(zone, new_name).outcome == "nxdomain"


def test_zone_file_lookup_sees_an_edit_of_the_same_size(zone_path: Path,
                                                        zone: ZoneFileTxtLookup) -> None:
    assert lookup_txt(zone, "_dnsauth.example.org").values == ("tok-org",)
    write(zone_path, ZONE.replace("tok-org", "tok-new"))
    assert lookup_txt(zone, "_dnsauth.example.org").values == ("tok-new",)


def test_zone_file_lookup_reports_a_broken_file_and_ignores_old_contents(
    zone_path: Path, zone: ZoneFileTxtLookup
) -> None:
    assert lookup_txt(zone, NAME).outcome == "found"
    write(zone_path, ZONE + '_dnsauth.bad.example.com. IN TXT "unterminated\n')
    answer = lookup_txt(zone, NAME)
    assert answer.outcome == "failure"
    assert answer.values == ()
    assert answer.detail.startswith(f"cannot parse zone file: {zone_path}:")
    assert "quoted string" in answer.detail
    write(zone_path, ZONE)
    assert lookup_txt(zone, NAME).outcome == "found"


def test_zone_file_lookup_reports_a_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "missing.zone"
    zone = ZoneFileTxtLookup(missing)
    answer = lookup_txt(zone, NAME)
    assert answer.outcome == "failure"
    assert answer.detail.startswith(f"cannot read zone file {missing}: ")
    write(missing, ZONE)
    assert lookup_txt(zone, NAME).outcome == "found"


def test_zone_file_lookup_reports_a_file_that_is_not_utf8(zone_path: Path) -> None:
    zone_path.write_bytes(b'$TTL 60\nx.example.com. IN TXT "\xff"\n')
    answer = lookup_txt(ZoneFileTxtLookup(zone_path), "x.example.com")
    assert answer.outcome == "failure"
    assert answer.detail.startswith(f"zone file {zone_path} is not UTF-8: ")


# --- incremental re-reads: the same zone, or the same error, as dnspython's reader ----------

_LINES = [
    '_dnsauth.a.example.com. 60 IN TXT "tok-a"',
    '_dnsauth.a.example.com. 30 IN TXT "tok-a2"',
    '_dnsauth.a.example.com. 60 IN TXT "tok-a"',
    '_dnsauth.b.example.com. 60 TXT "tok b" ; a comment',
    'b.example.com. 60 IN CNAME _dnsauth.a.example.com.',
    'b.example.com. 60 IN CNAME c.example.com.',
    'b.example.com. 60 IN TXT "beside a CNAME"',
    'c.example.com. IN 300 A 192.0.2.1',
    'com. 60 IN TXT "a top-level name"',
    'notime.example.com. IN TXT "no TTL: the line before gives it"',
    '  60 IN TXT "owner inherited"',
    '$TTL 120',
    '$ORIGIN example.org.',
    'rel 60 IN TXT "relative to the origin"',
    '@ 60 IN TXT "at the origin"',
    'multi.example.com. 60 IN TXT ( "one"',
    '  "two" )',
    'bad.example.com. 60 IN TXT',
    'quoted.example.com. 60 IN TXT "semi ; colon" "paren ( inside"',
    '; only a comment',
    '',
    '\t',
    'crlf.example.com. 60 IN TXT "windows"\r',
]


def _full(text: str) -> tuple[str, object]:
    try:
        return "zone", _parse(text)
    except (dns.exception.DNSException, ValueError) as exc:
        return "error", type(exc)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.lists(st.sampled_from(_LINES), max_size=8), min_size=1, max_size=4),
       st.sampled_from([PARSES_PER_READ, 1, 3]))
def test_an_incremental_re_read_means_what_the_full_reader_reads(
        files: list[list[str]], parses_per_read: int) -> None:
    """One cache through a sequence of edits: each file gives the full reader's zone (or its
    error class), whatever the cap on new lines per read."""
    cache = _LineCache(parses_per_read)
    for lines in files:
        text = "\n".join(lines) + "\n"
        expected = _full(text)
        try:
            zone = cache.zone(text)
        except (dns.exception.DNSException, ValueError) as exc:
            assert expected == ("error", type(exc))
            continue
        if zone is None:
            continue  # the full reader answers this file
        assert expected[0] == "zone" and zone == expected[1], text


def test_a_file_of_standalone_records_is_read_line_by_line(zone_path: Path) -> None:
    """The publishing pattern (the whole file rewritten with one record more) takes the
    incremental path, and a kept line is not parsed again."""
    cache = _LineCache()
    first = '_dnsauth.a.example.com. 60 IN TXT "tok-a"\n'
    assert cache.zone(first) is not None
    kept = cache._records[first.rstrip("\n")]
    second = first + '_dnsauth.b.example.com. 60 IN TXT "tok-b"\n'
    zone = cache.zone(second)
    assert zone is not None and zone == _parse(second)
    assert cache._records[first.rstrip("\n")] is kept
    assert cache.zone("$TTL 60\n" + second) is None


def test_a_read_with_more_new_lines_than_the_cap_is_the_full_readers() -> None:
    """A first read of a large file: the full reader answers while the cache keeps
    ``parses_per_read`` more lines a read; once all are kept the file is incremental, and lines
    kept before an edit that adds lines above them stay kept."""
    lines = [f'_dnsauth.d{i}.example.com. 60 IN TXT "tok-{i}"' for i in range(5)]
    text = "\n".join(lines) + "\n"
    cache = _LineCache(parses_per_read=2)
    assert cache.zone(text) is None
    assert set(cache._records) == set(lines[:2])
    assert cache.zone(text) is None
    assert set(cache._records) == set(lines[:4])
    zone = cache.zone(text)  # the last line and the empty one after the final newline
    assert zone is not None and zone == _parse(text)
    kept = cache._records[lines[4]]
    above = [f'_dnsauth.n{i}.example.com. 60 IN TXT "new-{i}"' for i in range(3)]
    edited = "\n".join(above + lines) + "\n"
    assert cache.zone(edited) is None  # three new lines, two parsed
    assert cache._records[lines[4]] is kept and set(lines) <= set(cache._records)
    zone = cache.zone(edited)
    assert zone is not None and zone == _parse(edited)


def test_zone_file_lookup_after_an_incremental_edit(zone_path: Path,
                                                     tmp_path: Path) -> None:
    write(zone_path, '_dnsauth.a.example.com. 60 IN TXT "tok-a"\n')
    lookup = ZoneFileTxtLookup(zone_path)
    assert lookup_txt(lookup, "_dnsauth.a.example.com") == TxtAnswer(
        "_dnsauth.a.example.com", "found", ("tok-a",))
    write(zone_path, '_dnsauth.a.example.com. 60 IN TXT "tok-a"\n'
                     '_dnsauth.b.example.com. 60 IN TXT "tok-b"\n'
                     'c.example.com. 60 IN CNAME _dnsauth.b.example.com.\n')
    assert lookup_txt(lookup, "c.example.com") == TxtAnswer("c.example.com", "found", ("tok-b",))
    assert lookup_txt(lookup, "example.com") == TxtAnswer("example.com", "nodata")
    assert lookup_txt(lookup, "_dnsauth.z.example.com") == TxtAnswer(
        "_dnsauth.z.example.com", "nxdomain")
    write(zone_path, 'c.example.com. 60 IN CNAME x.example.com.\n'
                     'c.example.com. 60 IN TXT "beside"\n')
    answer = lookup_txt(lookup, "c.example.com")
    assert answer.outcome == "failure" and "CNAME" in answer.detail, answer
