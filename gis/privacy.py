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


def mask_phone(phone: str) -> str:
    digits = phone or ""
    if len(digits) < 7:
        return "*" * len(digits)
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]


def id_number_check_digit(first17: str) -> str:
    total = sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True))
    return _CHECK[total % 11]
