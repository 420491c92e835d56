"""A small evaluator of AWS IAM policies: identity policies plus resource policies, one account.

Why it exists: moto enforces IAM only in part (tests/aws/test_iam_enforced.py says where), and no
package on PyPI evaluates a request against policy documents offline (policy_sentry writes
policies, parliament and cloudsplaining lint them, policyuniverse parses them; the one real
simulator, @cloud-copilot/iam-simulate, is on npm). So this implements the part of AWS's
evaluation logic our policies use, and tests/aws/test_iam_policy.py checks it on AWS's
documented examples:

- an explicit Deny in any policy wins; otherwise an Allow in an identity policy *or* in the
  resource's policy allows (same account); otherwise the implicit deny;
- Action/NotAction (case-insensitive, `*` and `?`), Resource/NotResource (`*` and `?`),
  Principal in resource policies (`*`, an ARN, or the account's root, which delegates to IAM
  and so allows nothing by itself);
- conditions: String(Not)Equals, String(Not)Like, Arn(Not)Equals/Like, Bool, Null,
  Numeric(Not)Equals/LessThan/GreaterThan, the IfExists suffix, ForAnyValue/ForAllValues, and
  the policy variables ${aws:userid}, ${aws:username}, ${aws:PrincipalAccount}.

Not implemented (none of our policies uses them): permission boundaries, SCPs, session
policies, cross-account rules, Date/IpAddress/Binary operators.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

Policy = Mapping[str, Any]
Context = Mapping[str, str | list[str] | bool]


@dataclass(frozen=True)
class Request:
    principal_arn: str  # arn:aws:sts::<account>:assumed-role/<role>/<session> or an IAM ARN
    action: str  # service:Operation as IAM spells it
    resource: str  # one ARN ("*" for actions without a resource)
    context: Context = field(default_factory=dict)


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str  # "allowed by <where>/<sid>", "explicitly denied by ...", "implicitly denied"


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _wildcard(pattern: str, value: str, ignore_case: bool = False) -> bool:
    """IAM's wildcards: `*` any run of characters, `?` one character; nothing else is special."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL) is not None


def _substitute(value: str, request: Request) -> str:
    """Policy variables ${...} from the request context (unknown variables stay as written)."""

    def replace(match: re.Match[str]) -> str:
        key = match.group(1)
        found = _context_value(request.context, key)
        return str(found[0]) if found else match.group(0)

    return re.sub(r"\$\{([^}]+)\}", replace, value)


def _context_value(context: Context, key: str) -> list[str] | None:
    for name, value in context.items():
        if name.lower() == key.lower():  # condition keys are case-insensitive
            return [str(v).lower() if isinstance(v, bool) else str(v) for v in _as_list(value)]
    return None


def _compare(base: str, expected: str, actual: str) -> bool:
    if base in ("StringEquals", "ArnEquals"):
        return actual == expected
    if base == "StringEqualsIgnoreCase":
        return actual.lower() == expected.lower()
    if base in ("StringLike", "ArnLike"):
        return _wildcard(expected, actual)
    if base == "Bool":
        return actual.lower() == expected.lower()
    if base.startswith("Numeric"):
        a, e = float(actual), float(expected)
        return {
            "NumericEquals": a == e,
            "NumericLessThan": a < e,
            "NumericLessThanEquals": a <= e,
            "NumericGreaterThan": a > e,
            "NumericGreaterThanEquals": a >= e,
        }[base]
    raise NotImplementedError(f"condition operator {base} is not implemented by this evaluator")


NEGATED = {
    "StringNotEquals": "StringEquals",
    "StringNotLike": "StringLike",
    "ArnNotEquals": "ArnEquals",
    "ArnNotLike": "ArnLike",
    "NumericNotEquals": "NumericEquals",
    "StringNotEqualsIgnoreCase": "StringEqualsIgnoreCase",
}


