import pytest

from territory.codes import check_code, child_level, parent_level


@pytest.mark.parametrize(
    ("code", "level", "parent", "ok"),
    [
        ("411381", "county", "411300", True),
        ("411381", "county", "420100", False),
        ("411381001", "township", "411381", True),
        ("411382001", "township", "411381", False),
        ("41138100", "township", "411381", False),
        ("411381001001", "village", "411381001", True),
        ("411381001001001", "grid", "411381001001", True),
        ("41138100100100101", "microgrid", "411381001001001", True),
        ("4113810010010010", "microgrid", "411381001001001", False),
        ("41138a001", "township", "411381", False),
        ("411381001", "hamlet", "411381", False),
    ],
)
def test_check_code(code, level, parent, ok):
    assert (check_code(code, level, parent) is None) is ok


def test_levels_chain():
    assert child_level("village") == "grid"
    assert parent_level("microgrid") == "grid"
    assert child_level("microgrid") is None
