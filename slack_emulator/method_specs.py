"""Slack Web API method definitions, loaded from the JSON files shipped in `methods/`.

The files come from slack-ruby/slack-api-ref (MIT, see LICENSE next to this module). They
list each method's arguments with `required` flags and its documented errors, which is what
lets the emulator refuse the calls real Slack would refuse.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

METHODS_DIR = Path(__file__).resolve().parent / "methods"


@dataclass(frozen=True)
class MethodSpec:
    """One Web API method as documented: its arguments and the errors it may return."""

    name: str
    arguments: frozenset[str]
    required_arguments: tuple[str, ...]
    errors: frozenset[str]

    @classmethod
    def from_json(cls, document: dict[str, Any]) -> MethodSpec:
        args: dict[str, dict[str, Any]] = document.get("args") or {}
        # `token` is listed as required by some definitions, but it travels in the
        # Authorization header too; authentication is checked separately.
        required = tuple(
            name for name, spec in args.items() if spec.get("required") and name != "token"
        )
        return cls(
            name=str(document["name"]),
            arguments=frozenset(args),
            required_arguments=required,
            errors=frozenset((document.get("errors") or {}).keys()),
        )


@functools.cache
def load_method_specs(directory: Path = METHODS_DIR) -> dict[str, MethodSpec]:
    """Every method definition in `directory`, keyed by method name (read once, cached)."""
    specs: dict[str, MethodSpec] = {}
    for path in sorted(directory.glob("*.json")):
        spec = MethodSpec.from_json(json.loads(path.read_text(encoding="utf-8")))
        specs[spec.name] = spec
    return specs
