"""Yellow and red cards: a running step past its yellow instant earns a yellow card, past its
deadline a red one; one of each per step run, whatever the number of sweeps; a closed case
earns none; the database keeps every card as recorded."""

from datetime import timedelta

import pytest
from django.db import IntegrityError, connection, transaction

from cases import services
from cases.models import Card
from cases.tests.test_services import TUESDAY, act, report

pytestmark = pytest.mark.django_db

SECOND = timedelta(seconds=1)


def test_a_step_earns_a_yellow_then_a_red_card_once_each(territory):
    case = report(territory, now=TUESDAY)
    assert case.yellow_at < case.due_at
    assert services.cards_record(now=case.yellow_at - SECOND) == []
    [yellow] = services.cards_record(now=case.yellow_at)
    assert services.cards_record(now=case.yellow_at + SECOND) == []
    [red] = services.cards_record(now=case.due_at)
    assert services.cards_record(now=case.due_at + timedelta(days=30)) == []
    cards = {c.pk: c for c in Card.objects.filter(case=case)}
    assert set(cards) == {yellow, red}
    assert (cards[yellow].colour, cards[yellow].at) == ("yellow", case.yellow_at)
    assert (cards[red].colour, cards[red].at, cards[red].step) == ("red", case.due_at, "dispatch")
    assert cards[red].territory_path == case.territory_path


def test_the_next_step_runs_a_new_clock_with_cards_of_its_own(territory):
    case = report(territory, now=TUESDAY)
    services.cards_record(now=case.due_at)  # the dispatch step: yellow and red
    volunteer = territory.users["volunteer"]
    case = act(territory, "village_officer", case, "dispatch", assignee=volunteer.pk)
    assert case.step == "accept" and case.due_at > TUESDAY
    late = services.cards_record(now=case.due_at + SECOND)
    accept_cards = Card.objects.filter(pk__in=late)
    assert sorted(c.colour for c in accept_cards) == ["red", "yellow"]
    assert {c.step for c in accept_cards} == {"accept"}
    assert {c.assignee for c in accept_cards} == {volunteer}  # shown to who held it
    assert Card.objects.filter(case=case).count() == 4


def test_a_closed_case_earns_no_card(territory):
    case = report(territory, now=TUESDAY)
    act(territory, "village_officer", case, "reject", reason="不属于受理范围")
    assert services.cards_record(now=TUESDAY + timedelta(days=365)) == []
    assert not Card.objects.filter(case=case).exists()


def test_the_database_refuses_to_change_or_delete_a_card(territory):
    case = report(territory, now=TUESDAY)
    [card_id] = services.cards_record(now=case.yellow_at)
    for statement in (
        "UPDATE cases_card SET colour = 'red' WHERE id = %s",
        "DELETE FROM cases_card WHERE id = %s",
    ):
        with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement, [card_id])
    assert Card.objects.get(pk=card_id).colour == "yellow"


def test_the_cards_are_recorded_every_minute():
    from procrastinate.contrib.django import app

    crons = {p.task.name: p.cron for p in app.periodic_registry.periodic_tasks.values()}
    assert crons["cases.tasks.cards_record"] == "* * * * *"
