"""RAM identity policies: parsing, matching and evaluation (reference §11)."""

from __future__ import annotations

import functools
import json
import time
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ossutil.server.auth.policy import (
    Condition,
    Decision,
    Effect,
    Policy,
    PolicyError,
    Statement,
    is_allowed,
    parse_policy,
    resource_arn,
)

OWNER = "1234567890123456"
REGION = "cn-hangzhou"


def arn(bucket: str = "", key: str | None = None) -> str:
    return resource_arn(REGION, OWNER, bucket, key)


def policy(*statements: dict[str, Any]) -> Policy:
    return parse_policy(json.dumps({"Version": "1", "Statement": list(statements)}))


def allow(action: Any, resource: Any, **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action: Any, resource: Any, **extra: Any) -> dict[str, Any]:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


# --------------------------------------------------------------------------------------------
# resource_arn


@pytest.mark.parametrize(
    ("bucket", "key", "expected"),
    [
        ("examplebucket", None, "acs:oss:cn-hangzhou:1234567890123456:examplebucket"),
        (
            "examplebucket",
            "photos/a.jpg",
            "acs:oss:cn-hangzhou:1234567890123456:examplebucket/photos/a.jpg",
        ),
        ("", None, "acs:oss:cn-hangzhou:1234567890123456:*"),
    ],
)
def test_resource_arn_formats_service_bucket_and_object(
    bucket: str, key: str | None, expected: str
) -> None:
    assert resource_arn(REGION, OWNER, bucket, key) == expected


def test_resource_arn_refuses_a_key_without_a_bucket() -> None:
    with pytest.raises(ValueError, match="needs a bucket"):
        resource_arn(REGION, OWNER, "", "a.jpg")


# --------------------------------------------------------------------------------------------
# The reference's sample policy (§11)

SAMPLE = """
{"Version": "1",
 "Statement": [
   {"Effect": "Allow", "Action": ["oss:CreateCnameToken", "oss:GetCnameToken", "oss:PutCname",
    "oss:ListCname"], "Resource": ["acs:oss:*:*:examplebucket"]},
   {"Effect": "Deny", "Action": ["oss:DeleteCname"], "Resource": ["acs:oss:*:*:*"]}]}
"""


@pytest.mark.parametrize(
    ("action", "bucket", "decision"),
    [
        ("oss:PutCname", "examplebucket", Decision.ALLOW),
        ("oss:ListCname", "examplebucket", Decision.ALLOW),
        ("oss:PutCname", "otherbucket", Decision.NO_MATCH),
        ("oss:DeleteCname", "examplebucket", Decision.DENY),
        ("oss:DeleteCname", "otherbucket", Decision.DENY),
        ("oss:GetObject", "examplebucket", Decision.NO_MATCH),
    ],
)
def test_sample_policy_from_the_reference(action: str, bucket: str, decision: Decision) -> None:
    assert parse_policy(SAMPLE).evaluate(action, arn(bucket)) is decision


# --------------------------------------------------------------------------------------------
# Evaluation order


def test_deny_wins_over_allow_in_either_order() -> None:
    for statements in (
        (allow("oss:*", "*"), deny("oss:PutCname", "acs:oss:*:*:examplebucket")),
        (deny("oss:PutCname", "acs:oss:*:*:examplebucket"), allow("oss:*", "*")),
    ):
        p = policy(*statements)
        assert p.evaluate("oss:PutCname", arn("examplebucket")) is Decision.DENY
        assert p.evaluate("oss:ListCname", arn("examplebucket")) is Decision.ALLOW
        assert p.evaluate("oss:PutCname", arn("other")) is Decision.ALLOW


def test_is_allowed_needs_an_allow_and_no_deny() -> None:
    p = policy(allow("oss:PutCname", "*"), deny("oss:PutCname", "acs:oss:*:*:locked"))
    assert is_allowed(p, "oss:PutCname", arn("examplebucket"))
    assert not is_allowed(p, "oss:PutCname", arn("locked"))
    assert not is_allowed(p, "oss:ListCname", arn("examplebucket"))


def test_is_allowed_allows_nothing_without_a_policy() -> None:
    assert not is_allowed(None, "oss:ListBuckets", arn())


def test_a_policy_with_no_statements_matches_nothing() -> None:
    p = parse_policy('{"Version": "1", "Statement": []}')
    assert p.evaluate("oss:ListBuckets", arn()) is Decision.NO_MATCH


def test_a_single_statement_object_is_accepted() -> None:
    p = parse_policy(
        '{"Version": "1", "Statement": {"Effect": "Allow", "Action": "oss:ListBuckets", '
        '"Resource": "*"}}'
    )
    assert p.evaluate("oss:ListBuckets", arn()) is Decision.ALLOW


