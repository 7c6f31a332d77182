"""The two formats of GeoReport v2, chosen by the URL's suffix (`.xml`, `.json`), from one
document: plain dicts and lists in the spec's element order. Pure: no request, no database.

XML is built with xml.etree.ElementTree (which escapes `<`, `&` and quotes), never by
concatenating strings. ElementTree does not refuse the characters XML 1.0 forbids (most C0
controls, U+FFFE/U+FFFF): a catalogue name holding one would make a document no client can
parse, so each is replaced by U+FFFD. JSON keeps them, escaped (JSON allows every character)."""

import json
import re
import xml.etree.ElementTree as ET
from datetime import datetime

FORMATS = {"xml": "text/xml; charset=utf-8", "json": "application/json; charset=utf-8"}

# The element name of each member of a list, keyed by the list's own element name (the spec's
# `<services><service>`, `<attributes><attribute>`, `<values><value>`, ...).
MEMBER = {
    "services": "service",
    "attributes": "attribute",
    "values": "value",
    "service_requests": "request",
    "errors": "error",
    "endpoints": "endpoint",
    "formats": "format",
}

_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def xml_text(value) -> str:
    """A value as the text of an element: booleans as the spec's `true`/`false`, empty for
    None, datetimes in ISO 8601 (W3C), characters XML cannot carry replaced."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return iso(value)
    return _NOT_XML.sub("\ufffd", str(value))


def iso(when: datetime | None) -> str | None:
    if when is None:
        return None
    text = when.isoformat(timespec="seconds")
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _fill(element: ET.Element, value) -> None:
    if isinstance(value, dict):
        for name, child in value.items():
            _fill(ET.SubElement(element, name), child)
    elif isinstance(value, list):
        member = MEMBER[element.tag]
        for child in value:
            _fill(ET.SubElement(element, member), child)
    else:
        element.text = xml_text(value)


# The spec: "the root element must be preceded with the XML declaration including the
# encoding="UTF-8" attribute". ElementTree's own declaration says encoding='utf-8'.
XML_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'


def to_xml(root: str, document) -> bytes:
    element = ET.Element(root)
    _fill(element, document)
    return XML_DECLARATION + ET.tostring(element, encoding="unicode").encode()


def _json_default(value):
    if isinstance(value, datetime):
        return iso(value)
    raise TypeError(type(value).__name__)


# In JSON, `<`, `>` and `&` are written as escapes: the same strings to a parser, and no markup
# for a browser that sniffs the answer as HTML.
_JSON_ESCAPES = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026"})


def to_json(document) -> bytes:
    text = json.dumps(document, ensure_ascii=False, default=_json_default)
    return text.translate(_JSON_ESCAPES).encode()


def render(fmt: str, root: str, document) -> tuple[bytes, str]:
    """(body, content type). `root` names the XML root; JSON has none: a list is the array
    itself (`[{"service_code": ...}]`), an object the object."""
    body = to_xml(root, document) if fmt == "xml" else to_json(document)
    return body, FORMATS[fmt]
