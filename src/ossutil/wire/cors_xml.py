"""CORSConfiguration (PutBucketCors's body, GetBucketCors's answer) <-> dataclass.

A rule's lists keep their order and duplicates; ``max_age_seconds`` and ``response_vary`` are
None when absent. Decoding checks shape only (a wrong root, a non-integer ``MaxAgeSeconds``, a
boolean that is not ``true``/``false``, a repeated ``MaxAgeSeconds``/``ResponseVary``:
MalformedXML); which values OSS accepts (methods, wildcards, rule count) is the server's rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ossutil.wire import codec, xml
from ossutil.wire.cname_xml import parse_bool

if TYPE_CHECKING:
    from xml.etree.ElementTree import Element

ROOT = "CORSConfiguration"


@dataclass(frozen=True)
class CorsRule:
    """One ``<CORSRule>``."""

    allowed_origins: tuple[str, ...] = ()
    allowed_methods: tuple[str, ...] = ()
    allowed_headers: tuple[str, ...] = ()
    expose_headers: tuple[str, ...] = ()
    max_age_seconds: int | None = None


@dataclass(frozen=True)
class CorsConfiguration:
    rules: tuple[CorsRule, ...] = ()
    response_vary: bool | None = None


def cors_node(config: CorsConfiguration) -> xml.Node:
    children: list[xml.Node] = []
    for rule in config.rules:
        parts: list[xml.Node] = []
        parts += [("AllowedOrigin", value) for value in rule.allowed_origins]
        parts += [("AllowedMethod", value) for value in rule.allowed_methods]
        parts += [("AllowedHeader", value) for value in rule.allowed_headers]
        parts += [("ExposeHeader", value) for value in rule.expose_headers]
        if rule.max_age_seconds is not None:
            parts.append(("MaxAgeSeconds", str(rule.max_age_seconds)))
        children.append(("CORSRule", parts))
    if config.response_vary is not None:
        children.append(("ResponseVary", "true" if config.response_vary else "false"))
    return (ROOT, children)


def encode_cors_configuration(config: CorsConfiguration, *, response: bool = False) -> bytes:
    """The request body (compact) or, with ``response``, GetBucketCors's answer (OSS layout)."""
    node = cors_node(config)
    return xml.emit(node) if response else xml.emit_compact(node)


def _texts(parent: Element, name: str) -> tuple[str, ...]:
    values = []
    for element in xml.children(parent, name):
        if len(element):
            raise codec.malformed(f"{name} must hold text")
        values.append(element.text or "")
    return tuple(values)


def _single_text(parent: Element, name: str) -> str | None:
    values = _texts(parent, name)
    if len(values) > 1:
        raise codec.malformed(f"{name} given more than once")
    return values[0] if values else None


def _decode_rule(element: Element) -> CorsRule:
    max_age = _single_text(element, "MaxAgeSeconds")
    seconds = None
    if max_age is not None:
        stripped = max_age.strip()
        if not stripped.isascii() or not stripped.isdigit() or len(stripped) > 10:
            raise codec.malformed("MaxAgeSeconds must be a non-negative integer")
        seconds = int(stripped)
    return CorsRule(
        allowed_origins=_texts(element, "AllowedOrigin"),
        allowed_methods=_texts(element, "AllowedMethod"),
        allowed_headers=_texts(element, "AllowedHeader"),
        expose_headers=_texts(element, "ExposeHeader"),
        max_age_seconds=seconds,
    )


def decode_cors_configuration(body: bytes) -> CorsConfiguration:
    """Parse a CORSConfiguration (request or response); shape errors are MalformedXML."""
    root = codec.root(body, ROOT)
    vary = _single_text(root, "ResponseVary")
    return CorsConfiguration(
        rules=tuple(_decode_rule(rule) for rule in xml.children(root, "CORSRule")),
        response_vary=None if vary is None else parse_bool(vary, "ResponseVary"),
    )
