"""WebsiteConfiguration (PutBucketWebsite's body, GetBucketWebsite's answer) <-> dataclass.

Every field is optional (None: the element is absent), so a document decodes to exactly what it
says and encodes back to the same elements; the server fills OSS's defaults before it stores a
configuration (``SupportSubDir`` false, ``Type`` 0, ``HttpStatus`` 404), so what GetBucketWebsite
answers is complete. Decoding checks shape only: a number that is not one, a boolean that is
not ``true``/``false``, a wrong root or a repeated singleton are MalformedXML; whether a value
is one OSS accepts (``Type`` 0..2, ``HttpStatus`` 200/404, a rule's ``RedirectType``) is the
server's rule, not the codec's.

Routing rules carry the elements of OSS's ``External``/``Internal`` redirects and the three
conditions; any other element of ``Redirect`` (the ``Mirror*`` family, ``LuaConfig`` ...) is
kept by name in ``RoutingRuleRedirect.other`` so the server can refuse it (501) rather than
silently drop it. Element order on the way out is OSS's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ossutil.wire import codec, xml
from ossutil.wire.cname_xml import parse_bool

if TYPE_CHECKING:
    from xml.etree.ElementTree import Element

ROOT = "WebsiteConfiguration"


@dataclass(frozen=True)
class IndexDocument:
    """``<IndexDocument>``: the page served for ``/`` and (with ``SupportSubDir``) ``dir/``."""

    suffix: str | None = None
    support_sub_dir: bool | None = None
    type: int | None = None


@dataclass(frozen=True)
class ErrorDocument:
    """``<ErrorDocument>``: the page served, with ``HttpStatus``, for a missing key."""

    key: str | None = None
    http_status: int | None = None


@dataclass(frozen=True)
class IncludeHeader:
    """``<Condition><IncludeHeader>``: the request has header ``key`` equal to ``equals``."""

    key: str
    equals: str | None = None


@dataclass(frozen=True)
class RoutingRuleCondition:
    key_prefix_equals: str | None = None
    key_suffix_equals: str | None = None
    http_error_code_returned_equals: int | None = None
    include_headers: tuple[IncludeHeader, ...] = ()


@dataclass(frozen=True)
class RoutingRuleRedirect:
    redirect_type: str | None = None
    pass_query_string: bool | None = None
    replace_key_with: str | None = None
    replace_key_prefix_with: str | None = None
    enable_replace_prefix: bool | None = None
    protocol: str | None = None
    host_name: str | None = None
    http_redirect_code: int | None = None
    other: tuple[str, ...] = ()  # names of elements not modelled here (Mirror*, ...)


@dataclass(frozen=True)
class RoutingRule:
    rule_number: int | None = None
    condition: RoutingRuleCondition | None = None
    redirect: RoutingRuleRedirect | None = None


@dataclass(frozen=True)
class WebsiteConfiguration:
    index_document: IndexDocument | None = None
    error_document: ErrorDocument | None = None
    routing_rules: tuple[RoutingRule, ...] | None = None  # None: no <RoutingRules> element


def _optional_leaves(pairs: tuple[tuple[str, object], ...]) -> list[xml.Node]:
    nodes: list[xml.Node] = []
    for tag, value in pairs:
        if value is None:
            continue
        if isinstance(value, bool):
            nodes.append((tag, codec.boolean(value)))
        else:
            nodes.append((tag, str(value)))
    return nodes


def _rule_node(rule: RoutingRule) -> xml.Node:
    parts: list[xml.Node] = _optional_leaves((("RuleNumber", rule.rule_number),))
    condition = rule.condition
    if condition is not None:
        cond: list[xml.Node] = _optional_leaves((
            ("KeyPrefixEquals", condition.key_prefix_equals),
            ("KeySuffixEquals", condition.key_suffix_equals),
            ("HttpErrorCodeReturnedEquals", condition.http_error_code_returned_equals),
        ))
        for header in condition.include_headers:
            cond.append(("IncludeHeader", [("Key", header.key)]
                         + _optional_leaves((("Equals", header.equals),))))
        parts.append(("Condition", cond))
    redirect = rule.redirect
    if redirect is not None:
        parts.append(("Redirect", _optional_leaves((
            ("RedirectType", redirect.redirect_type),
            ("Protocol", redirect.protocol),
            ("HostName", redirect.host_name),
            ("PassQueryString", redirect.pass_query_string),
            ("ReplaceKeyWith", redirect.replace_key_with),
            ("ReplaceKeyPrefixWith", redirect.replace_key_prefix_with),
            ("EnableReplacePrefix", redirect.enable_replace_prefix),
            ("HttpRedirectCode", redirect.http_redirect_code),
        ))))
    return ("RoutingRule", parts)


def website_node(config: WebsiteConfiguration) -> xml.Node:
    children: list[xml.Node] = []
    index = config.index_document
    if index is not None:
        children.append(("IndexDocument", _optional_leaves((
            ("Suffix", index.suffix), ("SupportSubDir", index.support_sub_dir),
            ("Type", index.type)))))
    error = config.error_document
    if error is not None:
        children.append(("ErrorDocument", _optional_leaves((
            ("Key", error.key), ("HttpStatus", error.http_status)))))
    if config.routing_rules is not None:
        children.append(("RoutingRules", [_rule_node(rule) for rule in config.routing_rules]))
    return (ROOT, children)


def encode_website_configuration(config: WebsiteConfiguration, *,
                                 response: bool = False) -> bytes:
    """The request body (compact, as the SDKs send it) or, with ``response``, GetBucketWebsite's
    answer in OSS's layout (declaration, two-space indent)."""
    node = website_node(config)
    return xml.emit(node) if response else xml.emit_compact(node)


