"""The query language of the fake ConnectWise's list endpoints: `conditions`,
`childConditions` and `orderBy` (reference/vendor-apis.md §1.1).

Reproduces [doc]: comparisons `= != < <= > >= like contains in` (each may be negated with
`not`), `and`/`or` with parentheses, quoted strings with backslash escapes, numbers,
`[dates]`, `true`/`false`/`null`, and slash paths into nested objects; a malformed
condition, an unknown field or a bad `orderBy` raises `ConditionError`, which the fake
answers with 400 InvalidObject. Assumes: field names and string comparisons are
case-insensitive (SQL Server's default collation); a `childConditions` expression matches
when one element of its array satisfies all of it.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


class ConditionError(ValueError):
    """A query the real API would refuse with 400 InvalidObject."""


_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>"(?:[^"\\]|\\.)*")
      | (?P<date>\[[^\]]*\])
      | (?P<op><=|>=|!=|=|<|>)
      | (?P<punct>[(),])
      | (?P<number>-?\d+(?:\.\d+)?)(?![\w/])
      | (?P<word>[A-Za-z_][\w/]*)
    )""",
    re.VERBOSE,
)
_MISSING = object()

Matcher = Callable[[dict[str, Any]], bool]


@dataclass
class _Token:
    kind: str
    text: str


def _tokens(source: str) -> list[_Token]:
    tokens: list[_Token] = []
    position = 0
    source = source.rstrip()
    while position < len(source):
        match = _TOKEN.match(source, position)
        if match is None or match.end() == position:
            raise ConditionError(f"cannot parse the condition near {source[position:][:20]!r}")
        kind = match.lastgroup or ""
        tokens.append(_Token(kind, match.group(kind)))
        position = match.end()
    return tokens


def parse_conditions(source: str, sample: dict[str, Any] | None, *, child: bool = False) -> Matcher:
    """Compile a ConnectWise condition string into a predicate over a record's JSON.

    Fields are checked against `sample` (a record of the listed kind), so a misspelt field is a
    400, as on ConnectWise. With `child=True` every field must go through one array (e.g.
    `communicationItems/value`), and a record matches when one element satisfies the whole.
    """
    tokens = _tokens(source)
    position = 0

    def peek() -> _Token | None:
        return tokens[position] if position < len(tokens) else None

    def take() -> _Token:
        nonlocal position
        if position >= len(tokens):
            raise ConditionError("the condition ends too early")
        position += 1
        return tokens[position - 1]

    def keyword(token: _Token | None, *words: str) -> bool:
        return token is not None and token.kind == "word" and token.text.lower() in words

    def value() -> Any:
        token = take()
        if token.kind == "string":
            return re.sub(r"\\(.)", r"\1", token.text[1:-1])
        if token.kind == "number":
            return float(token.text)
        if token.kind == "date":
            return token.text[1:-1]
        if keyword(token, "true", "false"):
            return token.text.lower() == "true"
        if keyword(token, "null"):
            return None
        raise ConditionError(f"expected a value, found {token.text!r}")

    fields: list[str] = []

    def comparison() -> Matcher:
        token = take()
        if token.kind != "word" or keyword(token, "and", "or", "not", "like", "contains", "in"):
            raise ConditionError(f"expected a field name, found {token.text!r}")
        field = token.text
        fields.append(field)
        negate = False
        if keyword(peek(), "not"):
            take()
            negate = True
        op_token = take()
        op = op_token.text.lower()
        if op_token.kind not in ("op", "word") or op not in {
            "=",
            "!=",
            "<",
            "<=",
            ">",
            ">=",
            "like",
            "contains",
            "in",
        }:
            raise ConditionError(f"unknown operator {op_token.text!r}")
        if op == "in":
            if take().text != "(":
                raise ConditionError("in needs a parenthesised list")
            options = [value()]
            while (token := take()).text == ",":
                options.append(value())
            if token.text != ")":
                raise ConditionError("unclosed in list")

            def test(item: dict[str, Any]) -> bool:
                actual = _resolve(item, field)
                return negate != any(_equal(actual, option) for option in options)

            return test
        expected = value()

        def compare(item: dict[str, Any]) -> bool:
            return negate != _compare(_resolve(item, field), op, expected)

        return compare

    def factor() -> Matcher:
        if (token := peek()) is not None and token.text == "(":
            take()
            inner = expression()
            if take().text != ")":
                raise ConditionError("unbalanced parentheses")
            return inner
        return comparison()

    def term() -> Matcher:
        parts = [factor()]
        while keyword(peek(), "and"):
            take()
            parts.append(factor())
        return lambda item: all(part(item) for part in parts)

    def expression() -> Matcher:
        parts = [term()]
        while keyword(peek(), "or"):
            take()
            parts.append(term())
        return lambda item: any(part(item) for part in parts)

    matcher = expression()
    if position != len(tokens):
        raise ConditionError(f"unexpected {tokens[position].text!r}")
    if not child:
        for field in fields:
            if sample is not None and _resolve(sample, field) is _MISSING:
                raise ConditionError(f"{field} is not a known field")
        return matcher
    roots = {field.split("/", 1)[0] for field in fields}
    if len(roots) != 1 or any("/" not in field for field in fields):
        raise ConditionError("childConditions must all refer to one array field")
    root = roots.pop()
    if sample is not None:
        elements = sample.get(root)
        if not isinstance(elements, list):
            raise ConditionError(f"{root} is not an array field")

    def child_matcher(item: dict[str, Any]) -> bool:
        elements = item.get(root) or []
        return any(matcher({root: element}) for element in elements if isinstance(element, dict))

    return child_matcher