def _condition_holds(operator: str, key: str, expected: Any, request: Request) -> bool:
    qualifier = ""
    if ":" in operator:  # ForAnyValue:StringLike
        qualifier, operator = operator.split(":", 1)
    if_exists = operator.endswith("IfExists")
    base = operator.removesuffix("IfExists")
    actual = _context_value(request.context, key)
    expected_values = [
        _substitute(str(e).lower() if isinstance(e, bool) else str(e), request) for e in _as_list(expected)
    ]
    if base == "Null":  # "true": the key must be absent
        return (actual is None) == (expected_values[0].lower() == "true")
    if actual is None:
        # A missing key: IfExists and the negated operators hold; ForAllValues holds vacuously.
        return if_exists or base in NEGATED or qualifier == "ForAllValues"
    negated = base in NEGATED
    base = NEGATED.get(base, base)

    def matches(value: str) -> bool:
        return any(_compare(base, e, value) for e in expected_values)

    # ForAllValues: every value matches; ForAnyValue and single-valued keys: one does
    result = all(map(matches, actual)) if qualifier == "ForAllValues" else any(map(matches, actual))
    return not result if negated else result


def _conditions_hold(statement: Mapping[str, Any], request: Request) -> bool:
    for operator, keys in (statement.get("Condition") or {}).items():
        for key, expected in keys.items():
            if not _condition_holds(operator, key, expected, request):
                return False
    return True


def _principal_matches(statement: Mapping[str, Any], request: Request) -> bool:
    """Resource policies: does the statement name this principal? (The account root delegates to
    IAM: it matches nothing here, the identity policy must allow.)"""
    if "Principal" not in statement:
        return True  # an identity policy
    principal = statement["Principal"]
    if principal == "*":
        return True
    for arn in _as_list(principal.get("AWS", [])) if isinstance(principal, dict) else []:
        if arn == "*":
            return True
        role_arn = _role_arn(request.principal_arn)
        if arn in (request.principal_arn, role_arn):
            return True
    return False


def _role_arn(principal_arn: str) -> str:
    m = re.fullmatch(r"arn:([^:]+):sts::(\d+):assumed-role/([^/]+)/.+", principal_arn)
    return f"arn:{m.group(1)}:iam::{m.group(2)}:role/{m.group(3)}" if m else principal_arn


def statement_applies(statement: Mapping[str, Any], request: Request) -> bool:
    """Action, resource, principal and conditions all match (Effect aside)."""
    if "NotAction" in statement:
        if any(_wildcard(a, request.action, ignore_case=True) for a in _as_list(statement["NotAction"])):
            return False
    elif not any(_wildcard(a, request.action, ignore_case=True) for a in _as_list(statement.get("Action", []))):
        return False
    if "NotResource" in statement:
        if any(_wildcard(_substitute(r, request), request.resource) for r in _as_list(statement["NotResource"])):
            return False
    elif "Resource" in statement and not any(
        _wildcard(_substitute(r, request), request.resource) for r in _as_list(statement["Resource"])
    ):
        return False
    return _principal_matches(statement, request) and _conditions_hold(statement, request)


def _statements(policy: Policy) -> Iterable[Mapping[str, Any]]:
    return _as_list(policy.get("Statement", []))


def evaluate(
    request: Request,
    identity_policies: Mapping[str, Policy],
    resource_policies: Mapping[str, Policy] | None = None,
) -> Decision:
    """AWS's decision for one request. Policies are named (`name -> document`) so a decision says
    which statement decided it."""
    named = [(f"identity policy {n}", p) for n, p in identity_policies.items()]
    named += [(f"resource policy {n}", p) for n, p in (resource_policies or {}).items()]
    allowed_by = ""
    for where, policy in named:
        for statement in _statements(policy):
            if not statement_applies(statement, request):
                continue
            sid = statement.get("Sid", "(no Sid)")
            if statement.get("Effect") == "Deny":
                return Decision(False, f"explicitly denied by {where} statement {sid}")
            allowed_by = allowed_by or f"allowed by {where} statement {sid}"
    if allowed_by:
        return Decision(True, allowed_by)
    return Decision(False, "implicitly denied (no statement allows it)")
