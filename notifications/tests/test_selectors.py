import pytest

from notifications import selectors, services

pytestmark = pytest.mark.django_db


def test_a_topics_messages_oldest_first_and_no_others():
    first = services.message_enqueue(channel="log", key="a", body="一", topic="case:1")
    services.message_enqueue(channel="log", key="b", body="二", topic="case:2")
    second = services.message_enqueue(channel="log", key="c", body="三", topic="case:1")
    assert list(selectors.messages_for_topic(topic="case:1")) == [first, second]
