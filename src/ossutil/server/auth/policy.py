"""RAM identity policies in Alibaba Cloud's format: parse once, evaluate on every request.

A document (reference §11)::

    {"Version": "1",
     "Statement": [
       {"Effect": "Allow", "Action": ["oss:PutCname", "oss:ListCname"],
        "Resource": ["acs:oss:*:*:examplebucket"],
        "Condition": {"IpAddress": {"acs:SourceIp": ["10.0.0.0/8"]}}},
       {"Effect": "Deny", "Action": "oss:DeleteCname", "Resource": "acs:oss:*:*:*"}]}

Evaluation (reference §11 [C]): any matching ``Deny`` -> ``Decision.DENY``; otherwise any matching
``Allow`` -> ``Decision.ALLOW``; otherwise ``Decision.NO_MATCH``, which callers treat as denied.

Matching rules:

- ``*`` matches any run of characters (empty, ``:`` and ``/`` included), ``?`` exactly one; every
  other character is literal, so the ``.`` in ``my.bucket`` never matches ``myxbucket``.
- In a Resource, wildcards in the fields before the relative id (``acs:oss:<region>:<account>:``)
  stay inside their field, so ``acs:oss:*:*:examplebucket`` matches that bucket in any region and
  account and nothing else; in the relative id (``bucket/key``) they cross ``:`` and ``/``.
- Actions compare case-insensitively (RAM treats action names so); resources and ``StringLike``
  values compare case-sensitively; condition keys and operator names case-insensitively.
- Element names (``Version``, ``Statement``, ``Effect`` ...) are case-sensitive and unknown ones
  are refused, so a typo such as ``"Actions"`` fails at load time instead of silently matching
  nothing. ``Effect`` values are accepted in any case and normalised.
- A condition on a key absent from the request context does not match, whichever the operator
  (``NotIpAddress`` and ``StringNotEquals`` included).

Speed: every pattern is compiled when the policy is parsed. Patterns without wildcards go into a
set; the others are joined into one regex whose ``*`` segments are atomic lazy groups, so matching
is linear in the input (a glob like ``*a*a*a*b`` cannot make the engine backtrack polynomially on
a hostile 1023-byte object key). The first request for an action builds and caches a plan for it:
the statements whose Action applies, with the Resource patterns of all unconditional ones merged
into a single matcher per effect and the rest probed by one regex run, so a typical ``evaluate``
is one dict look-up and two or four regex runs, whatever the number of statements.

    ValueError
     └── PolicyError         a document that cannot be loaded; the message names the element
"""

from __future__ import annotations

import enum
import functools
import ipaddress
import json
import re
import socket
import types
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "Condition",
    "Decision",
    "Effect",
    "Policy",
    "PolicyError",
    "Statement",
    "is_allowed",
    "parse_policy",
    "resource_arn",
]


class Decision(enum.Enum):
    """The outcome of evaluating one policy against one request."""

    ALLOW = "allow"
    DENY = "deny"
    NO_MATCH = "no_match"


class Effect(enum.Enum):
    """A statement's ``Effect``, in RAM's canonical spelling."""

    ALLOW = "Allow"
    DENY = "Deny"


class PolicyError(ValueError):
    """A policy document that cannot be loaded; the message names the offending element."""


# --------------------------------------------------------------------------------------------
# Wildcard patterns


def _segment_regex(segment: str) -> str:
    """Regex for a star-free piece of a pattern: ``?`` is one character, the rest is literal."""
    return ".".join(re.escape(piece) for piece in segment.split("?"))


def _glob_regex(pattern: str) -> str:
    """Translate one ``*``/``?`` pattern into a regex source for ``fullmatch``.

    ``a*b*c`` becomes ``a(?>.*?b).*c``: the prefix is anchored at the start, every middle
    segment is taken at its earliest occurrence and committed (atomic group), the last one is
    anchored at the end. Earliest-occurrence matching is exact for globs and keeps it linear.
    """
    pieces = pattern.split("*")
    if len(pieces) == 1:
        return _segment_regex(pattern)
    first, *middle, last = pieces
    parts = [_segment_regex(first)]
    parts.extend(f"(?>.*?{_segment_regex(seg)})" for seg in middle if seg)
    parts.append(".*" + _segment_regex(last))
    return "".join(parts)


def _field_regex(field: str) -> str:
    """One ARN field before the last: ``*`` and ``?`` stay inside the field (no ``:``)."""
    return "[^:]*".join(
        "[^:]".join(re.escape(piece) for piece in run.split("?")) for run in field.split("*")
    )


