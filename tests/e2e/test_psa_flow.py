"""End to end with a PSA: the real app over HTTP, the Slack emulator and the ConnectWise fake.

/verify #ticket, ticket notes (text, internal flag, idempotency, outages, restarts), the
require-ticket rule, tagging and creating tickets, pick lists and inactive contacts.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from urllib.parse import urlencode

import pytest

from bot.clock import ManualClock
from bot.outbox.kinds import OutboxKind
from commands.card.views import EDIT_MENU_TEXT
from commands.ids import ActionId
from slack_emulator import Message, find_button_labels, message_text
from storage.models import OutboxMessage
from tests.fakes.psa.connectwise import FakeConnectWise, running_fake_connectwise
from tests.support import queries
from tests.support.bot import AGENT, BotFactory, RunningBot

CODE_BOX = "Code the caller reads back"
TICKET_BOX = "Ticket number"


@dataclass
class Seeded:
    fake: FakeConnectWise
    globex: str
    initech: str
    jane: str
    jane_ticket: str
    initech_ticket: str
    orphan_ticket: str
    inactive_ticket: str


@pytest.fixture
async def psa() -> AsyncIterator[Seeded]:
    async with running_fake_connectwise() as fake:
        globex = fake.add_company("Globex")
        initech = fake.add_company("Initech")
        jane = fake.add_contact(
            name="Jane Doe",
            company_ref=globex,
            phone="(513) 555-7611",
            email="jane.doe@globex.example",
        )
        pat = fake.add_contact(name="Jane Roe", company_ref=initech, phone="(513) 555-0199")
        gone = fake.add_contact(
            name="Jane Gone", company_ref=globex, phone="(513) 555-0142", active=False
        )
        yield Seeded(
            fake=fake,
            globex=globex,
            initech=initech,
            jane=jane,
            jane_ticket=fake.add_ticket(
                summary="Password reset", contact_ref=jane, company_ref=globex
            ),
            initech_ticket=fake.add_ticket(
                summary="Printer on fire", contact_ref=pat, company_ref=initech
            ),
            orphan_ticket=fake.add_ticket(summary="Alert", contact_ref=None, company_ref=globex),
            inactive_ticket=fake.add_ticket(
                summary="Old laptop", contact_ref=gone, company_ref=globex
            ),
        )


async def open_card(bot: RunningBot, text: str) -> Message:
    """Open the card and wait for the reply the bot sends once the card is fully attached
    (a click racing ahead of that would find no card to redraw)."""
    before = len(bot.driver.ephemeral_messages(AGENT))
    card = await bot.open_card(text)
    await bot.driver.wait_for(
        lambda: any(
            "Opened the verification card" in m.text
            for m in bot.driver.ephemeral_messages(AGENT)[before:]
        )
    )
    return card


async def send_sms(bot: RunningBot, card: Message) -> str:
    await bot.driver.click(AGENT, card, "Send SMS")
    await bot.wait_text(card, "Code #1 sent by *SMS*")
    codes = await bot.console_codes()
    return codes[-1]


async def note_rows(bot: RunningBot, kind: str = OutboxKind.TICKET_NOTE) -> list[OutboxMessage]:
    async with bot.runtime.db.transaction() as session:
        return list(await queries.list_outbox_messages(session=session, kind=kind))


async def wait_rows(
    bot: RunningBot, check: Callable[[list[OutboxMessage]], object], timeout: float = 5.0
) -> list[OutboxMessage]:
    """Poll the outbox until `check(rows)` holds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        rows = await note_rows(bot)
        if check(rows):
            return rows
        if loop.time() > deadline:
            raise TimeoutError([(r.status, r.attempts, r.last_error) for r in rows])
        await asyncio.sleep(0.02)


