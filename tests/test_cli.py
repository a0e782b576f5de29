"""The `pinverify` command as an operator uses it."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from pathlib import Path

import httpx
import pytest

from bot.runtime.cli import main
from storage.db import Database, make_engine

PINVERIFY = [sys.executable, "-m", "bot.runtime.cli"]


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    # load_settings() reads ./.env: never let a developer's own file into a test.
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_contacts_import_reports_bad_lines_and_imports_the_rest(
    workdir: Path,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    csv = workdir / "contacts.csv"
    csv.write_text(
        "name,email,phone,company,external_id\n"
        "Jane Doe,jane@globex.example,513-555-7611,Globex,c1\n"
        "Broken,,12,Globex,c2\n"
        "John Roe,john@globex.example,,Globex,c3\n"
    )
    assert main(["contacts", "import", str(csv)]) == 1
    out, err = capsys.readouterr()
    assert out == "imported 2 contact(s): 2 new, 0 updated; 1 row(s) skipped\n"
    assert err.startswith(f"{csv}: line 3: phone '12' is not")
    csv.write_text("name,email,phone,company,external_id\nJane Doe,jane@new.example,,NewCo,c1\n")
    assert main(["contacts", "import", str(csv)]) == 0
    assert capsys.readouterr().out == "imported 1 contact(s): 0 new, 1 updated\n"


def test_unreadable_file_is_a_clear_error(
    workdir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{workdir}/x.db")
    assert main(["contacts", "import", str(workdir / "missing.csv")]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_manifest_prints_the_url(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["manifest", "--url", "https://pin.example.org"]) == 0
    out = capsys.readouterr().out
    assert "request_url: https://pin.example.org/slack/events" in out


def test_db_upgrade(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{workdir}/x.db")
    assert main(["db", "upgrade"]) == 0
    assert capsys.readouterr().out == "database schema is up to date\n"
    assert (workdir / "x.db").stat().st_size > 0


async def test_bad_configuration_stops_start_up_with_one_line(workdir: Path) -> None:
    process = await asyncio.create_subprocess_exec(
        *PINVERIFY,
        "serve",
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "PINVERIFY_CODE_LENGTH": "twelve", "PYTHONPATH": str(Path.cwd())},
        cwd=workdir,
    )
    _, stderr = await asyncio.wait_for(process.communicate(), timeout=30)
    assert process.returncode == 2
    assert stderr.decode().splitlines() == [
        "pinverify: configuration error: PINVERIFY_CODE_LENGTH: Input should be a valid "
        "integer, unable to parse string as an integer (got 'twelve')"
    ]


async def test_serve_without_slack_starts_the_sandbox_and_prints_one_line(workdir: Path) -> None:
    root = Path(__file__).resolve().parent.parent
    process = await asyncio.create_subprocess_exec(
        *PINVERIFY,
        "serve",
        "--port",
        "0",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(root)},
        cwd=workdir,
    )
    assert process.stdout is not None and process.stderr is not None
    try:
        line = (await asyncio.wait_for(process.stdout.readline(), timeout=30)).decode()
        match = re.fullmatch(r"PIN Verify sandbox: (http://127\.0\.0\.1:\d+)/sandbox\n", line)
        assert match, line
        address = match.group(1)
        async with httpx.AsyncClient() as client:
            page = await client.get(f"{address}/sandbox")
            health = await client.get(f"{address}/healthz")
            # The app now has a (generated) signing secret: unsigned requests are refused.
            events = await client.post(f"{address}/slack/events", content=b"x")
            state = (await client.get(f"{address}/sandbox/api/state")).json()
        assert page.status_code == 200 and "<title>PIN Verify sandbox</title>" in page.text
        assert health.json() == {"status": "ok"}
        assert events.status_code == 401
        assert [c["name"] for c in state["conversations"]] == ["PIN Verify", "supervisors"]
    finally:
        process.send_signal(signal.SIGINT)
        _, stderr = await asyncio.wait_for(process.communicate(), timeout=15)
    assert process.returncode == 0
    # Nothing but the one line, even on the way out; only our unsigned request got logged.
    logged = stderr.decode().splitlines()
    assert all("Invalid request signature" in line for line in logged), logged


async def test_serve_without_slack_and_sandbox_says_what_is_missing(workdir: Path) -> None:
    root = Path(__file__).resolve().parent.parent
    process = await asyncio.create_subprocess_exec(
        *PINVERIFY,
        "serve",
        "--port",
        "0",
        "--no-sandbox",
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(root)},
        cwd=workdir,
    )
    assert process.stderr is not None
    lines: list[str] = []
    try:
        address = None
        while address is None:
            line = (await asyncio.wait_for(process.stderr.readline(), timeout=30)).decode()
            assert line, "".join(lines)
            lines.append(line)
            if match := re.search(r"listening on (http://\S+)", line):
                address = match.group(1)
        # the warnings come right after the address line
        for _ in range(2):
            lines.append((await asyncio.wait_for(process.stderr.readline(), timeout=10)).decode())
        output = "".join(lines)
        assert "Slack is not configured: SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET" in output
        assert "Still working: GET /healthz" in output
        assert "console providers are on" in output
        async with httpx.AsyncClient() as client:
            health = await client.get(f"{address}/healthz")
            events = await client.post(f"{address}/slack/events", content=b"x")
        assert health.json() == {"status": "ok"}
        assert events.status_code == 503
        assert (workdir / "pinverify.db").exists()
    finally:
        process.send_signal(signal.SIGINT)
        await asyncio.wait_for(process.wait(), timeout=15)
    assert process.returncode == 0


async def test_a_taken_port_exits_1_with_the_reason_and_no_traceback(workdir: Path) -> None:
    import socket

    root = Path(__file__).resolve().parent.parent
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        process = await asyncio.create_subprocess_exec(
            *PINVERIFY,
            "serve",
            "--port",
            str(taken.getsockname()[1]),
            stderr=asyncio.subprocess.PIPE,
            env={**os.environ, "PYTHONPATH": str(root)},
            cwd=workdir,
        )
        _, stderr = await asyncio.wait_for(process.communicate(), timeout=30)
    assert process.returncode == 1
    assert "address already in use" in stderr.decode()
    assert "Traceback" not in stderr.decode()


async def _contact_names(database_url: str) -> list[str]:
    from sqlalchemy import select
    from sqlmodel import col

    from storage.models import Contact

    db = Database(make_engine(database_url))
    try:
        async with db.transaction() as session:
            return sorted((await session.scalars(select(col(Contact.name)))).all())
    finally:
        await db.dispose()


def test_a_nul_byte_in_one_row_skips_only_that_row(
    workdir: Path,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Issue 11, finding 3: on PostgreSQL one NUL used to abort the whole import."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    csv = workdir / "contacts.csv"
    csv.write_text(
        "name,email,phone,company,external_id\n"
        "Jane Doe,jane@globex.example,,Globex,c1\n"
        "Ja\x00ne Roe,roe@globex.example,,Glo\x00bex,c2\n"
        "John Roe,john@globex.example,,Globex,c3\n"
    )
    assert main(["contacts", "import", str(csv)]) == 1
    out, err = capsys.readouterr()
    assert out == "imported 2 contact(s): 2 new, 0 updated; 1 row(s) skipped\n"
    assert err == f"{csv}: line 3: name contains a NUL byte\n"
    assert asyncio.run(_contact_names(database_url)) == ["Jane Doe", "John Roe"]


def test_an_over_long_name_is_reported_with_its_line_not_cut(
    workdir: Path,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Issue 11, finding 11: a 100,000-character name used to be cut to 200 silently."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    csv = workdir / "contacts.csv"
    csv.write_text(
        "name,email,phone,company,external_id\n"
        f"{'N' * 100_000},long@globex.example,,Globex,c1\n"
        f"{'M' * 200},max@globex.example,,{'C' * 201},c2\n"
        f"{'O' * 200},ok@globex.example,,Globex,c3\n"
    )
    assert main(["contacts", "import", str(csv)]) == 1
    out, err = capsys.readouterr()
    assert out == "imported 1 contact(s): 1 new, 0 updated; 2 row(s) skipped\n"
    assert err.splitlines() == [
        f"{csv}: line 2: name is 100,000 characters long; at most 200 fit",
        f"{csv}: line 3: company is 201 characters long; at most 200 fit",
    ]
    assert asyncio.run(_contact_names(database_url)) == ["O" * 200]