def test_policies_combine_by_concatenating_statements() -> None:
    a = policy(allow("oss:PutCname", "*"))
    b = policy(deny("oss:PutCname", "acs:oss:*:*:locked"))
    both = Policy(a.statements + b.statements)
    assert both.evaluate("oss:PutCname", arn("locked")) is Decision.DENY
    assert both.evaluate("oss:PutCname", arn("open")) is Decision.ALLOW


def test_evaluate_gives_the_same_answer_on_repeated_calls() -> None:
    p = policy(allow("oss:Get*", "acs:oss:*:*:b/*"), deny("oss:GetObject", "acs:oss:*:*:b/x"))
    for _ in range(3):
        assert p.evaluate("oss:GetObject", arn("b", "y")) is Decision.ALLOW
        assert p.evaluate("oss:GetObject", arn("b", "x")) is Decision.DENY
        assert p.evaluate("oss:GETOBJECT", arn("b", "x")) is Decision.DENY


# --------------------------------------------------------------------------------------------
# Action matching


@pytest.mark.parametrize(
    ("pattern", "action", "matches"),
    [
        ("oss:PutCname", "oss:PutCname", True),
        ("oss:PutCname", "oss:putcname", True),
        ("OSS:PUTCNAME", "oss:PutCname", True),
        ("oss:PutCname", "oss:PutCnameX", False),
        ("oss:PutCname", "oss:Put", False),
        ("oss:*", "oss:DeleteCname", True),
        ("oss:*", "ecs:DescribeInstances", False),
        ("*", "ecs:DescribeInstances", True),
        ("oss:*Cname", "oss:ListCname", True),
        ("oss:*Cname", "oss:ListCnameToken", False),
        ("oss:*Cname*", "oss:CreateCnameToken", True),
        ("oss:Get*", "oss:GetObject", True),
        ("oss:get*", "oss:GetObject", True),
        ("oss:Get*", "oss:Get", True),
        ("oss:Get*", "oss:PutObject", False),
        ("oss:?etObject", "oss:GetObject", True),
        ("oss:?etObject", "oss:etObject", False),
        ("oss:Get?", "oss:GetAB", False),
        ("*:ListCname", "oss:ListCname", True),
        ("oss:List.Cname", "oss:ListXCname", False),
        ("oss:List+", "oss:Listtt", False),
        ("oss:List+", "oss:List+", True),
    ],
)
def test_action_matching(pattern: str, action: str, matches: bool) -> None:
    p = policy(allow(pattern, "*"))
    expected = Decision.ALLOW if matches else Decision.NO_MATCH
    assert p.evaluate(action, arn("b")) is expected


def test_not_action_applies_to_every_other_action() -> None:
    p = policy({"Effect": "Allow", "NotAction": ["oss:Delete*"], "Resource": "*"})
    assert p.evaluate("oss:PutCname", arn("b")) is Decision.ALLOW
    assert p.evaluate("oss:DeleteCname", arn("b")) is Decision.NO_MATCH
    assert p.evaluate("OSS:DELETECNAME", arn("b")) is Decision.NO_MATCH


# --------------------------------------------------------------------------------------------
# Resource matching


