"""Addresses are masked wherever a message is listed (pure: no database)."""

from notifications.addresses import mask_address
from territory.privacy import mask_phone


def test_a_phone_is_masked_as_households_phones_are():
    assert mask_address("13812345678") == mask_phone("13812345678") == "138****5678"


def test_an_email_keeps_its_first_letter_and_domain():
    assert mask_address("zhang.san@example.gov.cn") == "z********@example.gov.cn"
    assert mask_address("a@b.cn") == "a***@b.cn"  # a short name still hides its length


def test_nothing_stays_nothing():
    assert mask_address("") == ""
