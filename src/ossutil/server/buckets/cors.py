"""CORS rules (PutBucketCors, the OPTIONS preflight, Access-Control-* on actual responses).

Pure domain logic: no HTTP objects, no store. A configuration is checked once when it is put
(``normalize``) and stored as GetBucketCors's document; ``stored`` parses a stored document
once (memoized: buckets share few distinct documents).

Matching, as OSS documents it: the first rule (in document order) whose ``AllowedOrigin``
matches the request's ``Origin`` (``*`` matches any run of characters, at most one per
value), whose ``AllowedMethod`` holds the method (the preflight's
``Access-Control-Request-Method``, else the request's own), and, for a preflight, whose
``AllowedHeader`` entries cover every name of ``Access-Control-Request-Headers`` (case
insensitive, ``*`` as in origins).
"""

from __future__ import annotations

from functools import lru_cache

from ossutil.wire.cors_xml import CorsConfiguration, CorsRule, decode_cors_configuration
from ossutil.wire.errors import OssError

METHODS = ("GET", "PUT", "DELETE", "POST", "HEAD")
MAX_RULES = 10  # OSS: up to 10 CORS rules per bucket
NOT_ENABLED = "CORSResponse: CORS is not enabled for this bucket."


def _invalid(message: str, name: str, value: str = "") -> OssError:
    return OssError.from_code("InvalidArgument", message, ArgumentName=name,
                              ArgumentValue=value[:256])


def normalize(config: CorsConfiguration) -> CorsConfiguration:
    """``config`` as it will be stored (``ResponseVary`` false when absent), or the error OSS
    answers: no rule, a rule without an origin or a method: MalformedXML; more than 10 rules,
    an unknown method, two ``*`` in one origin or header, ``*`` in an ExposeHeader:
    InvalidArgument."""
    if not config.rules:
        raise OssError.from_code("MalformedXML")
    if len(config.rules) > MAX_RULES:
        raise _invalid(f"At most {MAX_RULES} CORS rules may be configured.", "CORSRule",
                       str(len(config.rules)))
    for rule in config.rules:
        if not rule.allowed_origins or not rule.allowed_methods:
            raise OssError.from_code("MalformedXML")
        for method in rule.allowed_methods:
            if method not in METHODS:
                raise _invalid(f"AllowedMethod must be one of {', '.join(METHODS)}.",
                               "AllowedMethod", method)
        for name, values in (("AllowedOrigin", rule.allowed_origins),
                             ("AllowedHeader", rule.allowed_headers)):
            for value in values:
                if value.count("*") > 1:
                    raise _invalid(f"{name} may hold at most one wildcard (*).", name, value)
        for value in rule.expose_headers:
            if "*" in value:
                raise _invalid("ExposeHeader may not hold a wildcard (*).", "ExposeHeader",
                               value)
    return CorsConfiguration(rules=config.rules, response_vary=bool(config.response_vary))


@lru_cache(maxsize=256)
def stored(document: str) -> CorsConfiguration:
    """A stored document (written by this server: always well-formed) as a configuration."""
    return decode_cors_configuration(document.encode("utf-8"))


def _wildcard(pattern: str, value: str) -> bool:
    """``pattern`` (at most one ``*``, any run of characters) matches the whole of ``value``."""
    star = pattern.find("*")
    if star < 0:
        return pattern == value
    head, tail = pattern[:star], pattern[star + 1:]
    return (len(value) >= len(head) + len(tail) and value.startswith(head)
            and value.endswith(tail))


def _header_allowed(rule: CorsRule, name: str) -> bool:
    lowered = name.lower()
    return any(_wildcard(allowed.lower(), lowered) for allowed in rule.allowed_headers)


def request_headers(value: str | None) -> list[str]:
    """The names of ``Access-Control-Request-Headers`` (comma-separated, spaces ignored)."""
    if not value:
        return []
    return [name.strip() for name in value.split(",") if name.strip()]


def match(config: CorsConfiguration, origin: str, method: str,
          headers: list[str] | None = None) -> CorsRule | None:
    """The first rule allowing ``origin`` to use ``method`` (and, for a preflight, to send
    ``headers``), or None."""
    for rule in config.rules:
        if method not in rule.allowed_methods:
            continue
        if not any(_wildcard(allowed, origin) for allowed in rule.allowed_origins):
            continue
        if headers and not all(_header_allowed(rule, name) for name in headers):
            continue
        return rule
    return None


def grant(rule: CorsRule, origin: str, *, preflight_headers: list[str] | None = None,
          preflight: bool = False) -> list[tuple[str, str]]:
    """The Access-Control-* headers for a request matched by ``rule``: the request's origin
    (OSS's user guide: the value of the request's Origin, also for a ``*`` rule), the rule's
    methods, on a preflight the requested headers, the exposed headers and the max age."""
    out = [("Access-Control-Allow-Origin", origin),
           ("Access-Control-Allow-Methods", ", ".join(rule.allowed_methods))]
    if preflight and preflight_headers:
        out.append(("Access-Control-Allow-Headers", ", ".join(preflight_headers)))
    if rule.expose_headers:
        out.append(("Access-Control-Expose-Headers", ", ".join(rule.expose_headers)))
    if rule.max_age_seconds is not None:
        out.append(("Access-Control-Max-Age", str(rule.max_age_seconds)))
    return out


def forbidden(message: str | None = None) -> OssError:
    """403 AccessForbidden: the preflight is refused (OSS's message unless ``message``)."""
    return OssError.from_code("AccessForbidden", message)
