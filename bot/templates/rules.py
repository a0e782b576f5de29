"""What an admin-edited message template may contain: an allowlist over Jinja2's syntax tree.

The immutable sandbox stays underneath, but the sandbox alone is no security boundary
(Jinja's own docs; CVE-2024-56326, CVE-2025-27516). So templates are held to the small
language a PIN message needs: text, the documented variables, `{% if %}`, comparisons,
`~` and a few string filters with constant arguments. No attribute or item access, no
calls (`range(...)`, `.format(...)`), no loops, no arithmetic, no `{% set %}`, macros or
includes: nothing that reaches Python internals or burns CPU and memory. The same check
runs when a template is saved and again before it is ever rendered.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from jinja2 import Environment, TemplateSyntaxError, nodes

# The names a template may use, shown to admins in the template editor.
TEMPLATE_VARIABLES: dict[str, str] = {
    "code": "the one-time PIN (required in the SMS and email bodies)",
    "contact_first_name": "the caller's first name as on record",
    "contact_name": "the caller's full name as on record",
    "company": "the caller's company",
    "agent_name": "the name of the agent on the call",
    "organisation": "your organisation's name (PINVERIFY_ORG_NAME)",
    "expiry_minutes": "minutes until the code expires",
}

# Each keeps the output no longer than its input (plus truncate's "..."). `replace`, `center`,
# `indent` and the like are left out: chained, they grow a message without bound.
ALLOWED_FILTERS = frozenset({"upper", "lower", "title", "capitalize", "trim", "truncate"})

_PLAIN_NODES = (
    nodes.Template,
    nodes.Output,
    nodes.TemplateData,
    nodes.If,
    nodes.CondExpr,
    nodes.Concat,
    nodes.Compare,
    nodes.Operand,
    nodes.And,
    nodes.Or,
    nodes.Not,
)


@dataclass(frozen=True)
class TemplateProblem:
    line: int
    message: str

    def __str__(self) -> str:
        return f"Line {self.line}: {self.message}"


class TemplateRefused(Exception):
    """A template outside the allowed language; never rendered."""

    def __init__(self, problem: TemplateProblem) -> None:
        super().__init__(str(problem))
        self.problem = problem


# Deeper than any real message needs, shallow enough for Jinja's recursive compiler.
MAX_NESTING = 30
_TOO_DEEP = f"nested too deeply (at most {MAX_NESTING} levels of {{% if %}} and expressions)"


def parse_template(env: Environment, source: str) -> nodes.Template:
    """The syntax tree, or TemplateRefused naming the line of the syntax error."""
    try:
        return env.parse(source)
    except TemplateSyntaxError as exc:
        raise TemplateRefused(
            TemplateProblem(exc.lineno or 1, f"template syntax error: {exc.message}")
        ) from exc
    except RecursionError as exc:
        raise TemplateRefused(TemplateProblem(1, _TOO_DEEP)) from exc


def template_problems(tree: nodes.Template) -> list[TemplateProblem]:
    """Every construct outside the allowlist, in source order."""
    return list(_walk(tree, 0))


def require_allowed(env: Environment, source: str) -> nodes.Template:
    tree = parse_template(env, source)
    problems = template_problems(tree)
    if problems:
        raise TemplateRefused(problems[0])
    return tree


def has_top_level_code(tree: nodes.Template) -> bool:
    """`{{ code }}` printed unconditionally (not inside an `{% if %}`)."""
    for output in tree.body:
        if not isinstance(output, nodes.Output):
            continue
        for part in output.nodes:
            inner = part.node if isinstance(part, nodes.Filter) and part.node else part
            if isinstance(inner, nodes.Name) and inner.name == "code":
                return True
    return False


def _walk(node: nodes.Node, depth: int) -> Iterator[TemplateProblem]:
    line = getattr(node, "lineno", 1) or 1
    if depth > MAX_NESTING:
        yield TemplateProblem(line, _TOO_DEEP)
        return
    if isinstance(node, nodes.Name):
        if node.ctx != "load":
            yield TemplateProblem(line, f"assigning to `{node.name}` is not allowed")
        elif node.name not in TEMPLATE_VARIABLES:
            yield TemplateProblem(
                line,
                f"unknown variable `{node.name}`; available: {', '.join(TEMPLATE_VARIABLES)}",
            )
        return
    if isinstance(node, nodes.Const):
        if not isinstance(node.value, str | int | bool) and node.value is not None:
            yield TemplateProblem(line, "only text, whole numbers and true/false are allowed")
        return
    if isinstance(node, nodes.Filter):
        yield from _filter_problems(node, line, depth)
        return
    refusal = _refusal(node)
    if refusal is not None:
        yield TemplateProblem(line, refusal)
        return
    for child in node.iter_child_nodes():
        yield from _walk(child, depth + 1)


def _filter_problems(node: nodes.Filter, line: int, depth: int) -> Iterator[TemplateProblem]:
    if node.name not in ALLOWED_FILTERS:
        yield TemplateProblem(
            line,
            f"the `{node.name}` filter is not allowed; allowed filters: "
            f"{', '.join(sorted(ALLOWED_FILTERS))}",
        )
        return
    arguments = [*node.args, *(keyword.value for keyword in node.kwargs)]
    if (
        node.dyn_args is not None
        or node.dyn_kwargs is not None
        or not all(isinstance(argument, nodes.Const) for argument in arguments)
    ):
        yield TemplateProblem(line, f"the `{node.name}` filter takes plain constant arguments")
        return
    if node.node is not None:
        yield from _walk(node.node, depth + 1)


def _refusal(node: nodes.Node) -> str | None:
    """Why `node` is refused, or None when it is allowed and its children need checking."""
    if isinstance(node, _PLAIN_NODES):
        return None
    if isinstance(node, nodes.Getattr | nodes.Getitem):
        return (
            "attribute and item access (`.name`, `[...]`) is not allowed: use the variables "
            "as they are"
        )
    if isinstance(node, nodes.Call):
        return "function and method calls (`range(...)`, `.format(...)`) are not allowed"
    if isinstance(node, nodes.For):
        return "loops (`{% for %}`) are not allowed"
    if isinstance(node, nodes.BinExpr | nodes.UnaryExpr):
        return "arithmetic is not allowed; use `~` to join text"
    if isinstance(node, nodes.Test):
        return "tests (`is ...`) are not allowed"
    if isinstance(node, nodes.Literal):
        return "lists, tuples and dicts are not allowed"
    if isinstance(node, nodes.Assign | nodes.AssignBlock | nodes.With):
        return "`{% set %}` and `{% with %}` are not allowed: use the variables directly"
    if isinstance(node, nodes.Macro | nodes.CallBlock | nodes.FilterBlock | nodes.Block):
        return "macros, call and filter blocks and `{% block %}` are not allowed"
    if isinstance(node, nodes.Include | nodes.Import | nodes.FromImport | nodes.Extends):
        return "`{% include %}`, `{% import %}` and `{% extends %}` are not allowed"
    return f"`{type(node).__name__}` is not allowed; templates use text, variables and `{{% if %}}`"