def _arn_regex(pattern: str) -> str:
    """Translate a resource pattern ``acs:<service>:<region>:<account>:<relative-id>``.

    Wildcards in the fields before the last one match within that field only; in the last field
    (the relative id, where object keys may hold ``:``) they match anything. So
    ``acs:oss:*:*:bucket`` matches bucket ``bucket`` in any region and account, but never
    ``acs:oss:r:1:other/x:bucket``, which a flat glob would let the account ``*`` swallow. A
    pattern with fewer fields lets its last one absorb the rest: ``acs:oss:*`` is every OSS ARN.
    """
    *fields, last = pattern.split(":", 4)
    return ":".join([*(_field_regex(f) for f in fields), _glob_regex(last)])


class _Matcher:
    """Precompiled ``any(glob_match(value, p) for p in patterns)`` with RAM's wildcard rules.

    ``arn=True`` reads the patterns as resource ARNs (see ``_arn_regex``).
    """

    __slots__ = ("match_all", "exact", "regex")

    def __init__(self, patterns: Iterable[str], *, fold_case: bool, arn: bool = False) -> None:
        exact: set[str] = set()
        globs: list[str] = []
        match_all = False
        translate = _arn_regex if arn else _glob_regex
        for raw in patterns:
            pattern = raw.lower() if fold_case else raw
            if pattern and pattern.strip("*") == "":
                match_all = True
            elif "*" in pattern or "?" in pattern:
                globs.append(f"(?:{translate(pattern)})")
            else:
                exact.add(pattern)
        self.match_all = match_all
        self.exact = frozenset(exact)
        self.regex = re.compile("|".join(dict.fromkeys(globs)), re.DOTALL) if globs else None

    def __call__(self, value: str) -> bool:
        """True when ``value`` (already lower-cased for a case-folding matcher) matches."""
        if self.match_all or value in self.exact:
            return True
        return self.regex is not None and self.regex.fullmatch(value) is not None


# --------------------------------------------------------------------------------------------
# Conditions


_V4_MAPPED = 0xFFFF  # ::ffff:0:0/96, shifted right by 32


@functools.lru_cache(maxsize=4096)
def _parse_address(value: str) -> tuple[tuple[int, int], ...]:
    """``((version, integer), ...)`` for a textual IPv4/IPv6 address, ``()`` for anything else.

    An IPv4-mapped IPv6 address (``::ffff:10.1.2.3``, from a dual-stack socket) also yields its
    IPv4 form. ``inet_pton`` is a pure conversion (no I/O), ten times faster than ``ipaddress``
    and as strict (dotted quad, RFC 4291); the cache holds recent client addresses.
    """
    text = value.strip()
    family, version = (socket.AF_INET6, 6) if ":" in text else (socket.AF_INET, 4)
    try:
        packed = socket.inet_pton(family, text)
    except (OSError, ValueError):  # ValueError: embedded NUL
        return ()
    address = int.from_bytes(packed, "big")
    if version == 6 and address >> 32 == _V4_MAPPED:
        return ((6, address), (4, address & 0xFFFFFFFF))
    return ((version, address),)


def _ip_test(values: Sequence[str], *, negate: bool) -> Callable[[str], bool]:
    """``IpAddress`` (``negate=False``) or ``NotIpAddress`` over CIDR blocks or bare addresses."""
    blocks: list[tuple[int, int, int]] = []  # (version, network, mask)
    for value in values:
        net = ipaddress.ip_network(value.strip(), strict=False)
        blocks.append((net.version, int(net.network_address), int(net.netmask)))

    def test(value: str) -> bool:
        candidates = _parse_address(value)
        if not candidates:  # not an address: neither IpAddress nor NotIpAddress holds
            return False
        for version, address in candidates:
            for block_version, network, mask in blocks:
                if version == block_version and address & mask == network:
                    return not negate
        return negate

    return test


def _string_equals_test(values: Sequence[str], *, negate: bool) -> Callable[[str], bool]:
    allowed = frozenset(values)
    if negate:
        return lambda value: value not in allowed
    return lambda value: value in allowed


def _string_like_test(values: Sequence[str], *, negate: bool) -> Callable[[str], bool]:
    matcher = _Matcher(values, fold_case=False)
    if negate:
        return lambda value: not matcher(value)
    return matcher


def _bool_test(values: Sequence[str]) -> Callable[[str], bool]:
    allowed = frozenset(v.lower() for v in values)
    return lambda value: value.strip().lower() in allowed


