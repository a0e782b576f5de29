"""Hostile input, generated: text with NUL bytes, control characters, lone surrogates, huge
digit strings and Slack markup; JSON values of any shape; ways to break a payload."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import strategies as st

NASTY = [
    "\x00",
    "\ud800",
    "²",
    "٣",
    "<!channel>",
    "{{ 7*7 }}",
    "{% for x in y %}",
    "\u202e",
    "9" * 25,
    "9" * 5000,
    "%",
    "'; DROP TABLE contacts; --",
    "\r\n",
    "\x1b[31m",
    "|",
    "#",
    "@",
    "+1 513 555 7611",
]


def texts(*, surrogates: bool = True, max_size: int = 300) -> st.SearchStrategy[str]:
    """Any text, weighted towards what breaks things."""
    characters = st.characters() if surrogates else st.characters(exclude_categories=["Cs"])
    plain = st.text(characters, max_size=max_size)
    nasty = st.sampled_from([n for n in NASTY if surrogates or "\ud800" not in n])
    mixed = st.lists(st.one_of(plain, nasty), min_size=1, max_size=4).map("".join)
    return st.one_of(plain, nasty, mixed)


json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=False),
    texts(max_size=60),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(texts(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a value inside `value` (dict keys and list indexes)."""
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, item in value.items():
            found.extend(paths(item, (*prefix, key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found.extend(paths(item, (*prefix, index)))
    return found


def replaced(payload: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    copied = copy.deepcopy(payload)
    target: Any = copied
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return copied


def wrong_type(original: Any) -> st.SearchStrategy[Any]:
    """A value of another JSON type than `original` (a string where a dict was, …)."""
    options: list[st.SearchStrategy[Any]] = []
    if not isinstance(original, str):
        options.append(st.sampled_from(["", "x", "9" * 25]))
    if not isinstance(original, dict):
        options.append(
            st.dictionaries(st.sampled_from(["id", "value", "x"]), json_scalars, max_size=2)
        )
    if not isinstance(original, list):
        options.append(st.lists(json_scalars, max_size=2))
    if isinstance(original, str | dict | list) or original is None:
        options.append(st.integers(min_value=-(10**30), max_value=10**30))
    return st.one_of(options)


@st.composite
def broken(draw: st.DrawFn, payload: dict[str, Any]) -> dict[str, Any]:
    """`payload` broken in one place, in a way no Slack client produces: a wrong type, a NUL
    byte, a lone surrogate or an over-long string where a string was."""
    path = draw(st.sampled_from(paths(payload)))
    target: Any = payload
    for step in path:
        target = target[step]
    how = draw(
        st.sampled_from(
            ["type", "nul", "surrogate", "long"] if isinstance(target, str) else ["type"]
        )
    )
    if how == "type":
        value = draw(wrong_type(target))
    elif how == "nul":
        at = draw(st.integers(min_value=0, max_value=len(target)))
        value = target[:at] + "\x00" + target[at:]
    elif how == "surrogate":
        value = target + "\udc80"
    else:
        value = target + "9" * 4000
    return replaced(payload, path, value)