async def test_verify_ticket_then_send_and_close_write_internal_notes(
    running_bot: BotFactory, psa: Seeded, caplog: pytest.LogCaptureFixture
) -> None:
    fake, number = psa.fake, psa.jane_ticket
    async with running_bot(env=fake.env()) as bot:
        card = await open_card(bot, f"#{number}")
        text = message_text(card)
        assert "Verify caller: Jane Doe" in text and "Globex" in text
        assert f"#{number}" in text and "Password reset" in text
        assert find_button_labels(card) == ["Tag ticket", "Create ticket", "Send SMS", "Send email"]
        (reply,) = await bot.driver.wait_for(lambda: bot.driver.ephemeral_messages(AGENT))
        assert f"Ticket #{number} is tagged" in reply.text

        code = await send_sms(bot, card)
        (note,) = await bot.driver.wait_for(lambda: fake.notes(number))
        assert note.internal is True
        assert note.text.startswith("PIN sent by SMS to +1 ••• ••• 7611 by alice.")
        assert f"Code: {code}" in note.text
        assert "5557611" not in note.text
        (posted,) = [n for n in fake.stored_notes if n.ticket_ref == number]
        assert posted.raw["internalAnalysisFlag"] is True
        assert posted.raw["detailDescriptionFlag"] is False
        await bot.wait_text(card, "Ticket note: written")

        await bot.driver.click(AGENT, card, "Check code", inputs={CODE_BOX: code})
        await bot.wait_text(card, "Code verified")
        await bot.driver.click(AGENT, card, "Completed")
        await bot.wait_text(card, "Closed as Completed")
        notes = await bot.driver.wait_for(
            lambda: fake.notes(number) if len(fake.notes(number)) == 2 else None
        )
        closing = notes[1]
        assert closing.internal is True
        assert closing.text.startswith("PIN verification Completed: code verified.")
        for line in (
            "Check result: code verified",
            "Attempts: 0 wrong of 5 allowed; 1 send",
            "Agent: alice",
            "Method: SMS to +1 ••• ••• 7611",
            "Destination edited: no",
            "Times: opened ",
        ):
            assert line in closing.text
        assert code not in closing.text and "5557611" not in closing.text
        await bot.wait_text(card, "Ticket note: written")
        rows = await note_rows(bot)
        assert [r.status for r in rows] == ["delivered", "delivered"]
        # Delivered notes are scrubbed: the database keeps no copy of the code.
        assert all("text" not in r.payload for r in rows)
        assert code not in json.dumps([r.payload for r in rows])
    # The code went to the PSA (policy "include") but never to a log, Slack or a channel.
    assert code not in caplog.text
    for call in bot.emulator.calls:
        assert code not in str(call.args)


async def test_code_is_left_out_of_the_note_when_the_policy_says_omit(
    running_bot: BotFactory, psa: Seeded
) -> None:
    fake, number = psa.fake, psa.jane_ticket
    env = {**fake.env(), "PINVERIFY_CODE_IN_TICKET_NOTE": "omit"}
    async with running_bot(env=env) as bot:
        card = await open_card(bot, f"#{number}")
        code = await send_sms(bot, card)
        (note,) = await bot.driver.wait_for(lambda: fake.notes(number))
        assert note.text.startswith("PIN sent by SMS to +1 ••• ••• 7611 by alice.")
        assert code not in note.text
        assert "Code: not recorded (policy: codes are omitted from ticket notes)" in note.text
        (row,) = await note_rows(bot)
        assert code not in json.dumps(row.payload)


async def test_require_ticket_refuses_sends_until_a_ticket_is_tagged(
    running_bot: BotFactory, psa: Seeded
) -> None:
    fake = psa.fake
    env = {**fake.env(), "PINVERIFY_REQUIRE_TICKET": "true"}
    async with running_bot(env=env) as bot:
        card = await open_card(bot, "+1 513 555 7611")
        assert "A ticket is required" in message_text(card)
        await bot.driver.click(AGENT, card, "Send SMS")
        await bot.wait_text(card, "A ticket is required before sending a code")
        await bot.driver.click(AGENT, card, "Send email")
        await bot.driver.wait_for(lambda: len(bot.emulator.calls_to("chat.update")) >= 2)
        await asyncio.sleep(0.1)
        assert await bot.console_codes() == []
        async with bot.runtime.db.transaction() as session:
            events = [e.kind for e in await queries.list_audit_events(session=session)]
        assert "code_send_requested" not in events

        await bot.driver.click(
            AGENT, card, "Tag ticket", inputs={TICKET_BOX: f"#{psa.jane_ticket}"}
        )
        await bot.wait_text(card, f"Tagged ticket #{psa.jane_ticket}.")
        assert "A ticket is required" not in message_text(card)
        await send_sms(bot, card)
        assert len(await bot.console_codes()) == 1