# --- decoding -------------------------------------------------------------------------------


def single(parent: Element, name: str) -> Element | None:
    """The child ``name``, None when absent; given twice is MalformedXML (the referer codec
    shares these readers)."""
    found = xml.children(parent, name)
    if len(found) > 1:
        raise codec.malformed(f"{name} given more than once")
    return found[0] if found else None


def single_text(parent: Element, name: str) -> str | None:
    element = single(parent, name)
    if element is None:
        return None
    if len(element):
        raise codec.malformed(f"{name} must hold text")
    return element.text or ""


def _int(parent: Element, name: str) -> int | None:
    value = single_text(parent, name)
    if value is None:
        return None
    stripped = value.strip()
    if not stripped or not stripped.isascii() or not stripped.lstrip("-").isdigit() \
            or len(stripped) > 10:
        raise codec.malformed(f"{name} must be an integer")
    return int(stripped)


def single_flag(parent: Element, name: str) -> bool | None:
    value = single_text(parent, name)
    if value is None:
        return None
    return parse_bool(value, name)


_REDIRECT_KNOWN = frozenset({
    "RedirectType", "PassQueryString", "ReplaceKeyWith", "ReplaceKeyPrefixWith",
    "EnableReplacePrefix", "Protocol", "HostName", "HttpRedirectCode",
})


def _decode_rule(element: Element) -> RoutingRule:
    condition = None
    cond_element = single(element, "Condition")
    if cond_element is not None:
        headers = []
        for header in xml.children(cond_element, "IncludeHeader"):
            key = single_text(header, "Key")
            if key is None:
                raise codec.malformed("IncludeHeader needs a Key")
            headers.append(IncludeHeader(key=key, equals=single_text(header, "Equals")))
        condition = RoutingRuleCondition(
            key_prefix_equals=single_text(cond_element, "KeyPrefixEquals"),
            key_suffix_equals=single_text(cond_element, "KeySuffixEquals"),
            http_error_code_returned_equals=_int(cond_element, "HttpErrorCodeReturnedEquals"),
            include_headers=tuple(headers),
        )
    redirect = None
    redirect_element = single(element, "Redirect")
    if redirect_element is not None:
        other = tuple(dict.fromkeys(
            xml.local_name(child.tag) for child in redirect_element
            if xml.local_name(child.tag) not in _REDIRECT_KNOWN))
        redirect = RoutingRuleRedirect(
            redirect_type=single_text(redirect_element, "RedirectType"),
            pass_query_string=single_flag(redirect_element, "PassQueryString"),
            replace_key_with=single_text(redirect_element, "ReplaceKeyWith"),
            replace_key_prefix_with=single_text(redirect_element, "ReplaceKeyPrefixWith"),
            enable_replace_prefix=single_flag(redirect_element, "EnableReplacePrefix"),
            protocol=single_text(redirect_element, "Protocol"),
            host_name=single_text(redirect_element, "HostName"),
            http_redirect_code=_int(redirect_element, "HttpRedirectCode"),
            other=other,
        )
    return RoutingRule(rule_number=_int(element, "RuleNumber"), condition=condition,
                       redirect=redirect)


def decode_website_configuration(body: bytes) -> WebsiteConfiguration:
    """Parse a WebsiteConfiguration (request or response); shape errors are MalformedXML."""
    root = codec.root(body, ROOT)
    index = None
    index_element = single(root, "IndexDocument")
    if index_element is not None:
        index = IndexDocument(suffix=single_text(index_element, "Suffix"),
                              support_sub_dir=single_flag(index_element, "SupportSubDir"),
                              type=_int(index_element, "Type"))
    error = None
    error_element = single(root, "ErrorDocument")
    if error_element is not None:
        error = ErrorDocument(key=single_text(error_element, "Key"),
                              http_status=_int(error_element, "HttpStatus"))
    rules = None
    rules_element = single(root, "RoutingRules")
    if rules_element is not None:
        rules = tuple(_decode_rule(rule) for rule in xml.children(rules_element, "RoutingRule"))
    return WebsiteConfiguration(index_document=index, error_document=error,
                                routing_rules=rules)