@pytest.mark.parametrize(
    ("pattern", "resource", "matches"),
    [
        pytest.param("*", arn("b", "k"), True, id="star-matches-all"),
        pytest.param("acs:oss:*:*:examplebucket", arn("examplebucket"), True, id="any-region"),
        pytest.param(
            "acs:oss:cn-hangzhou:1234567890123456:examplebucket",
            arn("examplebucket"),
            True,
            id="exact",
        ),
        pytest.param(
            "acs:oss:cn-beijing:*:examplebucket", arn("examplebucket"), False, id="other-region"
        ),
        pytest.param("acs:oss:*:999:examplebucket", arn("examplebucket"), False, id="other-owner"),
        pytest.param("acs:oss:cn-*:*:examplebucket", arn("examplebucket"), True, id="region-glob"),
        pytest.param(
            "acs:oss:*:*:examplebucket",
            arn("examplebucket", "a"),
            False,
            id="bucket-pattern-not-objects",
        ),
        pytest.param(
            "acs:oss:*:*:examplebucket/*", arn("examplebucket", "a/b.jpg"), True, id="objects"
        ),
        pytest.param(
            "acs:oss:*:*:examplebucket/*",
            arn("examplebucket"),
            False,
            id="objects-pattern-not-bucket",
        ),
        pytest.param(
            "acs:oss:*:*:examplebucket/*", arn("examplebucket", ""), True, id="star-matches-empty"
        ),
        pytest.param(
            "acs:oss:*:*:examplebucket/*",
            arn("examplebucket", "a:b/c"),
            True,
            id="star-crosses-colon-and-slash-in-key",
        ),
        pytest.param("acs:oss:*:*:example*", arn("examplebucket"), True, id="bucket-prefix"),
        pytest.param(
            "acs:oss:*:*:example*",
            arn("examplebucket", "k"),
            True,
            id="bucket-prefix-reaches-objects",
        ),
        pytest.param("acs:oss:*:*:Examplebucket", arn("examplebucket"), False, id="case-sensitive"),
        pytest.param("acs:oss:*:*:my.bucket", arn("myxbucket"), False, id="dot-is-literal"),
        pytest.param("acs:oss:*:*:my.bucket", arn("my.bucket"), True, id="dot-matches-dot"),
        pytest.param(
            "acs:oss:*:*:b/(a|b)+[x]{2}$",
            arn("b", "(a|b)+[x]{2}$"),
            True,
            id="regex-metacharacters-literal",
        ),
        pytest.param(
            "acs:oss:*:*:b/(a|b)+", arn("b", "aab"), False, id="regex-metacharacters-not-regex"
        ),
        pytest.param("acs:oss:*:*:b/^a", arn("b", "^a"), True, id="caret-literal"),
        pytest.param("acs:oss:*:*:b/a\\d", arn("b", "a\\d"), True, id="backslash-literal"),
        pytest.param("acs:oss:*:*:b/a\\d", arn("b", "a1"), False, id="backslash-not-class"),
        pytest.param("acs:oss:*:*:b/photo?.jpg", arn("b", "photo1.jpg"), True, id="question"),
        pytest.param(
            "acs:oss:*:*:b/photo?.jpg", arn("b", "photo.jpg"), False, id="question-needs-one"
        ),
        pytest.param(
            "acs:oss:*:*:b/photo?.jpg", arn("b", "photo12.jpg"), False, id="question-only-one"
        ),
        pytest.param("acs:oss:*:*:b/?", arn("b", "/"), True, id="question-any-char"),
        pytest.param("acs:oss:*:*:b/a*c*e", arn("b", "abcde"), True, id="several-stars"),
        pytest.param("acs:oss:*:*:b/a*c*e", arn("b", "abcdef"), False, id="anchored-end"),
        pytest.param("acs:oss:*:*:b/a*c*e", arn("b", "xabcde"), False, id="anchored-start"),
        pytest.param("acs:oss:*:*:b/*a?c*", arn("b", "zzabczz"), True, id="star-question-mix"),
        pytest.param("acs:oss:*:*:b/k\n*", arn("b", "k\nx\ny"), True, id="newlines"),
        pytest.param("acs:oss:*", arn("b", "k"), True, id="short-pattern-absorbs-rest"),
        pytest.param("acs:oss:*:*:*", arn(), True, id="service-level"),
        pytest.param("acs:oss:*:*:examplebucket", arn(), False, id="bucket-not-service"),
        pytest.param(
            "acs:oss:*:*:examplebucket",
            arn("other", "x:examplebucket"),
            False,
            id="account-star-does-not-swallow-bucket-and-key",
        ),
        pytest.param("acs:oss:*:*:b", "acs:oss:r:1:2:b", False, id="field-star-stays-in-field"),
    ],
)
def test_resource_matching(pattern: str, resource: str, matches: bool) -> None:
    p = policy(allow("oss:GetObject", pattern))
    expected = Decision.ALLOW if matches else Decision.NO_MATCH
    assert p.evaluate("oss:GetObject", resource) is expected
    # The same pattern on its own statement (not merged with others) gives the same answer.
    conditional = policy(allow("oss:GetObject", pattern, Condition={"StringLike": {"k": "*"}}))
    assert conditional.evaluate("oss:GetObject", resource, {"k": "v"}) is expected


def test_not_resource_applies_to_every_other_resource() -> None:
    p = policy(
        {"Effect": "Deny", "Action": "oss:*", "NotResource": "acs:oss:*:*:public/*"},
        allow("oss:*", "*"),
    )
    assert p.evaluate("oss:GetObject", arn("public", "a")) is Decision.ALLOW
    assert p.evaluate("oss:GetObject", arn("private", "a")) is Decision.DENY


# --------------------------------------------------------------------------------------------
# Properties: the compiled, merged evaluation agrees with a naive reading of the rules