async def test_tagging_checks_the_ticket_exists_and_belongs_to_the_company(
    running_bot: BotFactory, psa: Seeded
) -> None:
    async with running_bot(env=psa.fake.env()) as bot:
        card = await open_card(bot, "jane.doe@globex.example")
        await bot.driver.click(AGENT, card, "Tag ticket", inputs={TICKET_BOX: psa.initech_ticket})
        text = await bot.wait_text(card, "belongs to another company")
        assert f"Ticket #{psa.initech_ticket} belongs to another company, not Globex" in text
        await bot.driver.click(AGENT, card, "Tag ticket", inputs={TICKET_BOX: "#999999"})
        await bot.wait_text(card, "No ticket #999999 in ConnectWise")
        await bot.driver.click(AGENT, card, "Tag ticket", inputs={TICKET_BOX: "twelve"})
        await bot.wait_text(card, "is not a ticket number")
        assert "🎫 *Ticket*" not in json.dumps(card.blocks, ensure_ascii=False)
        async with bot.runtime.db.transaction() as session:
            events = [e.kind for e in await queries.list_audit_events(session=session)]
        assert "ticket_tagged" not in events
        psa.fake.go_down()
        await bot.driver.click(AGENT, card, "Tag ticket", inputs={TICKET_BOX: psa.jane_ticket})
        await bot.wait_text(card, "ConnectWise PSA is not answering right now")
        psa.fake.come_back()
        # The company's own ticket (with another contact of the company would do too) is fine.
        await bot.driver.click(AGENT, card, "Tag ticket", inputs={TICKET_BOX: psa.jane_ticket})
        await bot.wait_text(card, f"Tagged ticket #{psa.jane_ticket}.")


async def test_verify_ticket_lookups_say_what_is_wrong(
    running_bot: BotFactory, psa: Seeded
) -> None:
    async with running_bot(env=psa.fake.env()) as bot:
        expected = [
            ("#999999", "No ticket #999999 in ConnectWise PSA"),
            (f"#{psa.orphan_ticket}", f"Ticket #{psa.orphan_ticket} has no contact"),
        ]
        for count, (typed, message) in enumerate(expected, start=1):
            await bot.verify(typed)
            replies = await bot.ephemeral_replies(count)
            assert message in message_text(replies[-1])
        psa.fake.go_down()
        await bot.verify(f"#{psa.jane_ticket}")
        replies = await bot.ephemeral_replies(3)
        assert "ConnectWise PSA is not answering right now" in message_text(replies[-1])
        assert bot.emulator.dm_messages(AGENT) == []


async def test_create_ticket_modal_creates_and_tags(running_bot: BotFactory, psa: Seeded) -> None:
    fake = psa.fake
    async with running_bot(env=fake.env()) as bot:
        card = await open_card(bot, "+15135557611")
        await bot.driver.click(AGENT, card, "Create ticket")
        (modal,) = await bot.driver.wait_for(lambda: bot.emulator.open_views(AGENT))
        assert "Jane Doe" in message_text(modal) and "ConnectWise PSA" in message_text(modal)
        await bot.driver.submit_view(AGENT, modal.id, {"Summary": "   "})
        assert "summary" in " ".join((modal.errors or {}).values())
        assert len(fake.tickets()) == 4
        await bot.driver.submit_view(AGENT, modal.id, {"Summary": "Caller locked out of VPN"})
        assert bot.emulator.open_views(AGENT) == []
        text = await bot.wait_text(card, "Created ticket #")
        (created,) = [t for t in fake.tickets() if t.summary == "Caller locked out of VPN"]
        assert created.contact_ref == psa.jane and created.company_ref == psa.globex
        assert f"#{created.number}" in text
        await send_sms(bot, card)
        (note,) = await bot.driver.wait_for(lambda: fake.notes(created.number))
        assert note.internal and note.text.startswith("PIN sent by SMS")


async def test_no_duplicate_note_when_the_relay_retries_an_ambiguous_failure(
    running_bot: BotFactory, psa: Seeded
) -> None:
    fake, number = psa.fake, psa.jane_ticket
    async with running_bot(env=fake.env()) as bot:
        card = await open_card(bot, f"#{number}")
        fake.fail_after_write_next()  # stored, then answered 502
        await send_sms(bot, card)
        (row,) = await wait_rows(bot, lambda rows: rows and rows[0].last_error)
        assert row.status == "pending" and row.attempts == 1
        await bot.wait_text(card, "Ticket note: failing:")
        assert len(fake.notes(number)) == 1  # it did reach the PSA
        bot.clock.advance(minutes=11)
        bot.runtime.relay.kick()
        (row,) = await wait_rows(bot, lambda rows: rows and rows[0].status == "delivered")
        assert len(fake.notes(number)) == 1
        await bot.wait_text(card, "Ticket note: written")


