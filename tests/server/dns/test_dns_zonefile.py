"""ZoneFileTxtLookup: answers from a master file, re-read when it changes."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from ossutil.server.dns.lookup import MAX_CNAME_HOPS, TxtAnswer, TxtLookup
from ossutil.server.dns.zonefile import ZoneFileTxtLookup

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