def glob_reference(pattern: str, value: str) -> bool:
    """Textbook glob: ``*`` any run (anything), ``?`` one character, the rest literal."""

    @functools.cache
    def match(i: int, j: int) -> bool:
        if i == len(pattern):
            return j == len(value)
        if pattern[i] == "*":
            return match(i + 1, j) or (j < len(value) and match(i, j + 1))
        return j < len(value) and pattern[i] in ("?", value[j]) and match(i + 1, j + 1)

    return match(0, 0)


def arn_reference(pattern: str, resource: str) -> bool:
    """Field by field: the resource split into as many fields as the pattern has (at most 5)."""
    fields = pattern.split(":", 4)
    parts = resource.split(":", len(fields) - 1)
    return len(parts) == len(fields) and all(map(glob_reference, fields, parts))


def naive_decision(
    document: dict[str, Any], action: str, resource: str, context: dict[str, str]
) -> Decision:
    def applies(statement: dict[str, Any]) -> bool:
        actions = statement.get("Action", statement.get("NotAction"))
        hit = any(glob_reference(a.lower(), action.lower()) for a in actions)
        if hit != ("Action" in statement):
            return False
        resources = statement.get("Resource", statement.get("NotResource"))
        hit = any(r == "*" or arn_reference(r, resource) for r in resources)
        if hit != ("Resource" in statement):
            return False
        for key, values in statement.get("Condition", {}).get("StringEquals", {}).items():
            if context.get(key) not in values:
                return False
        return True

    effects = {s["Effect"] for s in document["Statement"] if applies(s)}
    if "Deny" in effects:
        return Decision.DENY
    return Decision.ALLOW if "Allow" in effects else Decision.NO_MATCH


_TAIL = st.text(alphabet="ab:/.", max_size=8)
_PATTERN_TAIL = st.text(alphabet="ab:/.*?", max_size=8)
_RESOURCE_PATTERN = st.one_of(st.just("*"), _PATTERN_TAIL.map(lambda t: "acs:" + t))
_RESOURCE = _TAIL.map(lambda t: "acs:" + t)


@settings(max_examples=500)
@given(_RESOURCE_PATTERN, _RESOURCE)
def test_resource_pattern_agrees_with_the_reference(pattern: str, resource: str) -> None:
    expected = pattern == "*" or arn_reference(pattern, resource)
    p = policy(allow("oss:GetObject", pattern))
    assert (p.evaluate("oss:GetObject", resource) is Decision.ALLOW) is expected


@settings(max_examples=500)
@given(st.text(alphabet="aB:*?.", min_size=1, max_size=8), st.text(alphabet="Ab:.", max_size=8))
def test_action_pattern_agrees_with_the_reference(pattern: str, name: str) -> None:
    p = policy(allow("x:" + pattern, "*"))
    expected = glob_reference(("x:" + pattern).lower(), ("x:" + name).lower())
    assert (p.evaluate("X:" + name, arn("b")) is Decision.ALLOW) is expected


_STATEMENT = st.fixed_dictionaries(
    {
        "Effect": st.sampled_from(["Allow", "Deny"]),
        "action": st.tuples(
            st.sampled_from(["Action", "NotAction"]),
            st.lists(
                st.sampled_from(["oss:*", "oss:Get*", "oss:GetObject", "oss:?utObject", "*"]),
                min_size=1,
                max_size=2,
            ),
        ),
        "resource": st.tuples(
            st.sampled_from(["Resource", "NotResource"]),
            st.lists(_RESOURCE_PATTERN, min_size=1, max_size=3),
        ),
        "condition": st.one_of(
            st.none(),
            st.dictionaries(
                st.sampled_from(["k1", "k2"]),
                st.lists(st.sampled_from(["x", "y"]), min_size=1, max_size=2),
                min_size=1,
            ),
        ),
    }
).map(
    lambda d: {
        "Effect": d["Effect"],
        d["action"][0]: d["action"][1],
        d["resource"][0]: d["resource"][1],
        **({"Condition": {"StringEquals": d["condition"]}} if d["condition"] else {}),
    }
)


@settings(max_examples=300)
@given(
    st.lists(_STATEMENT, max_size=6),
    st.sampled_from(["oss:GetObject", "oss:PutObject", "oss:DeleteObject"]),
    st.lists(_RESOURCE, min_size=1, max_size=4),
    st.dictionaries(st.sampled_from(["k1", "k2"]), st.sampled_from(["x", "y", "z"])),
)
def test_evaluate_agrees_with_a_naive_reading_of_the_rules(
    statements: list[dict[str, Any]], action: str, resources: list[str], context: dict[str, str]
) -> None:
    document = {"Version": "1", "Statement": statements}
    p = parse_policy(json.dumps(document))
    for resource in resources:  # several requests: the cached plan is reused
        expected = naive_decision(document, action, resource, context)
        assert p.evaluate(action, resource, context) is expected
        assert is_allowed(p, action, resource, context) is (expected is Decision.ALLOW)
        by_statement = [s for s in p.statements if s.matches(action, resource, context)]
        effects = {s.effect for s in by_statement}
        assert (Effect.DENY in effects) is (expected is Decision.DENY)


