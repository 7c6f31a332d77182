"""Personal data of households (pure: no database).

ID numbers (居民身份证号) are never stored: we keep an HMAC-SHA256 under a server key, which lets
a worker find "the household with this ID number" (same input, same hash) without the number
being recoverable from a database dump; and a mask (region code + last 4) to show. We chose a
keyed hash over encryption because nothing in the product needs the number back: whoever needs
the real number asks the person. Without the key an attacker cannot brute-force the ~10^9
plausible numbers of a county, which a plain hash would allow.
"""

import hashlib
import hmac
import re
import unicodedata

from django.conf import settings

_ID_RE = re.compile(r"^\d{17}[\dXx]$")
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"


class InvalidIdNumber(ValueError):
    pass


def normalise_id_number(value: str) -> str:
    value = (value or "").strip().upper()
    if not _ID_RE.match(value):
        raise InvalidIdNumber("an ID number has 17 digits and a final digit or X")
    total = sum(int(d) * w for d, w in zip(value[:17], _WEIGHTS, strict=True))
    if _CHECK[total % 11] != value[17]:
        raise InvalidIdNumber("the ID number's check digit is wrong")
    return value


def hash_id_number(value: str) -> str:
    value = normalise_id_number(value)
    key = settings.WANGGE_ID_HASH_KEY.encode()
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


def mask_id_number(value: str) -> str:
    value = normalise_id_number(value)
    return value[:6] + "*" * 8 + value[-4:]


def mask_name(name: str) -> str:
    if not name:
        return ""
    return name[0] + "*" * max(1, len(name) - 1)


# A prefix is shown only in front of a subscriber number this long (China: 7-8 digits; a
# mobile's 8 after its network prefix); before anything shorter it would give most of it away.
_MIN_SUBSCRIBER = 7
_MAX_TAIL = 4


def mask_phone(phone: str) -> str:
    """`phone` with its digits starred but for the part that only says where it rings (a
    country code, a mobile's network prefix 13x/15x/..., a landline's area code 0377) and the
    last digits of the subscriber number: at most 4 of them and at most half, so at least half
    of the subscriber digits are always hidden (138****5678, 0377-****234, ****5678, ***45).
    Separators stay where they are and the length is kept. Any Unicode digit counts (a
    full-width １ is a digit too)."""
    phone = phone or ""
    positions = [i for i, ch in enumerate(phone) if ch.isdigit()]
    shown_head = _routing_prefix(phone, positions)
    subscriber = len(positions) - shown_head
    shown_tail = min(_MAX_TAIL, subscriber // 2)
    hidden = set(positions[shown_head : len(positions) - shown_tail])
    return "".join("*" if i in hidden else ch for i, ch in enumerate(phone))


def _routing_prefix(phone: str, positions: list[int]) -> int:
    """How many leading digits only route the call; 0 when the format is not recognised
    (then only the tail may show)."""
    if not positions:
        return 0
    digits = "".join(str(unicodedata.digit(phone[i], 0)) for i in positions)
    # Where each run of digits (a group between separators) starts, as digit indices.
    starts = [k for k, i in enumerate(positions) if k == 0 or positions[k - 1] != i - 1]
    ends = [*starts[1:], len(positions)]
    groups = dict(zip(starts, ends, strict=True))
    head = 0
    if phone.lstrip().startswith("+") or digits.startswith("00"):
        head = 2 if digits.startswith("00") else 0
        if digits.startswith("86", head):
            head += 2
        elif head in groups and groups[head] - head <= 3 and groups[head] < len(positions):
            head = groups[head]  # a country code written apart: "+1 555 ..."
        else:
            return 0
    national = digits[head:]
    if len(national) == 11 and national.startswith("1"):
        head += 3  # a mainland mobile: 1xx network prefix, then 8 subscriber digits
    elif national.startswith("0"):
        written = groups.get(head, head) - head
        head += written if written in (3, 4) else 3 if national[1:2] in ("1", "2") else 4
    if len(positions) - head < _MIN_SUBSCRIBER:
        return 0
    return head


def id_number_check_digit(first17: str) -> str:
    total = sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True))
    return _CHECK[total % 11]


# Runs of digits in free text that may be a phone or an ID number: 7 digits or more, allowing
# the separators people type inside a number (spaces, hyphens), an ID's final X, full-width
# digits too (\d is Unicode).
_NUMBER_IN_TEXT_RE = re.compile(r"\+?\d[\d \-]{5,}\d[Xx]?")


def scrub_text(text: str) -> str:
    """Free text written by a resident (a case's description), fit for a public page: every
    number that could be a phone or an ID number is masked as one (an ID's 18 characters as an
    ID, anything else as a phone); the words are left alone."""

    def mask(match: re.Match) -> str:
        found = match.group(0)
        compact = re.sub(r"[ \-]", "", found)
        if _ID_RE.match(compact.upper()):
            # As mask_id_number shows one, even with a wrong check digit (a typo is personal
            # data too); separators stay where they were.
            positions = [i for i, ch in enumerate(found) if ch not in " -"]
            hidden = set(positions[6:-4])
            return "".join("*" if i in hidden else ch for i, ch in enumerate(found))
        if sum(ch.isdigit() for ch in found) < _MIN_SUBSCRIBER:
            return found
        return mask_phone(found)

    return _NUMBER_IN_TEXT_RE.sub(mask, text or "")
