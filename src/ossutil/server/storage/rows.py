"""Row codecs both stores share: the ``user_meta`` JSON text, CRC columns, key ranges.

Pure functions over records and strings (no SQL connection, no crypto, no domain rules), so the
two stores write byte-identical column values and neither store module imports the other.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from ossutil.server.models import Bucket, BucketAcl, ObjectMeta, ObjectType

Pairs = tuple[tuple[str, str], ...]


def routes_sql(mark: str) -> str:
    """The start-up snapshot's query (``mark``: the driver's placeholder, for the status):
    the six ``models.Route`` columns and nothing else, unordered (a dict needs no order, and
    ORDER BY would cost a sort or an index walk)."""
    # the attached certificate wins; else the automatic (ACME) one, when issued
    return ("SELECT b.domain, b.bucket, COALESCE(c.cert_id, a.cert_id), "
            "COALESCE(c.fingerprint, a.fingerprint), COALESCE(c.chain_pem, a.chain_pem), "
            "COALESCE(c.key_sealed, a.key_sealed) "
            "FROM bindings b LEFT JOIN certificates c ON c.cert_id = b.cert_id "
            "LEFT JOIN acme_certificates a ON a.domain = b.domain "
            f"WHERE b.status = {mark}")


def health_claim_sql(mark: str) -> str:
    """``claim_health_round``'s one statement (``mark``: the driver's placeholder; parameters
    now, stale bound, due bound): a round may start when none runs (never started, finished
    after its start, or started before the stale bound) and one is due (never finished,
    finished before the due bound, or asked for after the last start). Racing processes
    serialise on the one row."""
    return (f"UPDATE health_rounds SET started = {mark} WHERE id = 1 "
            "AND (started IS NULL OR (finished IS NOT NULL AND finished >= started) "
            f"OR started < {mark}) "
            f"AND (finished IS NULL OR finished < {mark} "
            "OR (requested IS NOT NULL AND requested > started))")


def epoch_utc(seconds: float) -> datetime:
    """An ``acme_*`` time column (epoch seconds, both stores) as a UTC datetime."""
    return datetime.fromtimestamp(seconds, timezone.utc)


def opt_epoch_utc(seconds: float | None) -> datetime | None:
    return None if seconds is None else epoch_utc(seconds)


def bucket_row(row: Any, created_at: datetime) -> Bucket:
    """A ``buckets`` row (either driver's mapping row; ``created_at``: its column as the store
    reads times) as a Bucket, configuration documents included."""
    return Bucket(row["name"], row["owner_id"], row["region"], BucketAcl(row["acl"]),
                  row["storage_class"], created_at, website=row["website"],
                  cors=row["cors"], referer=row["referer"])


def headers_json(user_meta: Pairs, headers: Pairs,
                 object_type: ObjectType = ObjectType.NORMAL) -> str:
    """The ``user_meta`` column's JSON (both stores write the same text):
    ``{"meta": [[name, value], ...], "headers": [[name, value], ...]}`` plus ``"type"`` for an
    object that is not Normal."""
    stored: dict[str, Any] = {"meta": [list(p) for p in user_meta],
                              "headers": [list(p) for p in headers]}
    if object_type is not ObjectType.NORMAL:  # absent for Normal: older rows stay byte-identical
        stored["type"] = object_type.value
    return json.dumps(stored, separators=(",", ":"))


def object_json(meta: ObjectMeta) -> str:
    return headers_json(meta.user_meta, meta.headers, meta.object_type)


def stored_headers(text: str) -> tuple[Pairs, Pairs]:
    """(x-oss-meta-* pairs, content header pairs) from the ``user_meta`` column's JSON."""
    meta, headers, _ = stored_object_headers(text)
    return meta, headers


def stored_object_headers(text: str) -> tuple[Pairs, Pairs, ObjectType]:
    """(x-oss-meta-* pairs, content header pairs, object type) from ``objects.user_meta``."""
    stored = json.loads(text) if text else {}
    return (tuple((k, v) for k, v in stored.get("meta", ())),
            tuple((k, v) for k, v in stored.get("headers", ())),
            ObjectType(stored.get("type", ObjectType.NORMAL.value)))


def crc_from_text(text: str | None) -> int | None:
    """x-oss-hash-crc64ecma from its column: unsigned decimal text (SQLite's INTEGER is signed
    64-bit), NULL on rows written before CRCs were kept."""
    return int(text) if text else None


def crc_text(value: int | None) -> str | None:
    return None if value is None else str(value)


def key_range(prefix: str, mark: str) -> tuple[str, list[str]]:
    """SQL (`` AND key >= ? AND key < ?``, ``mark`` the driver's placeholder) and arguments
    that bound ``key`` to the strings starting with ``prefix``: a range on the primary key
    index instead of a LIKE scan. Empty for no prefix."""
    if not prefix:
        return "", []
    upper = _successor(prefix)
    if upper is None:
        return f" AND key >= {mark}", [prefix]
    return f" AND key >= {mark} AND key < {mark}", [prefix, upper]


def _successor(prefix: str) -> str | None:
    """The smallest string greater than every string that starts with ``prefix``, or None."""
    chars = list(prefix)
    while chars:
        code = ord(chars.pop()) + 1
        if code == 0xD800:  # surrogates cannot be stored; the next scalar value is U+E000
            code = 0xE000
        if code <= 0x10FFFF:
            return "".join(chars) + chr(code)
    return None