def test_matching_stays_fast_on_a_hostile_key() -> None:
    # A backtracking glob takes minutes on this; the atomic translation takes microseconds.
    p = policy(
        allow("oss:GetObject", "acs:oss:*:*:b/*a*a*a*a*a*a*a*a*c"),
        allow("oss:PutObject", "acs:oss:*:*:b/*a*a*a*?*a*a*a*a*c"),
    )
    key = "a" * 1000
    started = time.perf_counter()
    assert p.evaluate("oss:GetObject", arn("b", key)) is Decision.NO_MATCH
    assert p.evaluate("oss:PutObject", arn("b", key)) is Decision.NO_MATCH
    assert time.perf_counter() - started < 1.0


# --------------------------------------------------------------------------------------------
# Conditions


def cond(operator: str, key: str, values: Any, effect: str = "Allow") -> Policy:
    return policy(
        {
            "Effect": effect,
            "Action": "oss:*",
            "Resource": "*",
            "Condition": {operator: {key: values}},
        }
    )


@pytest.mark.parametrize(
    ("operator", "values", "source", "matches"),
    [
        ("IpAddress", ["10.0.0.0/8"], "10.1.2.3", True),
        ("IpAddress", ["10.0.0.0/8"], "11.1.2.3", False),
        ("IpAddress", "192.168.1.5", "192.168.1.5", True),
        ("IpAddress", ["192.168.1.5", "172.16.0.0/12"], "172.20.0.1", True),
        ("IpAddress", ["10.0.0.1/8"], "10.9.9.9", True),
        ("IpAddress", ["2001:db8::/32"], "2001:db8::1", True),
        ("IpAddress", ["2001:db8::/32"], "2001:db9::1", False),
        ("IpAddress", ["10.0.0.0/8"], "::ffff:10.1.2.3", True),
        ("IpAddress", ["10.0.0.0/8"], "2001:db8::1", False),
        ("IpAddress", ["10.0.0.0/8"], "not-an-ip", False),
        ("IpAddress", ["10.0.0.0/8"], " 10.1.2.3 ", True),
        ("NotIpAddress", ["10.0.0.0/8"], "11.1.2.3", True),
        ("NotIpAddress", ["10.0.0.0/8"], "10.1.2.3", False),
        ("NotIpAddress", ["10.0.0.0/8"], "not-an-ip", False),
    ],
)
def test_ip_conditions(operator: str, values: Any, source: str, matches: bool) -> None:
    p = cond(operator, "acs:SourceIp", values)
    expected = Decision.ALLOW if matches else Decision.NO_MATCH
    assert p.evaluate("oss:PutCname", arn("b"), {"acs:SourceIp": source}) is expected


@pytest.mark.parametrize(
    ("operator", "values", "value", "matches"),
    [
        ("StringEquals", ["ossutil", "oss2"], "oss2", True),
        ("StringEquals", ["ossutil"], "OSSUTIL", False),
        ("StringEquals", "ossutil", "ossutil", True),
        ("StringNotEquals", ["ossutil", "oss2"], "curl", True),
        ("StringNotEquals", ["ossutil", "oss2"], "oss2", False),
        ("StringLike", ["oss*"], "ossutil/1.7", True),
        ("StringLike", ["oss?"], "oss2", True),
        ("StringLike", ["oss?"], "oss22", False),
        ("StringLike", ["a.b"], "axb", False),
        ("StringLike", ["OSS*"], "ossutil", False),
        ("StringNotLike", ["oss*"], "curl/8", True),
        ("StringNotLike", ["oss*", "curl*"], "curl/8", False),
    ],
)
def test_string_conditions(operator: str, values: Any, value: str, matches: bool) -> None:
    p = cond(operator, "acs:UserAgent", values)
    expected = Decision.ALLOW if matches else Decision.NO_MATCH
    assert p.evaluate("oss:PutCname", arn("b"), {"acs:UserAgent": value}) is expected


@pytest.mark.parametrize(
    ("values", "value", "matches"),
    [
        ("true", "true", True),
        (["true"], "True", True),
        (True, "true", True),
        ("TRUE", "true", True),
        ("true", "false", False),
        (False, "false", True),
        ("false", "yes", False),
    ],
)
def test_bool_condition(values: Any, value: str, matches: bool) -> None:
    p = cond("Bool", "acs:SecureTransport", values)
    expected = Decision.ALLOW if matches else Decision.NO_MATCH
    assert p.evaluate("oss:GetObject", arn("b"), {"acs:SecureTransport": value}) is expected


