"""The API's JSON parser: DRF's, with a bound on how deeply a body may nest.

Python's json module recurses once per level of nesting: a body of 100,000 nested brackets
(a few hundred kilobytes) raises RecursionError, which DRF does not catch (an HTML 500), and a
body a few hundred levels deep parses but can still blow the stack of any code that walks it
later. No body of this API nests deeper than a GeoJSON MultiPolygon inside a FeatureCollection
(about 8 levels), so anything deeper than MAX_DEPTH is refused before it is parsed.
"""

import codecs
import io

import numpy as np
from django.conf import settings
from rest_framework import parsers
from rest_framework.exceptions import ParseError

MAX_DEPTH = 64

_QUOTE, _BACKSLASH = ord('"'), ord("\\")
# Per byte value: +1 for an opening bracket, -1 for a closing one, 0 otherwise.
_STEP = np.zeros(256, dtype=np.int8)
_STEP[[ord("["), ord("{")]] = 1
_STEP[[ord("]"), ord("}")]] = -1


def _backslashes_before(raw: bytes, position: int) -> int:
    start = position
    while start > 0 and raw[start - 1] == _BACKSLASH:
        start -= 1
    return position - start


def nesting_depth(raw: bytes) -> int:
    """The deepest nesting of arrays and objects in a UTF-8 JSON text, found without parsing
    it: a running count of the brackets that lie outside strings (after an even number of
    unescaped quotes). Vectorised, as it reads every byte of bodies of up to tens of MB. For
    a malformed text the number means little, but the parser refuses that text anyway."""
    data = np.frombuffer(raw, dtype=np.uint8)
    quotes = np.flatnonzero(data == _QUOTE)
    # A quote after an odd run of backslashes is escaped, inside a string (rare: few to check).
    escaped = [
        q
        for q in quotes[(quotes > 0) & (data[quotes - 1] == _BACKSLASH)].tolist()
        if _backslashes_before(raw, q) % 2 == 1
    ]
    if escaped:
        quotes = np.setdiff1d(quotes, escaped, assume_unique=True)
    brackets = np.flatnonzero(_STEP[data])
    outside = brackets[np.searchsorted(quotes, brackets) % 2 == 0]
    if not outside.size:
        return 0
    return int(np.cumsum(_STEP[data[outside]], dtype=np.int64).max())


class JSONParser(parsers.JSONParser):
    """DRF's JSONParser, refusing (HTTP 400) bodies nested deeper than MAX_DEPTH levels."""

    max_depth = MAX_DEPTH

    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        raw = stream.read()
        try:
            utf8 = raw if codecs.lookup(encoding).name == "utf-8" else raw.decode(encoding).encode()
        except (LookupError, UnicodeDecodeError) as exc:
            raise ParseError(f"JSON parse error - {exc}") from exc
        depth = nesting_depth(utf8)
        if depth > self.max_depth:
            raise ParseError(
                f"JSON parse error - the body nests {depth} levels deep; "
                f"at most {self.max_depth} are accepted"
            )
        try:
            return super().parse(io.BytesIO(raw), media_type, parser_context)
        except RecursionError as exc:  # a second wall: the count above should prevent it
            raise ParseError("JSON parse error - the body nests too deeply") from exc
