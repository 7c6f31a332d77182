import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from territory import privacy

VALID_ID = "11010519491231002X"  # the textbook example, valid check digit


def test_id_number_is_hashed_with_a_key_and_masked(settings):
    settings.WANGGE_ID_HASH_KEY = "k1"
    first = privacy.hash_id_number(VALID_ID)
    assert VALID_ID not in first and len(first) == 64
    assert privacy.hash_id_number(VALID_ID.lower()) == first
    settings.WANGGE_ID_HASH_KEY = "k2"
    assert privacy.hash_id_number(VALID_ID) != first
    assert privacy.mask_id_number(VALID_ID) == "110105********002X"


@pytest.mark.parametrize("bad", ["", "123", "110105194912310021", "11010519491231002Y"])
def test_invalid_id_numbers_are_refused(bad):
    with pytest.raises(privacy.InvalidIdNumber):
        privacy.hash_id_number(bad)


def test_masks():
    assert privacy.mask_name("王小明") == "王**"
    assert privacy.mask_phone("13812345678") == "138****5678"


@pytest.mark.parametrize(
    ("phone", "masked"),
    [
        ("13812345678", "138****5678"),
        ("6221234", "****234"),  # 7 digits: was shown in full
        ("62212345", "****2345"),  # 8 digits: was shown with 7 of 8
        ("0377-6221234", "0377-****234"),
        ("037762212345", "0377****2345"),
        ("010-12345678", "010-****5678"),
        ("+86 138 1234 5678", "+86 138 **** 5678"),
        ("+8613812345678", "+86138****5678"),
        ("12345", "***45"),
        ("1", "*"),
        ("", ""),
        ("１３８１２３４５６７８", "１３８****５６７８"),  # full-width digits are digits too
    ],
)
def test_phone_masks(phone, masked):
    assert privacy.mask_phone(phone) == masked


_SEPARATORS = st.sampled_from(["", "-", " ", "(", ")", "+", "."])


@st.composite
def phones(draw):
    digits = draw(st.text(alphabet="0123456789", min_size=1, max_size=20))
    out = draw(st.sampled_from(["", "+", "00", "0", "1", "(0"]))[: 20 - len(digits)]
    for d in digits:
        out += draw(_SEPARATORS) + d
    return out


@settings(max_examples=500, deadline=None)
@given(phones())
def test_phone_mask_never_reveals_the_number(phone):
    masked = privacy.mask_phone(phone)
    assert len(masked) == len(phone)
    digit_at = [i for i, ch in enumerate(phone) if ch.isdigit()]
    for i, (ch, out) in enumerate(zip(phone, masked, strict=True)):
        assert out == ch or (i in digit_at and out == "*")
    n = len(digit_at)
    shown = [i for i in digit_at if masked[i] != "*"]
    hidden = n - len(shown)
    assert hidden >= 1  # never the full number
    assert hidden >= min(4, math.ceil(n / 2))
    # What shows is a leading prefix (routing only) and a tail of at most 4 digits.
    head = next((k for k, i in enumerate(digit_at) if masked[i] == "*"), n)
    tail = len(shown) - head
    assert all(masked[i] == "*" for i in digit_at[head : n - tail])
    assert tail <= 4 and tail <= (n - head) // 2
    first = phone[digit_at[0]]
    if first not in "01" and "+" not in phone[: digit_at[0]]:
        assert len(shown) <= n // 2  # no recognised prefix: at most half, from the end


@pytest.mark.parametrize(
    "text, hidden",
    [
        ("电话13812345678", "13812345678"),
        ("call 138-1234-5678 please", "138-1234-5678"),
        ("座机 0377-62345678", "62345678"),
        ("身份证411381198001011234", "411381198001011234"),
        ("full-width １３８１２３４５６７８", "１２３４５６７８"),
    ],
)
def test_scrub_text_masks_numbers_that_may_be_phones_or_ids(text, hidden):
    scrubbed = privacy.scrub_text(text)
    assert hidden not in scrubbed and "*" in scrubbed
    assert len(scrubbed) == len(text)


def test_scrub_text_leaves_words_and_short_numbers():
    text = "3号楼2单元 路灯坏了 2026年"
    assert privacy.scrub_text(text) == text