@pytest.mark.parametrize(
    "operator",
    [
        "IpAddress",
        "NotIpAddress",
        "StringEquals",
        "StringNotEquals",
        "StringLike",
        "StringNotLike",
        "Bool",
    ],
)
def test_a_condition_on_an_absent_key_does_not_match(operator: str) -> None:
    value = "true" if operator == "Bool" else "10.0.0.0/8" if "Ip" in operator else "x"
    p = cond(operator, "acs:SourceIp", value)
    assert p.evaluate("oss:PutCname", arn("b"), {"acs:Other": "1"}) is Decision.NO_MATCH
    assert p.evaluate("oss:PutCname", arn("b"), {}) is Decision.NO_MATCH
    assert p.evaluate("oss:PutCname", arn("b")) is Decision.NO_MATCH


def test_a_conditional_deny_applies_only_when_its_condition_holds() -> None:
    p = policy(
        allow("oss:*", "*"),
        deny("oss:*", "*", Condition={"NotIpAddress": {"acs:SourceIp": ["10.0.0.0/8"]}}),
    )
    assert p.evaluate("oss:PutCname", arn("b"), {"acs:SourceIp": "10.0.0.7"}) is Decision.ALLOW
    assert p.evaluate("oss:PutCname", arn("b"), {"acs:SourceIp": "8.8.8.8"}) is Decision.DENY


def test_condition_keys_and_operator_names_are_case_insensitive() -> None:
    p = policy(allow("oss:*", "*", Condition={"stringequals": {"ACS:USERAGENT": "x"}}))
    assert p.evaluate("oss:PutCname", arn("b"), {"acs:useragent": "x"}) is Decision.ALLOW
    assert p.evaluate("oss:PutCname", arn("b"), {"Acs:UserAgent": "x"}) is Decision.ALLOW
    assert p.statements[0].conditions == (Condition("StringEquals", "acs:useragent", ("x",)),)


def test_several_keys_and_operators_are_anded() -> None:
    p = policy(
        allow(
            "oss:*",
            "*",
            Condition={
                "IpAddress": {"acs:SourceIp": "10.0.0.0/8"},
                "StringEquals": {"acs:UserAgent": "ossutil", "acs:Region": "cn-hangzhou"},
            },
        )
    )
    good = {"acs:SourceIp": "10.1.1.1", "acs:UserAgent": "ossutil", "acs:Region": "cn-hangzhou"}
    assert p.evaluate("oss:PutCname", arn("b"), good) is Decision.ALLOW
    for key, bad in [
        ("acs:SourceIp", "9.9.9.9"),
        ("acs:UserAgent", "curl"),
        ("acs:Region", "cn-beijing"),
    ]:
        assert p.evaluate("oss:PutCname", arn("b"), {**good, key: bad}) is Decision.NO_MATCH


# --------------------------------------------------------------------------------------------
# Parsing: accepted spellings


def test_effect_is_case_insensitive_and_normalised() -> None:
    p = policy(
        {"Effect": "allow", "Action": "oss:*", "Resource": "*"},
        {"Effect": "DENY", "Action": "oss:DeleteCname", "Resource": "*"},
    )
    assert [s.effect for s in p.statements] == [Effect.ALLOW, Effect.DENY]
    assert p.evaluate("oss:DeleteCname", arn("b")) is Decision.DENY


def test_bytes_documents_and_a_utf8_bom_are_accepted() -> None:
    document = (
        b"\xef\xbb\xbf"
        + json.dumps(
            {"Version": "1", "Statement": [allow("oss:GetObject", "acs:oss:*:*:b/\u00e9*")]}
        ).encode()
    )
    p = parse_policy(document)
    assert p.evaluate("oss:GetObject", arn("b", "\u00e9t\u00e9.txt")) is Decision.ALLOW


def test_parsed_statements_keep_the_document_values() -> None:
    p = policy(allow("oss:PutCname", ["acs:oss:*:*:a", "acs:oss:*:*:b"]))
    assert p.statements == (
        Statement(
            effect=Effect.ALLOW,
            actions=("oss:PutCname",),
            resources=("acs:oss:*:*:a", "acs:oss:*:*:b"),
        ),
    )


