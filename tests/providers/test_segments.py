"""GSM-7 vs UCS-2 detection and segment counting (160/153 septets, 70/67 code units)."""

from __future__ import annotations

import pytest

from providers.sms.segments import SmsEncoding, SmsSegments, count_segments, is_gsm7


def test_plain_ascii_code_message_is_one_gsm7_segment() -> None:
    body = "Your PIN Verify code is 482913. It expires in 10 minutes."

    assert count_segments(body) == SmsSegments(SmsEncoding.GSM7, len(body), 1)
    assert is_gsm7(body)


def test_accented_letters_of_the_gsm_table_stay_gsm7() -> None:
    body = "Votre code est 482913. Ça expire à 10h — notez-le."
    # The em dash is not in GSM 03.38; without it the same sentence is GSM-7.
    assert count_segments(body.replace("—", "-")).encoding is SmsEncoding.GSM7
    assert count_segments("Øre ñu Ü §¿¡ ΔΦΓΛΩΠΨΣΘΞ £¥ èéùìò").encoding is SmsEncoding.GSM7


@pytest.mark.parametrize("char", ["€", "{", "}", "[", "]", "\\", "~", "^", "|"])
def test_extension_characters_stay_gsm7_but_cost_two_septets(char: str) -> None:
    result = count_segments(f"code {char} 1")

    assert result.encoding is SmsEncoding.GSM7
    assert result.units == len("code  1") + 2
    assert result.non_gsm_characters == ()


def test_one_emoji_forces_ucs2_and_names_the_culprit() -> None:
    body = "Your code is 482913 🙂"

    result = count_segments(body)

    assert result.encoding is SmsEncoding.UCS2
    # The emoji is outside the BMP: a surrogate pair, two UTF-16 code units.
    assert result.units == len(body) + 1
    assert result.segments == 1
    assert result.non_gsm_characters == ("🙂",)
    assert not is_gsm7(body)


def test_typographic_apostrophe_is_reported_once_in_order() -> None:
    result = count_segments("It’s 482913 — it’s yours")

    assert result.encoding is SmsEncoding.UCS2
    assert result.non_gsm_characters == ("’", "—")


@pytest.mark.parametrize(
    ("length", "segments"), [(1, 1), (160, 1), (161, 2), (306, 2), (307, 3), (459, 3)]
)
def test_gsm7_boundaries(length: int, segments: int) -> None:
    result = count_segments("a" * length)

    assert (result.encoding, result.units, result.segments) == (
        SmsEncoding.GSM7,
        length,
        segments,
    )


@pytest.mark.parametrize(
    ("length", "segments"), [(70, 1), (71, 2), (134, 2), (135, 3), (201, 3), (202, 4)]
)
def test_ucs2_boundaries(length: int, segments: int) -> None:
    result = count_segments("ж" * length)

    assert (result.encoding, result.units, result.segments) == (
        SmsEncoding.UCS2,
        length,
        segments,
    )


def test_extension_characters_count_against_the_160_limit() -> None:
    assert count_segments("€" * 80).segments == 1  # 160 septets
    assert count_segments("a" + "€" * 80).segments == 2  # 161 septets


def test_an_escape_pair_is_never_split_across_parts() -> None:
    # 152 plain septets then "€": the pair does not fit in part one's last septet.
    body = "a" * 152 + "€" + "a" * 10

    result = count_segments(body)

    assert result.units == 164
    assert result.segments == 2
    # 152 + "€€" (4 septets): part one holds 152, then "€" needs 2 but only 1 is left.
    assert count_segments("a" * 152 + "€" * 4 + "a" * 146).segments == 3


def test_a_surrogate_pair_is_never_split_across_parts() -> None:
    # 66 code units then an emoji (2 units): part one can hold only one more unit.
    body = "ж" * 66 + "🙂" + "ж" * 66

    result = count_segments(body)

    assert result.units == 134
    assert result.segments == 3


def test_empty_body_takes_no_segment() -> None:
    assert count_segments("") == SmsSegments(SmsEncoding.GSM7, 0, 0)