_OPERATORS: dict[str, Callable[..., Callable[[str], bool]]] = {
    "IpAddress": lambda values: _ip_test(values, negate=False),
    "NotIpAddress": lambda values: _ip_test(values, negate=True),
    "StringEquals": lambda values: _string_equals_test(values, negate=False),
    "StringNotEquals": lambda values: _string_equals_test(values, negate=True),
    "StringLike": lambda values: _string_like_test(values, negate=False),
    "StringNotLike": lambda values: _string_like_test(values, negate=True),
    "Bool": _bool_test,
}
_OPERATOR_BY_FOLDED = {name.lower(): name for name in _OPERATORS}


@dataclass(frozen=True)
class Condition:
    """One ``Operator: {Key: [values]}`` test; several values for the key are OR-ed.

    ``operator`` is the canonical spelling (``StringEquals``), ``key`` is lower-cased.
    """

    operator: str
    key: str
    values: tuple[str, ...]
    _test: Callable[[str], bool] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        canonical = _OPERATOR_BY_FOLDED.get(self.operator.lower())
        if canonical is None:
            raise PolicyError(f"unknown condition operator {self.operator!r}")
        if not self.values:
            raise PolicyError(f"condition {canonical} on {self.key!r} has no values")
        try:
            test = _OPERATORS[canonical](self.values)
        except ValueError as exc:  # a bad CIDR block
            raise PolicyError(f"condition {canonical} on {self.key!r}: {exc}") from None
        object.__setattr__(self, "operator", canonical)
        object.__setattr__(self, "key", self.key.lower())
        object.__setattr__(self, "values", tuple(self.values))
        object.__setattr__(self, "_test", test)

    def matches(self, context: Mapping[str, str]) -> bool:
        """Test against a context whose keys are already lower-cased; absent key -> False."""
        value = context.get(self.key)
        return value is not None and self._test(value)


# --------------------------------------------------------------------------------------------
# Statements and policies

_EMPTY_CONTEXT: Mapping[str, str] = types.MappingProxyType({})


