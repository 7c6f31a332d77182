import pytest

from gis import privacy

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
