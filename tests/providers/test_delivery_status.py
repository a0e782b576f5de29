"""Status callbacks, receipts and event webhooks parsed into DeliveryStatus (each vendor's
parser lives in its adapter module); Twilio signatures; the order of delivery states."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from providers.email.postmark import parse_postmark_webhook
from providers.email.sendgrid import parse_sendgrid_events
from providers.reports import REFERENCE_KEY, DeliveryState, DeliveryStatus, MalformedDeliveryStatus
from providers.sms.twilio import parse_twilio_status, twilio_signature, valid_twilio_signature
from providers.sms.vonage import parse_vonage_receipt

# vendor-apis.md §2.1, the example from Twilio's webhook-security docs.
DOC_URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
DOC_TOKEN = "12345"
DOC_PARAMS = {
    "CallSid": "CA1234567890ABCDE",
    "Caller": "+12349013030",
    "Digits": "1234",
    "From": "+12349013030",
    "To": "+18005551212",
}
DOC_SIGNATURE = "0/KCTR6DLpKmkAf8muzZqo1nDgQ="


def test_twilio_signature_matches_the_documented_example() -> None:
    assert twilio_signature(DOC_TOKEN, DOC_URL, DOC_PARAMS) == DOC_SIGNATURE
    # Order of the form does not matter: Twilio sorts by key.
    assert twilio_signature(DOC_TOKEN, DOC_URL, list(reversed(DOC_PARAMS.items()))) == (
        DOC_SIGNATURE
    )
    assert valid_twilio_signature(DOC_TOKEN, DOC_URL, DOC_PARAMS, DOC_SIGNATURE)


@pytest.mark.parametrize(
    ("token", "url", "params", "signature"),
    [
        ("54321", DOC_URL, DOC_PARAMS, DOC_SIGNATURE),
        (DOC_TOKEN, DOC_URL.replace("foo=1", "foo=2"), DOC_PARAMS, DOC_SIGNATURE),
        (DOC_TOKEN, DOC_URL, DOC_PARAMS | {"Digits": "1235"}, DOC_SIGNATURE),
        (DOC_TOKEN, DOC_URL, DOC_PARAMS | {"Extra": "x"}, DOC_SIGNATURE),
        (DOC_TOKEN, DOC_URL, DOC_PARAMS, DOC_SIGNATURE.replace("0", "1", 1)),
        (DOC_TOKEN, DOC_URL, DOC_PARAMS, ""),
        (DOC_TOKEN, DOC_URL, DOC_PARAMS, None),
    ],
)
def test_any_change_invalidates_the_signature(
    token: str, url: str, params: dict[str, str], signature: str | None
) -> None:
    assert not valid_twilio_signature(token, url, params, signature)


def test_repeated_keys_are_signed_in_sorted_value_order() -> None:
    url = "https://example.com/hook"
    one = twilio_signature("t", url, [("A", "2"), ("A", "1"), ("B", "x")])

    assert one == twilio_signature("t", url, [("B", "x"), ("A", "1"), ("A", "2")])
    assert one == twilio_signature("t", url + "", [("A", "1"), ("A", "2"), ("B", "x")])


def test_the_default_port_may_or_may_not_be_spelled_out() -> None:
    form = {"MessageSid": "SM1", "MessageStatus": "delivered"}
    with_port = twilio_signature("t", "https://bot.example:443/webhooks/twilio/status", form)
    without = twilio_signature("t", "https://bot.example/webhooks/twilio/status", form)

    assert valid_twilio_signature(
        "t", "https://bot.example/webhooks/twilio/status", form, with_port
    )
    assert valid_twilio_signature(
        "t", "https://bot.example:443/webhooks/twilio/status", form, without
    )
    # Another port is another URL.
    other = twilio_signature("t", "https://bot.example:8443/webhooks/twilio/status", form)
    assert not valid_twilio_signature(
        "t", "https://bot.example/webhooks/twilio/status", form, other
    )


def twilio_form(status: str, **extra: str) -> dict[str, str]:
    return {
        "MessageSid": "SM" + "a" * 32,
        "SmsSid": "SM" + "a" * 32,
        "MessageStatus": status,
        "SmsStatus": status,
        "AccountSid": "AC" + "b" * 32,
        "From": "+15005550006",
        "To": "+14155550123",
        "ApiVersion": "2010-04-01",
    } | extra


@pytest.mark.parametrize(
    ("status", "state"),
    [
        ("queued", DeliveryState.QUEUED),
        ("accepted", DeliveryState.QUEUED),
        ("sending", DeliveryState.SENT),
        ("sent", DeliveryState.SENT),
        ("delivered", DeliveryState.DELIVERED),
        ("failed", DeliveryState.FAILED),
        ("undelivered", DeliveryState.UNDELIVERED),
    ],
)
def test_twilio_statuses(status: str, state: DeliveryState) -> None:
    parsed = parse_twilio_status(twilio_form(status))

    assert parsed == DeliveryStatus("twilio", "SM" + "a" * 32, state)


def test_twilio_undelivered_carries_the_carrier_reason() -> None:
    parsed = parse_twilio_status(twilio_form("undelivered", ErrorCode="30003"))

    assert parsed is not None
    assert parsed.state is DeliveryState.UNDELIVERED
    assert parsed.error_code == "30003"
    assert parsed.reason == "the handset is unreachable (switched off or out of coverage)"
    unknown = parse_twilio_status(twilio_form("failed", ErrorCode="39999"))
    assert unknown is not None and unknown.reason == "Twilio error 39999"


def test_twilio_delivered_carries_the_carrier_completion_time() -> None:
    parsed = parse_twilio_status(twilio_form("delivered", RawDlrDoneDate="2407261250"))

    assert parsed is not None
    assert parsed.occurred_at == datetime(2024, 7, 26, 12, 50, tzinfo=UTC)
    garbled = parse_twilio_status(twilio_form("delivered", RawDlrDoneDate="soon"))
    assert garbled is not None and garbled.occurred_at is None


def test_twilio_statuses_we_do_not_track_are_ignored() -> None:
    assert parse_twilio_status(twilio_form("receiving")) is None


@pytest.mark.parametrize(
    "form", [{"MessageStatus": "sent"}, {"MessageSid": "SM1"}, {"MessageSid": "", "SmsStatus": ""}]
)
def test_twilio_callback_without_sid_or_status_is_malformed(form: dict[str, str]) -> None:
    with pytest.raises(MalformedDeliveryStatus):
        parse_twilio_status(form)


def vonage_receipt(status: str, err_code: str = "0", **extra: str) -> dict[str, str]:
    return {
        "msisdn": "447700900000",
        "to": "PINVerify",
        "network-code": "23410",
        "messageId": "0A0000000123ABCD1",
        "price": "0.03330000",
        "status": status,
        "scts": "2001011400",
        "err-code": err_code,
        "api-key": "abcd1234",
        "client-ref": "verification-7:1",
        "message-timestamp": "2020-01-01 12:00:00",
    } | extra


def test_vonage_delivered_receipt() -> None:
    parsed = parse_vonage_receipt(vonage_receipt("delivered"))

    assert parsed == DeliveryStatus(
        "vonage",
        "0A0000000123ABCD1",
        DeliveryState.DELIVERED,
        None,
        None,
        "verification-7:1",
        datetime(2020, 1, 1, 12, 0, tzinfo=UTC),
    )


@pytest.mark.parametrize(
    ("status", "err_code", "state", "reason"),
    [
        ("expired", "2", DeliveryState.UNDELIVERED, "the handset is unreachable for now"),
        ("failed", "3", DeliveryState.UNDELIVERED, "the number is not in service"),
        ("rejected", "6", DeliveryState.FAILED, "the carrier rejected the message as spam"),
        ("buffered", "0", DeliveryState.SENT, "waiting at the carrier"),
        ("accepted", "0", DeliveryState.SENT, None),
        ("failed", "77", DeliveryState.UNDELIVERED, "Vonage error 77"),
    ],
)
def test_vonage_receipt_states_and_reasons(
    status: str, err_code: str, state: DeliveryState, reason: str | None
) -> None:
    parsed = parse_vonage_receipt(vonage_receipt(status, err_code))

    assert parsed is not None
    assert parsed.state is state
    assert parsed.error_code == (None if err_code == "0" else err_code)
    if reason is None:
        assert parsed.reason is None
    else:
        assert parsed.reason is not None and parsed.reason.startswith(reason)


def test_vonage_receipt_without_message_id_is_malformed() -> None:
    with pytest.raises(MalformedDeliveryStatus):
        parse_vonage_receipt({"status": "delivered"})


SG_ID = "W3cBKnJmR6GD_YRo1bQsSw"


def sendgrid_event(event: str, **extra: Any) -> dict[str, Any]:
    return {
        "email": "jane@acme.example",
        "timestamp": 1513299569,
        "smtp-id": "<14c5d75ce93.dfd.64b469@ismtpd-555>",
        "event": event,
        "sg_event_id": "sg_event_id",
        "sg_message_id": f"{SG_ID}.filterdrecv-5645d9c87f-78xgx-1-5E2A6A7E-4A.0",
        REFERENCE_KEY: "verification-7:2",
    } | extra


def test_sendgrid_events_become_statuses_and_engagement_is_skipped() -> None:
    parsed = parse_sendgrid_events(
        [
            sendgrid_event("processed"),
            sendgrid_event("deferred", response="400 try again later", attempt="5"),
            sendgrid_event("delivered", response="250 OK"),
            sendgrid_event("open", useragent="Mozilla/4.0"),
            sendgrid_event("click", url="https://example.com"),
        ]
    )

    at = datetime.fromtimestamp(1513299569, UTC)
    assert parsed == [
        DeliveryStatus("sendgrid", SG_ID, DeliveryState.QUEUED, None, None, "verification-7:2", at),
        DeliveryStatus(
            "sendgrid",
            SG_ID,
            DeliveryState.SENT,
            "400 try again later",
            None,
            "verification-7:2",
            at,
        ),
        DeliveryStatus(
            "sendgrid", SG_ID, DeliveryState.DELIVERED, None, None, "verification-7:2", at
        ),
    ]


def test_sendgrid_bounce_block_and_drop() -> None:
    bounce, blocked, dropped = parse_sendgrid_events(
        [
            sendgrid_event(
                "bounce", type="bounce", reason="550 5.1.1 unknown user", status="5.1.1"
            ),
            sendgrid_event("bounce", type="blocked", reason="554 listed on a blocklist"),
            # SendGrid's own example of a drop carries no sg_message_id: match on our reference.
            {
                "email": "jane@acme.example",
                "timestamp": 1513299569,
                "event": "dropped",
                "reason": "Bounced Address",
                "status": "5.0.0",
                REFERENCE_KEY: "verification-7:3",
            },
        ]
    )

    assert (bounce.state, bounce.reason, bounce.error_code) == (
        DeliveryState.UNDELIVERED,
        "550 5.1.1 unknown user",
        "5.1.1",
    )
    assert blocked.state is DeliveryState.UNDELIVERED
    assert blocked.reason == "blocked by the receiving server: 554 listed on a blocklist"
    assert (dropped.message_id, dropped.reference, dropped.state, dropped.reason) == (
        None,
        "verification-7:3",
        DeliveryState.FAILED,
        "Bounced Address",
    )


def test_sendgrid_events_that_are_not_ours_are_skipped() -> None:
    stray = {"event": "delivered", "email": "x@example.com", "timestamp": 1}

    assert parse_sendgrid_events([stray]) == []


@pytest.mark.parametrize("payload", [{"event": "delivered"}, ["delivered"], [{"no": "event"}]])
def test_sendgrid_payload_of_the_wrong_shape_is_malformed(payload: Any) -> None:
    with pytest.raises(MalformedDeliveryStatus):
        parse_sendgrid_events(payload)


PM_ID = "883953f4-6105-42a2-a16a-77a8eac79483"


def test_postmark_delivery_webhook() -> None:
    parsed = parse_postmark_webhook(
        {
            "RecordType": "Delivery",
            "ServerID": 23,
            "MessageStream": "outbound",
            "MessageID": PM_ID,
            "Recipient": "jane@acme.example",
            "Tag": "pin",
            "DeliveredAt": "2019-11-05T16:33:54.9070259Z",
            "Details": "Test delivery webhook details",
            "Metadata": {REFERENCE_KEY: "verification-7:4"},
        }
    )

    assert parsed == DeliveryStatus(
        "postmark",
        PM_ID,
        DeliveryState.DELIVERED,
        None,
        None,
        "verification-7:4",
        datetime(2019, 11, 5, 16, 33, 54, 907025, tzinfo=UTC),
    )


def postmark_bounce(**extra: Any) -> dict[str, Any]:
    return {
        "RecordType": "Bounce",
        "ID": 4323372036854775807,
        "Type": "HardBounce",
        "TypeCode": 1,
        "Name": "Hard bounce",
        "MessageID": PM_ID,
        "ServerID": 23,
        "MessageStream": "outbound",
        "Description": "The server was unable to deliver your message (ex: unknown user).",
        "Details": "Test bounce details",
        "Email": "jane@acme.example",
        "BouncedAt": "2019-11-05T16:33:54.9070259Z",
        "Inactive": False,
        "Metadata": {},
    } | extra


def test_postmark_bounce_is_undelivered_with_the_description() -> None:
    parsed = parse_postmark_webhook(postmark_bounce())

    assert parsed is not None
    assert parsed.state is DeliveryState.UNDELIVERED
    assert parsed.reason == "The server was unable to deliver your message (ex: unknown user)."
    assert (parsed.error_code, parsed.reference) == ("HardBounce", None)


def test_postmark_bounce_that_deactivates_the_address_says_so() -> None:
    parsed = parse_postmark_webhook(postmark_bounce(Inactive=True))

    assert parsed is not None and "inactive" in (parsed.reason or "")


@pytest.mark.parametrize(
    "payload",
    [
        postmark_bounce(Type="AutoResponder", TypeCode=64),
        {"RecordType": "Open", "MessageID": PM_ID},
        {"RecordType": "Click", "MessageID": PM_ID},
    ],
)
def test_postmark_records_that_say_nothing_about_delivery(payload: dict[str, Any]) -> None:
    assert parse_postmark_webhook(payload) is None


@pytest.mark.parametrize("payload", [[], {"RecordType": "Delivery"}, {"MessageID": PM_ID}])
def test_postmark_payload_of_the_wrong_shape_is_malformed(payload: Any) -> None:
    with pytest.raises(MalformedDeliveryStatus):
        parse_postmark_webhook(payload)


def test_states_never_go_backwards_and_finals_stay() -> None:
    assert DeliveryState.SENT.advances(None)
    assert DeliveryState.SENT.advances(DeliveryState.QUEUED)
    assert DeliveryState.DELIVERED.advances(DeliveryState.SENT)
    assert not DeliveryState.SENT.advances(DeliveryState.DELIVERED)
    assert not DeliveryState.QUEUED.advances(DeliveryState.SENT)
    assert not DeliveryState.SENT.advances(DeliveryState.SENT)
    assert not DeliveryState.FAILED.advances(DeliveryState.DELIVERED)
    assert not DeliveryState.DELIVERED.advances(DeliveryState.UNDELIVERED)
    assert DeliveryState.UNDELIVERED.advances(DeliveryState.SENT)