def test_statement_matches_on_its_own() -> None:
    statement = policy(
        allow("oss:Put*", "acs:oss:*:*:b", Condition={"Bool": {"acs:SecureTransport": "true"}})
    ).statements[0]
    assert statement.matches("oss:PutCname", arn("b"), {"ACS:SecureTransport": "true"})
    assert not statement.matches("oss:PutCname", arn("b"), {"acs:SecureTransport": "false"})
    assert not statement.matches("oss:PutCname", arn("b"))


# --------------------------------------------------------------------------------------------
# Parsing: refused documents, each with its message


def doc(**fields: Any) -> str:
    return json.dumps(fields)


def one(statement: Any) -> str:
    return json.dumps({"Version": "1", "Statement": [statement]})


OK = {"Effect": "Allow", "Action": "oss:*", "Resource": "*"}


@pytest.mark.parametrize(
    ("document", "message"),
    [
        pytest.param(
            "not json",
            "policy document is not valid JSON: Expecting value at line 1 column 1",
            id="not-json",
        ),
        pytest.param(
            '{"Version": "1",',
            "policy document is not valid JSON: Expecting property "
            "name enclosed in double quotes at line 1 column 17",
            id="truncated",
        ),
        pytest.param(b"\xff\xfe", "policy document is not valid UTF-8 (byte 0)", id="not-utf8"),
        pytest.param(
            '{"Version": "1", "Statement": [], "Statement": []}',
            'policy document has a duplicate key "Statement"',
            id="duplicate-key",
        ),
        pytest.param(
            '{"Version": "1", "Statement": [{"Effect": "Allow", "Action": NaN}]}',
            "policy document is not valid JSON: NaN is not allowed",
            id="nan",
        ),
        pytest.param("[]", "policy document must be a JSON object, got list", id="not-object"),
        pytest.param(doc(Statement=[]), 'Version is missing; it must be "1"', id="no-version"),
        pytest.param(
            doc(Version="2", Statement=[]), 'Version must be "1", got "2"', id="version-2"
        ),
        pytest.param(
            doc(Version=1, Statement=[]), 'Version must be "1", got 1', id="version-number"
        ),
        pytest.param(doc(Version="1"), "Statement is missing", id="no-statement"),
        pytest.param(
            doc(Version="1", Statement="x"),
            "Statement must be an object or a list of objects, got string",
            id="statement-string",
        ),
        pytest.param(
            doc(Version="1", Statement=[], Id="x"),
            'policy document has an unknown element "Id"; expected Version, Statement',
            id="unknown-top-level",
        ),
        pytest.param(
            one("x"), "Statement[0] must be an object, got string", id="statement-item-string"
        ),
        pytest.param(
            json.dumps({"Version": "1", "Statement": [OK, {**OK, "Effect": "Permit"}]}),
            'Statement[1].Effect must be "Allow" or "Deny", got "Permit"',
            id="bad-effect",
        ),
        pytest.param(
            one({**OK, "Effect": True}),
            'Statement[0].Effect must be "Allow" or "Deny", got true',
            id="effect-not-string",
        ),
        pytest.param(
            one({"Action": "oss:*", "Resource": "*"}),
            "Statement[0].Effect is missing",
            id="no-effect",
        ),
        pytest.param(
            doc(Version="1", Statement={"Action": "oss:*", "Resource": "*"}),
            "Statement.Effect is missing",
            id="single-statement-path",
        ),
        pytest.param(
            one({**OK, "Actions": "oss:*"}),
            'Statement[0] has an unknown element "Actions"; expected Effect, Action, '
            "NotAction, Resource, NotResource, Condition",
            id="unknown-element",
        ),
        pytest.param(
            one({"Effect": "Allow", "Resource": "*"}),
            "Statement[0] must have Action or NotAction",
            id="no-action",
        ),
        pytest.param(
            one({**OK, "NotAction": "oss:Get*"}),
            "Statement[0] must have only one of Action and NotAction, got both",
            id="action-and-not-action",
        ),
        pytest.param(
            one({"Effect": "Allow", "Action": "oss:*"}),
            "Statement[0] must have Resource or NotResource",
            id="no-resource",
        ),
        pytest.param(
            one({**OK, "Action": []}),
            "Statement[0].Action must not be an empty list",
            id="empty-action-list",
        ),
        pytest.param(
            one({**OK, "Action": ""}), "Statement[0].Action must not be empty", id="empty-action"
        ),
        pytest.param(
            one({**OK, "Action": 5}),
            "Statement[0].Action must be a string or a list of strings, got number",
            id="action-number",
        ),
        pytest.param(
            one({**OK, "Action": ["oss:*", None]}),
            "Statement[0].Action[1] must be a string, got null",
            id="action-item-null",
        ),
        pytest.param(
            one({**OK, "Action": ["oss:*", "PutCname"]}),
            'Statement[0].Action[1] must be "*" or "<service>:<action>", got "PutCname"',
            id="action-without-service",
        ),
        pytest.param(
            one({**OK, "Action": "oss:"}),
            'Statement[0].Action must be "*" or "<service>:<action>", got "oss:"',
            id="action-without-name",
        ),
        pytest.param(
            one({**OK, "Resource": ["*", "examplebucket"]}),
            'Statement[0].Resource[1] must be "*" or an ARN starting with "acs:", '
            'got "examplebucket"',
            id="resource-not-arn",
        ),
        pytest.param(
            one({"Effect": "Allow", "Action": "oss:*", "NotResource": {}}),
            "Statement[0].NotResource must be a string or a list of strings, got object",
            id="not-resource-object",
        ),
        pytest.param(
            one({**OK, "Condition": []}),
            "Statement[0].Condition must be an object, got list",
            id="condition-list",
        ),
        pytest.param(
            one({**OK, "Condition": {"NumericEquals": {"k": "1"}}}),
            'Statement[0].Condition has an unknown operator "NumericEquals"; supported: '
            "IpAddress, NotIpAddress, StringEquals, StringNotEquals, StringLike, "
            "StringNotLike, Bool",
            id="unknown-operator",
        ),
        pytest.param(
            one({**OK, "Condition": {"StringEquals": "x"}}),
            "Statement[0].Condition.StringEquals must be an object mapping keys to "
            "values, got string",
            id="operator-body-string",
        ),
        pytest.param(
            one({**OK, "Condition": {"StringEquals": {}}}),
            "Statement[0].Condition.StringEquals must not be empty",
            id="operator-body-empty",
        ),
        pytest.param(
            one({**OK, "Condition": {"StringEquals": {"acs:UserAgent": []}}}),
            "Statement[0].Condition.StringEquals.acs:UserAgent must not be an empty list",
            id="condition-values-empty",
        ),
        pytest.param(
            one({**OK, "Condition": {"StringEquals": {"acs:UserAgent": None}}}),
            "Statement[0].Condition.StringEquals.acs:UserAgent must be a string, number "
            "or boolean, got null",
            id="condition-value-null",
        ),
        pytest.param(
            one(
                {**OK, "Condition": {"IpAddress": {"acs:SourceIp": ["10.0.0.0/8", "10.0.0.0/33"]}}}
            ),
            "Statement[0].Condition.IpAddress.acs:SourceIp[1] is not an IP address or "
            'CIDR block: "10.0.0.0/33"',
            id="bad-cidr",
        ),
        pytest.param(
            one({**OK, "Condition": {"NotIpAddress": {"acs:SourceIp": "intranet"}}}),
            "Statement[0].Condition.NotIpAddress.acs:SourceIp is not an IP address or "
            'CIDR block: "intranet"',
            id="bad-ip",
        ),
        pytest.param(
            one({**OK, "Condition": {"Bool": {"acs:SecureTransport": "yes"}}}),
            'Statement[0].Condition.Bool.acs:SecureTransport must be "true" or "false", got "yes"',
            id="bad-bool",
        ),
    ],
)
def test_parse_policy_refuses_bad_documents(document: str | bytes, message: str) -> None:
    with pytest.raises(PolicyError) as caught:
        parse_policy(document)
    assert str(caught.value) == message


