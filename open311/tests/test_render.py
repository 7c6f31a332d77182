"""The XML and JSON of one document: element names and order, escaping, characters XML cannot
carry."""

import json
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta, timezone

from open311.render import render, xml_text

HOSTILE = "<script>alert('x')</script> & \"q\" \x00\x08\x1b end"


def test_hostile_text_is_escaped_and_parses_back():
    body, content_type = render("xml", "services", [{"service_name": HOSTILE}])
    assert content_type.startswith("text/xml")
    assert b"<script>" not in body and b"&lt;script&gt;" in body
    root = ET.fromstring(body)
    name = root.find("service/service_name").text
    assert name == "<script>alert('x')</script> & \"q\" \ufffd\ufffd\ufffd end"


def test_json_keeps_the_text_exactly():
    body, content_type = render("json", "services", [{"service_name": HOSTILE}])
    assert content_type.startswith("application/json")
    assert json.loads(body) == [{"service_name": HOSTILE}]
    assert b"<" not in body and b"&" not in body and b"\\u003cscript\\u003e" in body


def test_lists_take_the_spec_member_names_and_values_their_spelling():
    document = {
        "service_code": "0205",
        "attributes": [{"variable": True, "required": False, "order": 1, "values": [{"key": "a"}]}],
    }
    root = ET.fromstring(render("xml", "service_definition", document)[0])
    assert [c.tag for c in root] == ["service_code", "attributes"]
    attribute = root.find("attributes/attribute")
    assert [c.tag for c in attribute] == ["variable", "required", "order", "values"]
    assert attribute.find("variable").text == "true" and attribute.find("required").text == "false"
    assert attribute.find("values/value/key").text == "a"


def test_datetimes_are_w3c():
    assert xml_text(datetime(2026, 1, 1, tzinfo=UTC)) == "2026-01-01T00:00:00Z"
    east = timezone(timedelta(hours=8))
    assert xml_text(datetime(2026, 1, 1, 8, tzinfo=east)) == "2026-01-01T08:00:00+08:00"
    assert xml_text(None) == ""
