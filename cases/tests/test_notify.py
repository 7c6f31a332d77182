"""Every step of a case puts its messages in the outbox in the step's own transaction: the
resident by SMS to the case's contact phone, the holders (assignee, department members) by
e-mail or the log channel; whoever took the step is not told; a refused step queues nothing;
one key per case, event, person and channel."""

import pytest
from django.test import override_settings

from cases.models import CaseEvent, Department
from cases.tests.test_services import act, report
from notifications.models import Message

pytestmark = pytest.mark.django_db


def test_each_step_tells_the_resident_by_sms_and_the_new_holder(territory):
    volunteer = territory.users["volunteer"]
    volunteer.email = "v@example.org"
    volunteer.save()
    case = report(territory)
    reported = Message.objects.filter(topic=f"case:{case.pk}")
    assert [(m.channel, m.address) for m in reported] == [("sms", "13812345678")]
    assert case.number in reported.get().body

    case = act(territory, "village_officer", case, "dispatch", assignee=volunteer.pk)
    event = CaseEvent.objects.get(case=case, action="dispatch")
    got = {
        m.key: (m.channel, m.recipient_id)
        for m in Message.objects.filter(key__contains=f":event:{event.seq}:")
    }
    assert got == {
        f"case:{case.pk}:event:{event.seq}:contact:sms": ("sms", None),
        f"case:{case.pk}:event:{event.seq}:user:{volunteer.pk}:email": ("email", volunteer.pk),
    }
    # The volunteer accepting is not told of their own step; the resident is.
    case = act(territory, "volunteer", case, "accept")
    event = CaseEvent.objects.get(case=case, action="accept")
    assert [
        m.key.rsplit(":", 2)[-2:]
        for m in Message.objects.filter(key__contains=f":event:{event.seq}:")
    ] == [["contact", "sms"]]


def test_a_refused_step_queues_nothing(territory):
    case = report(territory)
    before = Message.objects.count()
    with pytest.raises(Exception):  # noqa: B017 - the flow's 409, tested in test_services
        act(territory, "village_officer", case, "verify")
    assert Message.objects.count() == before


def test_the_department_holding_a_case_is_told_in_the_log_channel_without_email(territory):
    staff = territory.users["department_staff"]
    bureau = Department.objects.create(code="411381-cgj", name="城管局", county_code="411381")
    bureau.members.add(staff)
    case = report(territory, contact_phone="")
    case = act(
        territory, "township_commander", case, "escalate", department=bureau.code, reason="难"
    )
    event = CaseEvent.objects.get(case=case, action="escalate")
    messages = Message.objects.filter(key__contains=f":event:{event.seq}:")
    assert [(m.channel, m.recipient_id) for m in messages] == [("log", staff.pk)]


@override_settings(LANGUAGE_CODE="en")
def test_messages_are_rendered_in_the_recipients_language(territory):
    case = report(territory)
    body = Message.objects.get(topic=f"case:{case.pk}").body
    assert case.number in body and "Reported" in body


def test_the_resident_is_told_in_their_language_and_holders_in_theirs(territory):
    resident, volunteer = territory.users["resident"], territory.users["volunteer"]
    resident.language, volunteer.language = "zh-hans", "en"
    resident.save()
    volunteer.save()
    case = report(territory)
    sms = Message.objects.get(topic=f"case:{case.pk}", channel="sms")
    assert sms.language == "zh-hans" and "已点单" in sms.body, sms.body
    case = act(territory, "village_officer", case, "dispatch", assignee=volunteer.pk)
    event = CaseEvent.objects.get(case=case, action="dispatch")
    to_volunteer = Message.objects.get(key__contains=f":event:{event.seq}:user:{volunteer.pk}:")
    assert to_volunteer.language == "en" and "Dispatched" in to_volunteer.body
