from __future__ import annotations

import hashlib
import hmac
import secrets
from collections import Counter

import pytest

from bot.verification.codes import code_matches, generate_code, hash_code, normalise_entry

KEY = b"k" * 32


class ScriptedSource:
    """Stands in for the CSPRNG at the generate_code seam, to prove how its output is used."""

    def __init__(self, value: int) -> None:
        self.value = value
        self.bounds: list[int] = []

    def randbelow(self, exclusive_upper_bound: int) -> int:
        self.bounds.append(exclusive_upper_bound)
        return self.value


def test_code_draws_from_the_whole_range_and_keeps_leading_zeros() -> None:
    source = ScriptedSource(123)
    assert generate_code(6, source=source) == "000123"
    assert source.bounds == [10**6]
    assert generate_code(10, source=ScriptedSource(9_999_999_999)) == "9999999999"


def test_default_source_is_the_os_csprng() -> None:
    # secrets.randbelow is os.urandom-backed; the module exposes exactly that function.
    import bot.verification.codes as codes

    assert vars(codes)["secrets"] is secrets
    codes_seen = {generate_code(6) for _ in range(200)}
    assert len(codes_seen) > 190  # 200 draws from a million values: collisions are rare
    assert all(len(code) == 6 and code.isdigit() for code in codes_seen)


def test_digits_are_roughly_uniform() -> None:
    counts = Counter("".join(generate_code(8) for _ in range(2000)))
    assert set(counts) == set("0123456789")
    assert min(counts.values()) > 1300 and max(counts.values()) < 1900  # 1600 expected


@pytest.mark.parametrize("length", [3, 11])
def test_code_length_outside_4_to_10_is_refused(length: int) -> None:
    with pytest.raises(ValueError):
        generate_code(length)


def test_hash_is_hmac_sha256_bound_to_verification_and_send() -> None:
    digest = hash_code(key=KEY, verification_id="v1", seq=2, code="482913")
    assert digest == hmac.new(KEY, b"v1:2:482913", hashlib.sha256).hexdigest()
    assert "482913" not in digest
    assert digest != hash_code(key=KEY, verification_id="v2", seq=2, code="482913")
    assert digest != hash_code(key=KEY, verification_id="v1", seq=3, code="482913")
    assert digest != hash_code(key=b"x" * 32, verification_id="v1", seq=2, code="482913")


def test_code_matches_only_the_right_code() -> None:
    stored = hash_code(key=KEY, verification_id="v1", seq=1, code="000123")
    assert code_matches(key=KEY, verification_id="v1", seq=1, code="000123", stored=stored)
    assert not code_matches(key=KEY, verification_id="v1", seq=1, code="000124", stored=stored)
    assert not code_matches(key=KEY, verification_id="v1", seq=2, code="000123", stored=stored)


def test_compare_is_constant_time() -> None:
    # The comparison must go through hmac.compare_digest; prove it by source inspection of the
    # one function that compares, since timing tests are flaky by nature.
    import inspect

    from bot.verification import codes

    source = inspect.getsource(codes.code_matches)
    assert "hmac.compare_digest" in source and "==" not in source


@pytest.mark.parametrize(
    ("raw", "digits", "has_problem"),
    [
        ("482913", "482913", False),
        (" 482 913 ", "482913", False),
        ("482-913", "482913", False),
        ("000123", "000123", False),
        ("", "", False),
        (None, "", False),
        ("12345", "", True),
        ("1234567", "", True),
        ("١٢٣٤٥٦", "", True),  # Arabic-Indic digits are digits to Python, not to us
        ("１２３４５６", "", True),  # full-width digits
        ("<!channel>", "", True),
        ("x" * 10_000, "", True),
        ("123456\n", "123456", False),
    ],
)
def test_entry_normalisation(raw: str | None, digits: str, has_problem: bool) -> None:
    entry = normalise_entry(raw, length=6)
    assert entry.digits == digits
    assert (entry.problem is not None) is has_problem


def test_problem_messages_say_what_is_wrong() -> None:
    assert normalise_entry("12345", length=6).problem == "That was 5 digits; codes are 6."
    assert "0–9" in str(normalise_entry("12a456", length=6).problem)