async def test_a_note_survives_a_psa_outage_and_a_restart(
    running_bot: BotFactory, psa: Seeded
) -> None:
    fake, number = psa.fake, psa.jane_ticket
    clock = ManualClock()
    async with running_bot(env=fake.env(), clock=clock) as bot:
        card = await open_card(bot, f"#{number}")
        await send_sms(bot, card)
        await bot.driver.wait_for(lambda: fake.notes(number))
        fake.go_down()
        await bot.driver.click(AGENT, card, "Incomplete")
        await bot.wait_text(card, "Closed as Incomplete")
        await wait_rows(bot, lambda rows: len(rows) == 2 and rows[1].last_error)
        text = await bot.wait_text(card, "Ticket note: failing:")
        assert "ConnectWise" in text
        # Four more failures: the fifth tells the agent and the supervisors, once.
        for attempts in range(2, 6):
            clock.advance(minutes=11)
            bot.runtime.relay.kick()

            def retried(rows: list[OutboxMessage], n: int = attempts) -> bool:
                return rows[1].attempts == n

            await wait_rows(bot, retried)
        live = await bot.live_message("Incomplete")
        alert = await bot.thread_reply(live, "failed 5 times")
        await bot.driver.wait_for(lambda: len(bot.emulator.dm_messages(AGENT)) >= 2)
        assert "Jane Doe" in alert.text and f"ticket #{number}" in alert.text
        assert "Ticket note failing" in alert.text
        dm = bot.emulator.dm_messages(AGENT)[-1]
        assert "failed 5 times" in dm.text and "keeps retrying" in dm.text
        async with bot.runtime.db.transaction() as session:
            assert (
                len(
                    await queries.list_outbox_messages(
                        session=session, kind=OutboxKind.NOTE_FAILING
                    )
                )
                == 1  # the agent's DM; the supervisors' copy is an alert in the thread
            )
        assert len(fake.notes(number)) == 1
    # The app stops with the closing note undelivered; the PSA comes back; the app restarts.
    fake.come_back()
    clock.advance(minutes=15)
    async with running_bot(env=fake.env(), clock=clock) as bot:
        notes = await bot.driver.wait_for(
            lambda: fake.notes(number) if len(fake.notes(number)) == 2 else None
        )
        assert notes[1].text.startswith("PIN verification Incomplete: code not checked.")
        assert notes[1].internal
        rows = await wait_rows(bot, lambda rows: rows[1].status == "delivered")
        assert rows[1].attempts == 5
        await bot.wait_text(card, "Ticket note: written")
        # Reported once only, even though it failed more than five times in all.
        async with bot.runtime.db.transaction() as session:
            assert (
                len(
                    await queries.list_outbox_messages(
                        session=session, kind=OutboxKind.NOTE_FAILING
                    )
                )
                == 1
            )
        assert len(bot.thread_replies(bot.supervisor_posts()[0])) == 1


async def test_pick_list_shows_companies_and_inactive_contacts_cannot_be_sent_to(
    running_bot: BotFactory, psa: Seeded
) -> None:
    async with running_bot(env=psa.fake.env()) as bot:
        await bot.verify("Jane")
        (picks,) = await bot.driver.wait_for(lambda: bot.driver.ephemeral_messages(AGENT))
        text = message_text(picks)
        assert "Globex" in text and "Initech" in text
        assert "Jane Gone" in text and "Inactive: codes cannot be sent." in text
        assert sorted(find_button_labels(picks)) == ["Verify Jane Doe", "Verify Jane Roe"]

        # A ticket can still lead to an inactive contact: the card says so and refuses sends.
        card = await open_card(bot, f"#{psa.inactive_ticket}")
        assert "Inactive contact" in message_text(card)
        assert find_button_labels(card) == ["Tag ticket", "Create ticket", "Incomplete"]
        response = await bot.driver.post_signed(
            forged_send(card), content_type="application/x-www-form-urlencoded"
        )
        assert response.status_code == 200
        await bot.wait_text(card, "Jane Gone is marked inactive in the PSA")
        assert await bot.console_codes() == []


