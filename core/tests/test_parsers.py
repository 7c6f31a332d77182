import io
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rest_framework.exceptions import ParseError

from core.parsers import MAX_DEPTH, JSONParser, nesting_depth


@pytest.mark.parametrize(
    ("text", "depth"),
    [
        ("", 0),
        ("5", 0),
        ('{"a": [1, 2]}', 2),
        ('["[[[[", "\\"[[[", {"k]": "]]]"}]', 2),  # brackets in strings nest nothing
        ("[" * 10 + "]" * 10, 10),
    ],
)
def test_nesting_depth_counts_brackets_outside_strings(text, depth):
    assert nesting_depth(text.encode()) == depth


def _parse(body: bytes, encoding="utf-8"):
    return JSONParser().parse(io.BytesIO(body), "application/json", {"encoding": encoding})


def test_parser_accepts_the_limit_and_refuses_one_level_more():
    at_limit = "[" * MAX_DEPTH + "]" * MAX_DEPTH
    assert _parse(at_limit.encode()) is not None
    with pytest.raises(ParseError, match=f"nests {MAX_DEPTH + 1} levels deep"):
        _parse(("[" + at_limit + "]").encode())


def test_a_hundred_thousand_levels_are_a_parse_error_not_a_recursion_error():
    with pytest.raises(ParseError):
        _parse(b"[" * 100_000 + b"]" * 100_000)
    with pytest.raises(ParseError):  # unbalanced: still refused before parsing
        _parse(b'{"a":' * 100_000)


def test_ordinary_bodies_parse_as_before_in_any_declared_charset():
    body = {"name": "和平社区 [第一] {网格}", "features": [{"geometry": [[[112.0, 32.6]]]}]}
    assert _parse(json.dumps(body, ensure_ascii=False).encode()) == body
    assert _parse(json.dumps(body, ensure_ascii=False).encode("gb18030"), "gb18030") == body
    with pytest.raises(ParseError):
        _parse(b"\xff\xfe not json")


@settings(max_examples=300, deadline=None)
@given(
    st.recursive(
        st.none() | st.booleans() | st.floats(allow_nan=False) | st.text('[]{}\\"ab网 '),
        lambda inner: (
            st.lists(inner, max_size=3)
            | st.dictionaries(st.text('[]{}\\"k', max_size=4), inner, max_size=3)
        ),
        max_leaves=30,
    ),
    st.booleans(),
)
def test_nesting_depth_agrees_with_the_parsed_structure(value, ascii_only):
    def depth(v):
        if isinstance(v, list):
            return 1 + max((depth(x) for x in v), default=0)
        if isinstance(v, dict):
            return 1 + max((depth(x) for x in v.values()), default=0)
        return 0

    text = json.dumps(value, ensure_ascii=ascii_only)
    assert nesting_depth(text.encode()) == depth(value)
