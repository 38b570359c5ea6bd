"""Static website hosting: the rules of PutBucketWebsite and which key a site request reads.

Pure domain logic (the handler reads the objects). A site request is an anonymous GET or HEAD
of a bucket with a website configuration (OSS serves signed requests as the API: a listing, an
object, NoSuchKey). OSS's rules, as its documentation gives them:

* ``/`` reads the index document (``IndexDocument/Suffix``);
* ``dir/`` reads ``dir/<Suffix>`` with ``SupportSubDir``, else the root index document;
* a key that does not end in ``/`` and does not exist, with ``SupportSubDir``, by ``Type``:
  0: when ``key/<Suffix>`` exists, 302 to ``/key/`` (URL-encoded), else on to the error
  document; 1: straight on to the error document; 2: ``key/<Suffix>`` is served when it
  exists, else the error document;
* the error document (``ErrorDocument/Key``) is served with ``HttpStatus`` (404 unless 200
  was configured); without one, or when it does not exist either, 404 NoSuchKey.

Routing rules (``RoutingRules``, up to 20, applied in ``RuleNumber`` order, the first whose
``Condition`` holds wins): conditions ``KeyPrefixEquals``, ``KeySuffixEquals``,
``IncludeHeader`` (``Equals``) and ``HttpErrorCodeReturnedEquals`` (404: the rule is looked
at only when the key is missing, before the ``Type`` rule and the error document, as OSS
orders them; a rule without it is looked at before the key is read). Actions: ``External``
(a 301/302/307 redirect, ``Protocol`` and ``HostName`` defaulting to the request's) and
``Internal`` (another key of the bucket is served in place), the new key being
``ReplaceKeyWith`` (``${key}`` stands for the requested key) or, with ``EnableReplacePrefix``
or ``ReplaceKeyPrefixWith``, the request's key with its ``KeyPrefixEquals`` prefix replaced;
``PassQueryString`` keeps the request's query on an External redirect. ``Mirror`` and
``AliCDN`` redirects (origin fetches, CDN) and any element this server does not model (the
``Mirror*`` family, ``LuaConfig`` ...) are 501 NotImplemented, nothing stored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from ossutil.wire.errors import OssError
from ossutil.wire.website_xml import (
    ErrorDocument,
    IndexDocument,
    RoutingRule,
    RoutingRuleRedirect,
    WebsiteConfiguration,
    decode_website_configuration,
)

INDEX_TYPES = (0, 1, 2)
ERROR_STATUSES = (200, 404)
MAX_RULES = 20  # OSS: at most 20 routing rules
_HOST = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?(?::[0-9]{1,5})?")
MAX_INCLUDE_HEADERS = 10
REDIRECT_CODES = (301, 302, 307)
REDIRECT_TYPES = ("External", "Internal")
UNIMPLEMENTED_TYPES = ("Mirror", "AliCDN")


def _invalid(message: str, name: str, value: object = "") -> OssError:
    return OssError.from_code("InvalidArgument", message, ArgumentName=name,
                              ArgumentValue=str(value)[:256])


def normalize(config: WebsiteConfiguration) -> WebsiteConfiguration:
    """``config`` as stored (OSS's defaults filled in: SupportSubDir false, Type 0,
    HttpStatus 404), or the error: nothing configured or an ErrorDocument without an
    IndexDocument: MalformedXML; an empty Suffix or Key, a Type other than 0/1/2, an
    HttpStatus other than 200/404: InvalidArgument; routing rules: 501."""
    index, error = config.index_document, config.error_document
    rules = _check_rules(config.routing_rules or ())
    if index is None:
        raise OssError.from_code("MalformedXML")
    if not index.suffix or index.suffix.startswith("/"):
        raise _invalid("IndexDocument Suffix must be a key name, not empty and not starting "
                       "with /.", "Suffix", index.suffix or "")
    kind = 0 if index.type is None else index.type
    if kind not in INDEX_TYPES:
        raise _invalid("IndexDocument Type must be 0, 1 or 2.", "Type", kind)
    normalized_error = None
    if error is not None:
        if not error.key:
            raise _invalid("ErrorDocument Key must not be empty.", "Key")
        status = 404 if error.http_status is None else error.http_status
        if status not in ERROR_STATUSES:
            raise _invalid("ErrorDocument HttpStatus must be 200 or 404.", "HttpStatus",
                           status)
        normalized_error = ErrorDocument(key=error.key, http_status=status)
    return WebsiteConfiguration(
        index_document=IndexDocument(suffix=index.suffix,
                                     support_sub_dir=bool(index.support_sub_dir), type=kind),
        error_document=normalized_error, routing_rules=rules or None)


def _check_rules(rules: tuple[RoutingRule, ...]) -> tuple[RoutingRule, ...]:
    """The rules in ``RuleNumber`` order, or the error: a missing or repeated RuleNumber, a
    rule without Condition or Redirect, an unknown RedirectType, a redirect code that is not
    301/302/307, a Protocol that is not http/https, ReplaceKeyWith with
    ReplaceKeyPrefixWith, too many rules or headers: InvalidArgument; Mirror, AliCDN and
    unmodelled elements: 501."""
    if len(rules) > MAX_RULES:
        raise _invalid(f"At most {MAX_RULES} routing rules may be configured.", "RoutingRule",
                       len(rules))
    numbers: set[int] = set()
    for rule in rules:
        number = rule.rule_number
        if number is None or number <= 0 or number in numbers:
            raise _invalid("Each RoutingRule needs its own positive RuleNumber.", "RuleNumber",
                           "" if number is None else number)
        numbers.add(number)
        if rule.condition is None or rule.redirect is None:
            raise _invalid("A RoutingRule needs a Condition and a Redirect.", "RoutingRule",
                           number)
        condition, redirect = rule.condition, rule.redirect
        _check_redirect(redirect, number)
        if len(condition.include_headers) > MAX_INCLUDE_HEADERS:
            raise _invalid(f"At most {MAX_INCLUDE_HEADERS} IncludeHeader conditions per rule.",
                           "IncludeHeader", len(condition.include_headers))
        code = condition.http_error_code_returned_equals
        if code is not None and code != 404:
            raise _invalid("HttpErrorCodeReturnedEquals can only be 404 here (the one error "
                           "a site read returns).", "HttpErrorCodeReturnedEquals", code)
    return tuple(sorted(rules, key=lambda r: r.rule_number or 0))


def _check_redirect(redirect: RoutingRuleRedirect, number: int) -> None:
    kind = redirect.redirect_type or ""
    if kind in UNIMPLEMENTED_TYPES or redirect.other:
        what = f"RedirectType {kind}" if kind in UNIMPLEMENTED_TYPES else \
            f"the element {redirect.other[0]}"
        raise OssError.from_code("NotImplemented", f"Website routing rules with {what} "
                                 "are not implemented by this server.")
    if kind not in REDIRECT_TYPES:
        raise _invalid("RedirectType must be External, Internal, Mirror or AliCDN.",
                       "RedirectType", kind)
    if redirect.replace_key_with is not None and redirect.replace_key_prefix_with is not None:
        raise _invalid("Give ReplaceKeyWith or ReplaceKeyPrefixWith, not both.",
                       "ReplaceKeyWith", number)
    if kind == "Internal" and (redirect.protocol or redirect.host_name
                               or redirect.http_redirect_code is not None):
        raise _invalid("An Internal redirect takes no Protocol, HostName or "
                       "HttpRedirectCode.", "RedirectType", kind)
    if redirect.http_redirect_code is not None and \
            redirect.http_redirect_code not in REDIRECT_CODES:
        raise _invalid("HttpRedirectCode must be 301, 302 or 307.", "HttpRedirectCode",
                       redirect.http_redirect_code)
    if redirect.protocol is not None and redirect.protocol not in ("http", "https"):
        raise _invalid("Protocol must be http or https.", "Protocol", redirect.protocol)
    if redirect.host_name is not None and _HOST.fullmatch(redirect.host_name) is None:
        raise _invalid("HostName must be a host name (letters, digits, dots, hyphens, an "
                       "optional :port).", "HostName", redirect.host_name)


@dataclass(frozen=True)
class Route:
    """What a matched routing rule does: serve ``key`` in place (Internal), or redirect with
    ``code`` to ``protocol``://``host``/``key`` (None: the request's own) keeping the query
    when ``pass_query``."""

    key: str
    external: bool
    code: int = 302
    protocol: str | None = None
    host: str | None = None
    pass_query: bool = False


def _new_key(rule: RoutingRule, key: str) -> str:
    assert rule.redirect is not None and rule.condition is not None
    redirect = rule.redirect
    if redirect.replace_key_with is not None:
        return redirect.replace_key_with.replace("${key}", key)
    if redirect.replace_key_prefix_with is not None or redirect.enable_replace_prefix:
        prefix = rule.condition.key_prefix_equals or ""
        return (redirect.replace_key_prefix_with or "") + key[len(prefix):]
    return key


@dataclass(frozen=True)
class Site:
    """A stored configuration, flattened for serving."""

    suffix: str
    support_sub_dir: bool
    type: int
    error_key: str | None
    error_status: int
    rules: tuple[RoutingRule, ...] = ()

    def route(self, key: str, headers: dict[str, str], missing: bool) -> Route | None:
        """The first rule matching ``key`` (before it is read; with ``missing``, after it
        was found missing: only the rules conditioned on 404), or None."""
        for rule in self.rules:
            condition, redirect = rule.condition, rule.redirect
            assert condition is not None and redirect is not None
            if (condition.http_error_code_returned_equals == 404) is not missing:
                continue
            if condition.key_prefix_equals and not key.startswith(condition.key_prefix_equals):
                continue
            if condition.key_suffix_equals and not key.endswith(condition.key_suffix_equals):
                continue
            if not all(headers.get(h.key.lower()) == h.equals if h.equals is not None
                       else h.key.lower() in headers for h in condition.include_headers):
                continue
            external = redirect.redirect_type == "External"
            return Route(key=_new_key(rule, key), external=external,
                         code=redirect.http_redirect_code or 302, protocol=redirect.protocol,
                         host=redirect.host_name, pass_query=bool(redirect.pass_query_string))
        return None

    def index_key(self, key: str) -> str | None:
        """The key a request for ``key`` reads first: the index document for ``""`` and
        ``dir/``; None for any other key (read as it is)."""
        if key == "":
            return self.suffix
        if key.endswith("/"):
            return key + self.suffix if self.support_sub_dir else self.suffix
        return None

    def sub_dir_key(self, key: str) -> str | None:
        """For a missing ``key`` (not ending in ``/``): ``key/<Suffix>``, the key ``Type``
        0 and 2 look at, or None when none is looked at (Type 1, no SupportSubDir)."""
        if not self.support_sub_dir or self.type == 1 or key.endswith("/") or not key:
            return None
        return f"{key}/{self.suffix}"


@lru_cache(maxsize=256)
def stored(document: str) -> Site:
    """A stored (normalized) document as a ``Site`` (memoized)."""
    config = decode_website_configuration(document.encode("utf-8"))
    index = config.index_document or IndexDocument(suffix="index.html")
    error = config.error_document
    return Site(suffix=index.suffix or "index.html",
                support_sub_dir=bool(index.support_sub_dir),
                type=0 if index.type is None else index.type,
                error_key=error.key if error is not None else None,
                error_status=(404 if error is None or error.http_status is None
                              else error.http_status),
                rules=config.routing_rules or ())
