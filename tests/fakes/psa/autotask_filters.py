"""The `filter` of the fake Autotask's queries (reference/vendor-apis.md §1.2).

Used by `POST /{Entity}/query`, `/query/count` and `/query/next`.

Reproduces: the operators `eq noteq gt gte lt lte beginsWith endsWith contains exist notExist
in notIn` and nested `and`/`or` groups; an unknown operator, an unknown field or a malformed
condition raises `QueryError`, which the fake answers with a 500 [obs]; at most 500 OR
conditions per query [doc]. Assumes: field names and string comparisons ignore case (SQL
Server collation); a numeric field equals a string of its digits.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

MAX_OR_CONDITIONS = 500

_OPERATORS = frozenset(
    {
        "eq",
        "noteq",
        "gt",
        "gte",
        "lt",
        "lte",
        "beginswith",
        "endswith",
        "contains",
        "exist",
        "notexist",
        "in",
        "notin",
    }
)


class QueryError(ValueError):
    """A query the real API would refuse with a 500 and an `errors` list."""


Matcher = Callable[[dict[str, Any]], bool]


def matching(records: list[dict[str, Any]], raw: bytes) -> list[dict[str, Any]]:
    """The `records` that a query body's `filter` (every condition of it) selects."""
    try:
        body = json.loads(raw or b"null")
    except ValueError as exc:
        raise QueryError("The query body is not JSON.") from exc
    if not isinstance(body, dict) or not isinstance(body.get("filter"), list):
        raise QueryError("A query needs a filter.")
    if not body["filter"]:
        raise QueryError("A query needs at least one filter condition.")
    sample = records[0] if records else None
    matchers = [compile_condition(c, sample) for c in body["filter"]]
    return [r for r in records if all(m(r) for m in matchers)]


def compile_condition(
    condition: Any, sample: dict[str, Any] | None, *, or_budget: list[int] | None = None
) -> Matcher:
    """One Autotask filter condition as a predicate; unknown operators and fields raise."""
    budget = or_budget if or_budget is not None else [MAX_OR_CONDITIONS]
    if not isinstance(condition, dict):
        raise QueryError("A filter condition must be an object.")
    op = str(condition.get("op", "")).lower()
    if op in ("and", "or"):
        items = condition.get("items")
        if not isinstance(items, list) or not items:
            raise QueryError(f"An '{op}' group needs items.")
        if op == "or":
            budget[0] -= len(items)
            if budget[0] < 0:
                raise QueryError("A query may have at most 500 OR conditions.")
        parts = [compile_condition(item, sample, or_budget=budget) for item in items]
        if op == "and":
            return lambda record: all(part(record) for part in parts)
        return lambda record: any(part(record) for part in parts)
    if op not in _OPERATORS:
        raise QueryError(f"Invalid operator '{condition.get('op')}'.")
    field = condition.get("field")
    if not isinstance(field, str):
        raise QueryError("A filter condition needs a field.")
    if sample is not None and not any(k.lower() == field.lower() for k in sample):
        raise QueryError(f"Unable to find {field} in the entity.")
    expected = condition.get("value")
    if op not in ("exist", "notexist") and "value" not in condition:
        raise QueryError(f"Operator '{op}' needs a value.")
    if op in ("in", "notin") and not isinstance(expected, list):
        raise QueryError(f"Operator '{op}' needs a list value.")

    def test(record: dict[str, Any]) -> bool:
        key = next((k for k in record if k.lower() == field.lower()), None)
        actual = record.get(key) if key is not None else None
        return _apply(op, actual, expected)

    return test


def _apply(op: str, actual: Any, expected: Any) -> bool:
    if op == "exist":
        return actual is not None and actual != ""
    if op == "notexist":
        return actual is None or actual == ""
    if op in ("in", "notin"):
        found = any(_equal(actual, option) for option in expected)
        return found if op == "in" else not found
    if op == "eq":
        return _equal(actual, expected)
    if op == "noteq":
        return not _equal(actual, expected)
    if actual is None:
        return False
    if op in ("beginswith", "endswith", "contains"):
        a, e = str(actual).casefold(), str(expected).casefold()
        if op == "beginswith":
            return a.startswith(e)
        if op == "endswith":
            return a.endswith(e)
        return e in a
    try:
        if op == "gt":
            return bool(actual > expected)
        if op == "gte":
            return bool(actual >= expected)
        if op == "lt":
            return bool(actual < expected)
        return bool(actual <= expected)
    except TypeError:
        return False


def _equal(actual: Any, expected: Any) -> bool:
    if isinstance(actual, str) and isinstance(expected, str):
        return actual.casefold() == expected.casefold()
    if isinstance(actual, bool) or isinstance(expected, bool):
        return bool(actual) == bool(expected) and actual is not None
    if isinstance(actual, int | float) and isinstance(expected, int | float):
        return float(actual) == float(expected)
    if isinstance(actual, int) and isinstance(expected, str) and expected.isdigit():
        return actual == int(expected)
    return bool(actual == expected)


def filter_of(raw: bytes) -> Any:
    """The `filter` of a query body, or None when it has none (so pages can be matched)."""
    try:
        body = json.loads(raw)
    except ValueError:
        return None
    return body.get("filter") if isinstance(body, dict) else None