def test_policy_error_is_a_value_error() -> None:
    assert issubclass(PolicyError, ValueError)


def test_parse_policy_refuses_absurd_nesting_cleanly() -> None:
    with pytest.raises(PolicyError, match="not valid JSON"):
        parse_policy("[" * 100_000 + "]" * 100_000)


def test_parse_policy_refuses_huge_integers_cleanly() -> None:
    with pytest.raises(PolicyError, match="not valid JSON"):
        parse_policy('{"Version": ' + "1" * 5000 + "}")


def test_statement_needs_exactly_one_action_element_when_built_directly() -> None:
    with pytest.raises(PolicyError, match="exactly one of Action and NotAction"):
        Statement(effect=Effect.ALLOW, resources=("*",))
    with pytest.raises(PolicyError, match="exactly one of Resource and NotResource"):
        Statement(effect=Effect.ALLOW, actions=("oss:*",), resources=("*",), not_resources=("*",))


def test_condition_refuses_an_unknown_operator_when_built_directly() -> None:
    with pytest.raises(PolicyError, match="unknown condition operator 'NumericLessThan'"):
        Condition("NumericLessThan", "k", ("1",))
    with pytest.raises(PolicyError, match="IpAddress"):
        Condition("IpAddress", "acs:SourceIp", ("nope",))
