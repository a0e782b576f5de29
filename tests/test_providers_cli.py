"""`pinverify providers check` and `providers webhooks`, run as an operator runs them."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest

from bot.runtime.cli import main
from bot.runtime.report_routes import webhook_token
from tests.fakes.sendgrid import FakeSendGrid
from tests.fakes.smtp import running_smtp_server
from tests.fakes.twilio import TEST_FROM_NUMBER, FakeTwilio
from tests.fakes.vonage import FakeVonage
from tests.support.asgi import running_server

ROOT = Path(__file__).resolve().parent.parent
KEY = "cli-secret-key-0123456789abcdefghijklmn"


async def run_check(workdir: Path, env: dict[str, str]) -> tuple[int, list[str]]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.runtime.cli",
        "providers",
        "check",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT), **env},
        cwd=workdir,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode is not None
    assert "Traceback" not in stderr.decode(), stderr.decode()
    return process.returncode, stdout.decode().splitlines()


async def test_providers_check_gives_one_verdict_per_provider_and_sends_nothing(
    tmp_path: Path,
) -> None:
    twilio, vonage, sendgrid = FakeTwilio(), FakeVonage(), FakeSendGrid()
    async with (
        running_server(twilio.asgi_app()) as twilio_url,
        running_server(vonage.asgi_app()) as vonage_url,
        running_server(sendgrid.asgi_app()) as sendgrid_url,
        running_smtp_server(username="desk", password="s3cret") as smtp,
    ):
        env = {
            "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/check.db",
            "SMS_PROVIDER": "twilio",
            "TWILIO_ACCOUNT_SID": twilio.account_sid,
            "TWILIO_AUTH_TOKEN": twilio.auth_token,
            "TWILIO_FROM_NUMBER": TEST_FROM_NUMBER,
            "TWILIO_API_URL": twilio_url + "/",
            "VONAGE_API_KEY": vonage.api_key,
            "VONAGE_API_SECRET": vonage.api_secret,
            "VONAGE_FROM": "AcmeIT",
            "VONAGE_API_URL": vonage_url + "/",
            "EMAIL_PROVIDER": "sendgrid",
            "SENDGRID_API_KEY": sendgrid.api_key,
            "SENDGRID_API_URL": sendgrid_url + "/",
            "SMTP_URL": f"smtp://desk:s3cret@{smtp.host}:{smtp.port}?starttls=false",
            "EMAIL_FROM": "helpdesk@msp.example",
        }
        code, lines = await run_check(tmp_path, env)
        assert code == 0, lines
        assert lines == [
            "Twilio (SMS, default): OK — Twilio accepted the credentials",
            "Vonage (SMS): OK — Vonage accepted the credentials",
            "SMTP (email): OK — SMTP accepted the credentials",
            "SendGrid (email, default): OK — SendGrid accepted the credentials",
            "4 provider(s) checked, 0 failed; nothing was sent.",
        ]
        # One wrong secret: that provider fails with its reason, the others still pass.
        code, lines = await run_check(tmp_path, {**env, "VONAGE_API_SECRET": "wrong-secret"})
        assert code == 1
        (vonage_line,) = [line for line in lines if line.startswith("Vonage")]
        assert vonage_line.startswith("Vonage (SMS): FAILED — ")
        assert "VONAGE_API_KEY and VONAGE_API_SECRET" in vonage_line
        assert "wrong-secret" not in "\n".join(lines)
        assert lines[-1] == "4 provider(s) checked, 1 failed; nothing was sent."
    assert twilio.messages == [] and vonage.messages == [] and sendgrid.messages == []
    assert smtp.messages == []


def test_providers_webhooks_prints_the_urls_to_configure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["providers", "webhooks"]) == 2
    assert "set PINVERIFY_PUBLIC_URL and PINVERIFY_SECRET_KEY" in capsys.readouterr().err
    for name, value in {
        "PINVERIFY_PUBLIC_URL": "https://pin.example.org",
        "PINVERIFY_SECRET_KEY": KEY,
        "TWILIO_ACCOUNT_SID": "AC123",
        "TWILIO_AUTH_TOKEN": "token",
        "TWILIO_FROM_NUMBER": TEST_FROM_NUMBER,
        "SENDGRID_API_KEY": "SG.key",
        "EMAIL_FROM": "helpdesk@msp.example",
    }.items():
        monkeypatch.setenv(name, value)
    assert main(["providers", "webhooks"]) == 0
    token = webhook_token(KEY.encode(), "sendgrid")
    assert capsys.readouterr().out.splitlines() == [
        "Twilio: https://pin.example.org/webhooks/twilio/status (sent as StatusCallback with "
        "every SMS; nothing to set at Twilio)",
        f"SendGrid: https://pin.example.org/webhooks/sendgrid/events/{token} (set this in the "
        "vendor's webhook settings)",
    ]