def forged_send(card: Message) -> str:
    """The agent's own client sending Send SMS for a card that does not offer it."""
    value = next(
        element["value"]
        for block in card.blocks
        if block["type"] == "actions"
        for element in block["elements"]
        if element["action_id"] == ActionId.INCOMPLETE
    )
    verification_id, seq, _ = str(value).split("|")
    payload = {
        "type": "block_actions",
        "user": {"id": AGENT, "username": "alice", "name": "alice", "team_id": "T0EMULATOR"},
        "team": {"id": "T0EMULATOR", "domain": "emulator"},
        "api_app_id": "A0EMULATOR",
        "token": "legacy",
        "trigger_id": "1.2.3",
        "container": {"type": "message", "message_ts": card.ts, "channel_id": card.channel},
        "channel": {"id": card.channel, "name": "directmessage"},
        "actions": [
            {
                "action_id": ActionId.SEND_SMS.value,
                "block_id": f"card_actions:{seq}",
                "value": f"{verification_id}|{seq}|sms",
                "type": "button",
                "action_ts": "1.0",
                "text": {"type": "plain_text", "text": "Send SMS"},
            }
        ],
    }
    return urlencode({"payload": json.dumps(payload)})


async def test_notes_flag_a_destination_not_on_record_with_the_reason(
    running_bot: BotFactory, psa: Seeded
) -> None:
    fake, number = psa.fake, psa.jane_ticket
    async with running_bot(env=fake.env()) as bot:
        card = await open_card(bot, f"#{number}")
        await bot.driver.select(AGENT, card, EDIT_MENU_TEXT, "Edit number")
        (view,) = await bot.driver.wait_for(lambda: bot.emulator.open_views(AGENT))
        await bot.driver.submit_view(
            AGENT, view.id, {"New phone number": "(513) 555-0100", "Reason": "new work mobile"}
        )
        await bot.wait_text(card, "⚠ sent to a destination not on record")
        code = await send_sms(bot, card)
        (sent,) = await bot.driver.wait_for(lambda: fake.notes(number))
        assert sent.text.splitlines()[:2] == [
            "PIN sent by SMS to +1 ••• ••• 0100 by alice.",
            "⚠ sent to a destination not on record (reason: new work mobile)",
        ]
        await bot.driver.click(AGENT, card, "Check code", inputs={CODE_BOX: code})
        await bot.wait_text(card, "Code verified")
        await bot.driver.click(AGENT, card, "Completed")
        notes = await bot.driver.wait_for(lambda: fake.notes(number)[1:])
        assert (
            "Destination edited: YES, ⚠ sent to a destination not on record "
            "(reason: new work mobile)"
        ) in notes[0].text
        assert "5550100" not in notes[0].text and "5550100" not in sent.text


async def test_a_verification_stays_on_its_ticket_once_a_code_was_sent(
    running_bot: BotFactory, psa: Seeded
) -> None:
    fake = psa.fake
    second = fake.add_ticket(summary="VPN", contact_ref=psa.jane, company_ref=psa.globex)
    async with running_bot(env=fake.env()) as bot:
        card = await open_card(bot, f"#{psa.jane_ticket}")
        await send_sms(bot, card)
        # The send note settling redraws the card from the relay; let it land first, or that
        # redraw can replace the refusal's notice before the test reads it.
        await bot.wait_text(card, "Ticket note: written")
        await bot.driver.click(AGENT, card, "Tag ticket", inputs={TICKET_BOX: second})
        text = await bot.wait_text(card, "stays on that ticket")
        assert f"already sent a code for ticket #{psa.jane_ticket}" in text
        assert f"#{psa.jane_ticket}" in message_text(card) and "VPN" not in message_text(card)

        # /verify for the other ticket reopens the same verification: still not retagged.
        before = len(bot.driver.ephemeral_messages(AGENT))
        reopened = await bot.open_card(f"#{second}")
        replies = await bot.driver.wait_for(lambda: bot.driver.ephemeral_messages(AGENT)[before:])
        assert f"Ticket #{second} was not tagged" in replies[-1].text
        assert "stays on that ticket" in message_text(reopened)
        async with bot.runtime.db.transaction() as session:
            events = await queries.list_audit_events(session=session)
        assert [e.detail["ticket"] for e in events if e.kind == "ticket_tagged"] == [
            psa.jane_ticket
        ]