@dataclass(frozen=True)
class Statement:
    """One statement. Exactly one of ``actions``/``not_actions`` and one of
    ``resources``/``not_resources`` is non-empty; all ``conditions`` must hold (AND)."""

    effect: Effect
    actions: tuple[str, ...] = ()
    not_actions: tuple[str, ...] = ()
    resources: tuple[str, ...] = ()
    not_resources: tuple[str, ...] = ()
    conditions: tuple[Condition, ...] = ()
    _action: _Matcher = field(init=False, repr=False, compare=False)
    _resource: _Matcher = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for name in ("actions", "not_actions", "resources", "not_resources", "conditions"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        if bool(self.actions) == bool(self.not_actions):
            raise PolicyError("a statement needs exactly one of Action and NotAction")
        if bool(self.resources) == bool(self.not_resources):
            raise PolicyError("a statement needs exactly one of Resource and NotResource")
        object.__setattr__(
            self, "_action", _Matcher(self.actions or self.not_actions, fold_case=True)
        )
        resource_patterns = self.resources or self.not_resources
        object.__setattr__(
            self, "_resource", _Matcher(resource_patterns, fold_case=False, arn=True)
        )

    def matches(self, action: str, resource: str, context: Mapping[str, str] | None = None) -> bool:
        """Whether this statement alone applies to the request (conditions included)."""
        ctx = {k.lower(): v for k, v in context.items()} if context else _EMPTY_CONTEXT
        return self._applies_to_action(action.lower()) and self._applies_to(resource, ctx)

    def _applies_to_action(self, folded_action: str) -> bool:
        return self._action(folded_action) is bool(self.actions)

    def _applies_to(self, resource: str, context: Mapping[str, str]) -> bool:
        if self._resource(resource) is not bool(self.resources):
            return False
        return all(condition.matches(context) for condition in self.conditions)


def _union_source(patterns: Iterable[str]) -> str:
    """One regex source matching any of the resource ``patterns`` (for ``fullmatch``)."""
    return "|".join(
        f"(?:{_arn_regex(p)})" if "*" in p or "?" in p else re.escape(p) for p in patterns
    )


class _Probe:
    r"""The statements that need an answer each (conditional, or ``NotResource``), in order.

    One regex run says which of them have a matching Resource/NotResource: statement *i*
    contributes ``(?:(?=(?:patterns)\Z)())?``, whose empty group *i* is set exactly when its
    patterns match the whole resource. Conditions are then checked only where it is needed.
    """

    __slots__ = ("regex", "entries")

    def __init__(self, statements: Sequence[Statement]) -> None:
        parts: list[str] = []
        for statement in statements:
            patterns = statement.resources or statement.not_resources
            if any(p and p.strip("*") == "" for p in patterns):
                parts.append("()")
            else:
                parts.append(f"(?:(?=(?:{_union_source(patterns)})\\Z)())?")
        self.regex = re.compile("".join(parts), re.DOTALL)
        self.entries = tuple((bool(s.resources), s.conditions) for s in statements)

    def any_applies(self, resource: str, context: Mapping[str, str]) -> bool:
        """Whether some statement applies (resource part and all its conditions)."""
        matched = self.regex.match(resource)
        if matched is None:  # cannot happen: every part is optional or always matches
            return False
        for (positive, conditions), group in zip(self.entries, matched.groups(), strict=True):
            if (group is not None) is positive:
                for condition in conditions:
                    if not condition.matches(context):
                        break
                else:
                    return True
        return False


class _Plan:
    """What one action needs, per effect: the unconditional ``Resource`` statements merged into
    one matcher, the others in one ``_Probe`` (``None`` when there are none)."""

    __slots__ = ("deny_any", "deny_rest", "allow_any", "allow_rest", "conditional")

    def __init__(self, statements: Sequence[Statement], folded_action: str) -> None:
        applicable = [s for s in statements if s._applies_to_action(folded_action)]
        self.deny_any, self.deny_rest = self._split(applicable, Effect.DENY)
        self.allow_any, self.allow_rest = self._split(applicable, Effect.ALLOW)
        self.conditional = any(s.conditions for s in applicable)

    @staticmethod
    def _split(
        statements: Sequence[Statement], effect: Effect
    ) -> tuple[_Matcher | None, _Probe | None]:
        mine = [s for s in statements if s.effect is effect]
        simple = [s for s in mine if s.resources and not s.conditions]
        rest = [s for s in mine if not (s.resources and not s.conditions)]
        patterns = [p for s in simple for p in s.resources]
        return (
            _Matcher(patterns, fold_case=False, arn=True) if patterns else None,
            _Probe(rest) if rest else None,
        )


_PLAN_CACHE_MAX = 1024  # actions come from the operation table; a bound guards odd callers


@dataclass(frozen=True)
class Policy:
    """A parsed identity policy; ``evaluate`` is meant for every request's hot path.

    Several attached policies evaluate as one: ``Policy(a.statements + b.statements)``.
    """

    statements: tuple[Statement, ...]
    _plans: dict[str, _Plan] = field(init=False, repr=False, compare=False, default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "statements", tuple(self.statements))

    def _plan(self, folded_action: str) -> _Plan:
        plan = self._plans.get(folded_action)
        if plan is None:
            plan = _Plan(self.statements, folded_action)
            if len(self._plans) < _PLAN_CACHE_MAX:
                self._plans[folded_action] = plan
        return plan

    def evaluate(
        self, action: str, resource: str, context: Mapping[str, str] | None = None
    ) -> Decision:
        """DENY if a Deny statement matches, else ALLOW if an Allow one does, else NO_MATCH.

        ``action`` is like ``oss:PutCname``; ``resource`` an ARN from ``resource_arn``;
        ``context`` holds condition keys such as ``acs:SourceIp`` (any case).
        """
        plan = self._plan(action.lower())
        ctx = _EMPTY_CONTEXT
        if context and plan.conditional:
            ctx = {key.lower(): value for key, value in context.items()}
        if plan.deny_any is not None and plan.deny_any(resource):
            return Decision.DENY
        if plan.deny_rest is not None and plan.deny_rest.any_applies(resource, ctx):
            return Decision.DENY
        if plan.allow_any is not None and plan.allow_any(resource):
            return Decision.ALLOW
        if plan.allow_rest is not None and plan.allow_rest.any_applies(resource, ctx):
            return Decision.ALLOW
        return Decision.NO_MATCH


def is_allowed(
    policy: Policy | None,
    action: str,
    resource: str,
    context: Mapping[str, str] | None = None,
) -> bool:
    """RAM's final answer: allowed only by a matching Allow and no matching Deny.

    ``None`` (a RAM user with no policy attached) is allowed nothing.
    """
    return policy is not None and policy.evaluate(action, resource, context) is Decision.ALLOW


def resource_arn(region: str, owner_id: str, bucket: str = "", key: str | None = None) -> str:
    """The resource OSS authorizes against (reference §11).

    ``acs:oss:<region>:<owner>:<bucket>`` for a bucket operation, ``…:<bucket>/<key>`` for an
    object, ``…:*`` for a service-level operation such as ListBuckets (no bucket).
    """
    if not bucket:
        if key is not None:
            raise ValueError("an object key needs a bucket")
        return f"acs:oss:{region}:{owner_id}:*"
    if key is None:
        return f"acs:oss:{region}:{owner_id}:{bucket}"
    return f"acs:oss:{region}:{owner_id}:{bucket}/{key}"


# --------------------------------------------------------------------------------------------
# Parsing

_TOP_LEVEL = ("Version", "Statement")
_STATEMENT_ELEMENTS = ("Effect", "Action", "NotAction", "Resource", "NotResource", "Condition")
_SHOWN_MAX = 80


def _show(value: Any) -> str:
    """A JSON rendering of an offending value for a message, cut to a readable length."""
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= _SHOWN_MAX else text[: _SHOWN_MAX - 3] + "..."


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    return "object"


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise PolicyError(f"policy document has a duplicate key {_show(key)}")
        result[key] = value
    return result


def _reject_constant(name: str) -> Any:
    raise PolicyError(f"policy document is not valid JSON: {name} is not allowed")


def _check_elements(obj: Mapping[str, Any], allowed: Sequence[str], where: str) -> None:
    for key in obj:
        if key not in allowed:
            raise PolicyError(
                f"{where} has an unknown element {_show(key)}; expected {', '.join(allowed)}"
            )


def _string_list(value: Any, where: str) -> list[str]:
    """``"x"`` or ``["x", ...]`` -> list of non-empty strings."""
    if isinstance(value, str):
        if not value:
            raise PolicyError(f"{where} must not be empty")
        return [value]
    if not isinstance(value, list):
        raise PolicyError(f"{where} must be a string or a list of strings, got {_json_type(value)}")
    if not value:
        raise PolicyError(f"{where} must not be an empty list")
    for i, item in enumerate(value):
        if not isinstance(item, str):
            raise PolicyError(f"{where}[{i}] must be a string, got {_json_type(item)}")
        if not item:
            raise PolicyError(f"{where}[{i}] must not be empty")
    return list(value)


def _item_path(where: str, value: Any, i: int) -> str:
    return f"{where}[{i}]" if isinstance(value, list) else where


def _parse_actions(value: Any, where: str) -> tuple[str, ...]:
    actions = _string_list(value, where)
    for i, action in enumerate(actions):
        service, sep, name = action.partition(":")
        if action != "*" and not (sep and service and name):
            raise PolicyError(
                f'{_item_path(where, value, i)} must be "*" or "<service>:<action>", '
                f"got {_show(action)}"
            )
    return tuple(actions)


def _parse_resources(value: Any, where: str) -> tuple[str, ...]:
    resources = _string_list(value, where)
    for i, resource in enumerate(resources):
        if resource != "*" and not resource.startswith("acs:"):
            raise PolicyError(
                f'{_item_path(where, value, i)} must be "*" or an ARN starting with "acs:", '
                f"got {_show(resource)}"
            )
    return tuple(resources)


def _condition_values(value: Any, where: str) -> list[str]:
    """Condition values: a scalar or a non-empty list of scalars; booleans become true/false."""
    items = value if isinstance(value, list) else [value]
    if isinstance(value, list) and not value:
        raise PolicyError(f"{where} must not be an empty list")
    out: list[str] = []
    for i, item in enumerate(items):
        if isinstance(item, bool):
            out.append("true" if item else "false")
        elif isinstance(item, (str, int, float)):
            out.append(item if isinstance(item, str) else json.dumps(item))
        else:
            at = _item_path(where, value, i)
            raise PolicyError(f"{at} must be a string, number or boolean, got {_json_type(item)}")
    return out


def _parse_conditions(value: Any, where: str) -> tuple[Condition, ...]:
    if not isinstance(value, dict):
        raise PolicyError(f"{where} must be an object, got {_json_type(value)}")
    conditions: list[Condition] = []
    for operator, body in value.items():
        canonical = _OPERATOR_BY_FOLDED.get(operator.lower())
        if canonical is None:
            raise PolicyError(
                f"{where} has an unknown operator {_show(operator)}; supported: "
                + ", ".join(_OPERATORS)
            )
        op_where = f"{where}.{operator}"
        if not isinstance(body, dict):
            raise PolicyError(
                f"{op_where} must be an object mapping keys to values, got {_json_type(body)}"
            )
        if not body:
            raise PolicyError(f"{op_where} must not be empty")
        for key, raw_values in body.items():
            key_where = f"{op_where}.{key}"
            values = _condition_values(raw_values, key_where)
            for i, v in enumerate(values):
                at = _item_path(key_where, raw_values, i)
                if canonical in ("IpAddress", "NotIpAddress"):
                    try:
                        ipaddress.ip_network(v.strip(), strict=False)
                    except ValueError:
                        raise PolicyError(
                            f"{at} is not an IP address or CIDR block: {_show(v)}"
                        ) from None
                elif canonical == "Bool" and v.lower() not in ("true", "false"):
                    raise PolicyError(f'{at} must be "true" or "false", got {_show(v)}')
            conditions.append(Condition(canonical, key, tuple(values)))
    return tuple(conditions)


def _parse_effect(value: Any, where: str) -> Effect:
    if isinstance(value, str):
        for effect in Effect:
            if value.lower() == effect.value.lower():
                return effect
    raise PolicyError(f'{where} must be "Allow" or "Deny", got {_show(value)}')


def _pick_one(statement: Mapping[str, Any], name: str, where: str) -> tuple[str, Any]:
    """Exactly one of ``name`` and ``Not<name>``; returns (element name, value)."""
    negated = "Not" + name
    if name in statement and negated in statement:
        raise PolicyError(f"{where} must have only one of {name} and {negated}, got both")
    if name in statement:
        return name, statement[name]
    if negated in statement:
        return negated, statement[negated]
    raise PolicyError(f"{where} must have {name} or {negated}")


def _parse_statement(raw: Any, where: str) -> Statement:
    if not isinstance(raw, dict):
        raise PolicyError(f"{where} must be an object, got {_json_type(raw)}")
    _check_elements(raw, _STATEMENT_ELEMENTS, where)
    if "Effect" not in raw:
        raise PolicyError(f"{where}.Effect is missing")
    effect = _parse_effect(raw["Effect"], f"{where}.Effect")
    action_name, action_value = _pick_one(raw, "Action", where)
    actions = _parse_actions(action_value, f"{where}.{action_name}")
    resource_name, resource_value = _pick_one(raw, "Resource", where)
    resources = _parse_resources(resource_value, f"{where}.{resource_name}")
    conditions = (
        _parse_conditions(raw["Condition"], f"{where}.Condition") if "Condition" in raw else ()
    )
    return Statement(
        effect=effect,
        actions=actions if action_name == "Action" else (),
        not_actions=actions if action_name == "NotAction" else (),
        resources=resources if resource_name == "Resource" else (),
        not_resources=resources if resource_name == "NotResource" else (),
        conditions=conditions,
    )


def parse_policy(document: str | bytes) -> Policy:
    """Parse and compile a RAM policy document; raise ``PolicyError`` naming what is wrong.

    Unknown elements, unknown condition operators, bad CIDR blocks and duplicate JSON keys are
    all refused here, at load time, so a request never meets a half-understood policy.
    """
    if isinstance(document, bytes):
        try:
            document = document.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise PolicyError(f"policy document is not valid UTF-8 (byte {exc.start})") from None
    try:
        data = json.loads(
            document, object_pairs_hook=_reject_duplicates, parse_constant=_reject_constant
        )
    except PolicyError:
        raise
    except json.JSONDecodeError as exc:
        raise PolicyError(
            f"policy document is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    except (ValueError, RecursionError) as exc:  # 4300-digit integers, absurd nesting
        raise PolicyError(f"policy document is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise PolicyError(f"policy document must be a JSON object, got {_json_type(data)}")
    _check_elements(data, _TOP_LEVEL, "policy document")
    if "Version" not in data:
        raise PolicyError('Version is missing; it must be "1"')
    if data["Version"] != "1":
        raise PolicyError(f'Version must be "1", got {_show(data["Version"])}')
    if "Statement" not in data:
        raise PolicyError("Statement is missing")
    raw_statements = data["Statement"]
    if isinstance(raw_statements, dict):
        return Policy((_parse_statement(raw_statements, "Statement"),))
    if not isinstance(raw_statements, list):
        raise PolicyError(
            f"Statement must be an object or a list of objects, got {_json_type(raw_statements)}"
        )
    return Policy(
        tuple(_parse_statement(s, f"Statement[{i}]") for i, s in enumerate(raw_statements))
    )
