"""The layer rules (import-linter contracts in pyproject.toml) hold, and a broken one fails.

`make lint` runs lint-imports too; this keeps the rules in the test suite, and the second test
proves the check can fail: a copy of the tree with one forbidden import must be refused.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"
PACKAGES = ("bot", "commands", "storage", "providers", "slack_emulator")


def lint_imports(tree: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_every_layer_rule_holds() -> None:
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "BROKEN" not in result.stdout and " KEPT" in result.stdout


@pytest.mark.parametrize(
    ("module", "forbidden_import", "contract"),
    [
        (
            "bot/verification/codes.py",
            "import commands.ids",
            "the domain imports neither commands/ nor Slack",
        ),
        ("bot/tickets/note_text.py", "import slack_sdk", "the domain imports neither"),
        ("providers/sms/segments.py", "import bot.masking", "providers are leaves"),
        ("commands/ids.py", "import storage.models", "commands/ reach storage and providers"),
        ("commands/ids.py", "import bot.verification.codes", "only through its package"),
        ("slack_emulator/errors.py", "import bot.clock", "the Slack emulator knows nothing"),
        ("bot/delivery/phones.py", "import bot.verification", "do not import each other"),
    ],
)
def test_a_rule_broken_on_purpose_is_refused(
    tmp_path: Path, module: str, forbidden_import: str, contract: str
) -> None:
    for package in PACKAGES:
        shutil.copytree(
            ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    target = tmp_path / module
    target.write_text(target.read_text() + f"\n{forbidden_import}  # noqa\n")
    result = lint_imports(tmp_path)
    assert result.returncode != 0
    assert contract in result.stdout and "BROKEN" in result.stdout
