"""Every PSA wired from its environment variables alone: /verify #ticket → send → internal note."""

from __future__ import annotations

import pytest

from slack_emulator import message_text
from tests.providers.crm.harnesses import HARNESSES, Harness
from tests.support.bot import AGENT, BotFactory


@pytest.mark.parametrize("harness", HARNESSES, ids=lambda h: h.__name__.split("_")[-1])
async def test_each_psa_from_env_tags_and_notes(running_bot: BotFactory, harness: Harness) -> None:
    async with harness() as fake:
        company = fake.add_company("Globex")
        jane = fake.add_contact(
            name="Jane Doe",
            company_ref=company,
            phone="(513) 555-7611",
            email="jane.doe@globex.example",
        )
        number = fake.add_ticket(summary="Password reset", contact_ref=jane, company_ref=company)
        async with running_bot(env=fake.env()) as bot:
            card = await bot.open_card(f"#{number}")
            await bot.driver.wait_for(lambda: bot.driver.ephemeral_messages(AGENT))
            assert f"#{number}" in message_text(card) and "Jane Doe" in message_text(card)
            await bot.driver.click(AGENT, card, "Send email")
            await bot.wait_text(card, "Code #1 sent by *email* to j•••@globex.example")
            (code,) = await bot.console_codes()
            (note,) = await bot.driver.wait_for(lambda: fake.notes(number))
            assert note.internal is True
            assert note.text.startswith("PIN sent by email to j•••@globex.example by alice.")
            assert f"Code: {code}" in note.text
            await bot.wait_text(card, "Ticket note: written")