def _resolve(item: dict[str, Any], path: str) -> Any:
    current: Any = item
    for part in path.split("/"):
        if not isinstance(current, dict):
            return None if current is None else _MISSING
        # Field names are case-insensitive in ConnectWise conditions.
        key = next((k for k in current if k.lower() == part.lower()), None)
        if key is None:
            return _MISSING
        current = current[key]
    return current


def _equal(actual: Any, expected: Any) -> bool:
    if isinstance(actual, str) and isinstance(expected, str):
        return actual.casefold() == expected.casefold()
    if isinstance(actual, bool) or isinstance(expected, bool):
        return actual is expected
    if isinstance(actual, int | float) and isinstance(expected, int | float):
        return float(actual) == float(expected)
    return bool(actual == expected)


def _compare(actual: Any, op: str, expected: Any) -> bool:
    if actual is _MISSING:
        return False
    if op == "=":
        return _equal(actual, expected)
    if op == "!=":
        return not _equal(actual, expected)
    if op in ("like", "contains"):
        if not isinstance(actual, str) or not isinstance(expected, str):
            return False
        if op == "contains":
            return expected.casefold() in actual.casefold()
        pattern = "".join(".*" if ch in "%*" else re.escape(ch) for ch in expected.casefold())
        return re.fullmatch(pattern, actual.casefold(), re.DOTALL) is not None
    if actual is None or expected is None:
        return False
    try:
        if op == "<":
            return bool(actual < expected)
        if op == "<=":
            return bool(actual <= expected)
        if op == ">":
            return bool(actual > expected)
        return bool(actual >= expected)
    except TypeError:
        return False


def ordered_by(items: list[dict[str, Any]], order_by: str | None) -> list[dict[str, Any]]:
    """`items` sorted by an `orderBy` value (`field [asc|desc], …`), nulls first."""
    if not order_by:
        return items
    for clause in reversed([c.strip() for c in order_by.split(",") if c.strip()]):
        field, _, direction = clause.partition(" ")
        if direction.strip().lower() not in ("", "asc", "desc"):
            raise ConditionError(f"bad orderBy direction in {clause!r}")
        if items and _resolve(items[0], field) is _MISSING:
            raise ConditionError(f"{field} is not a known field for orderBy")
        items = sorted(
            items,
            key=functools.partial(_field_sort_key, field),
            reverse=direction.strip().lower() == "desc",
        )
    return items


def _field_sort_key(field: str, item: dict[str, Any]) -> tuple[int, Any]:
    return _sort_key(_resolve(item, field))


def _sort_key(value: Any) -> tuple[int, Any]:
    if value is None or value is _MISSING:
        return (0, "")
    if isinstance(value, str):
        return (1, value.casefold())
    if isinstance(value, int | float):
        return (2, float(value))
    return (3, str(value))
