"""The service catalogue: about 10 categories and 60 items in zh and en, each with complete terms
for every timed step of the flow, seeded by a migration that never overwrites an admin's edit;
the admin refuses incomplete or invalid terms and saves nothing then."""

from datetime import datetime

import pytest
from django.contrib.auth.models import Permission
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse

from cases import catalogue
from cases.flow import STEP_OF_STATUS, TRANSITIONS, Step
from cases.models import LimitUnit, Responsible, ServiceTerms, StepLimit, default_yellow_share
from cases.selectors import service_terms_for
from cases.working_time import SHANGHAI, WorkingCalendar
from patrols import catalogue as patrol_catalogue
from patrols.models import IncidentCategory, VisitPolicy
from territory.tests.factories import UserFactory


def timed_steps() -> set[Step]:
    """Every step flow.py runs a limit for, read from the flow itself: a status's running limit
    and each transition's started one."""
    steps = {s for s in STEP_OF_STATUS.values() if s is not None}
    steps |= {t.starts for t in TRANSITIONS.values() if t.starts is not None}
    return steps | set(Step)


# --- the seed data, without a database --------------------------------------------------------


def test_every_catalogue_item_has_terms_and_no_terms_lack_an_item():
    assert set(catalogue.TERMS) == set(catalogue.catalogue_item_codes())


def test_the_seed_terms_limit_every_timed_step_positively():
    for code, terms in catalogue.TERMS.items():
        assert set(terms.limits) == timed_steps(), code
        for step, (amount, unit) in terms.limits.items():
            assert isinstance(amount, int) and amount >= 1, (code, step)
            assert unit in LimitUnit.values, (code, step)
        assert terms.responsible in Responsible.values, code
        assert terms.yellow_share is None or 0 < terms.yellow_share < 1, code


def test_every_kind_of_responsibility_occurs():
    kinds = {t.responsible for t in catalogue.TERMS.values()}
    assert kinds == set(Responsible.values)
    assert any(t.auto_case for t in catalogue.TERMS.values())
    assert any(not t.public for t in catalogue.TERMS.values())


# --- what the migrations seeded -----------------------------------------------------------------


@pytest.mark.django_db
def test_the_seeded_catalogue_has_about_ten_categories_and_sixty_items_in_zh_and_en():
    categories = IncidentCategory.objects.filter(parent__isnull=True)
    items = IncidentCategory.objects.filter(parent__isnull=False)
    assert 9 <= categories.count() <= 12
    assert 55 <= items.count() <= 70
    for entry in IncidentCategory.objects.all():
        assert entry.name.strip() and entry.name_en.strip(), entry.code
        assert entry.name != entry.name_en, entry.code
        assert any("\u4e00" <= ch <= "\u9fff" for ch in entry.name), entry.code
        assert entry.name_en.isascii(), entry.code
    # Names are distinct, in each language, so a worker never picks between two alike.
    assert len({e.name for e in items}) == items.count()
    assert len({e.name_en for e in items}) == items.count()
    assert all(c.items.exists() for c in categories)


@pytest.mark.django_db
def test_every_seeded_item_has_complete_terms_for_every_timed_step():
    items = IncidentCategory.objects.filter(parent__isnull=False)
    for item in items:
        terms = ServiceTerms.objects.get(item=item)
        limits = {limit.step: limit for limit in terms.limits.all()}
        assert set(limits) == {s.value for s in timed_steps()}, item.code
        assert all(limit.amount >= 1 for limit in limits.values()), item.code
        assert 0 < terms.effective_yellow_share < 1


@pytest.mark.django_db
def test_the_terms_give_deadlines_on_the_working_calendar():
    gas = ServiceTerms.objects.get(item__code="0402")  # 燃气安全: urgent, in working hours
    limit = gas.limits.get(step=Step.DISPATCH)
    assert (limit.amount, limit.unit) == (1, LimitUnit.WORKING_HOURS)
    # Friday 25 September 2026 is the Mid-Autumn Festival (中秋节): the hour starts on Monday.
    mid_autumn = datetime(2026, 9, 25, 17, 0, tzinfo=SHANGHAI)
    calendar = WorkingCalendar()
    assert limit.deadline(start=mid_autumn, calendar=calendar).at == datetime(
        2026, 9, 28, 9, 30, tzinfo=SHANGHAI
    )
    land = ServiceTerms.objects.get(item__code="1003").limits.get(step=Step.HANDLE)
    assert land.unit == LimitUnit.WORKING_DAYS
    # 15 working days across National Day (October 1-7, 2026; Saturday the 10th made up):
    # September 28, 29, 30, October 8, 9, 10, 12-16, 19-22.
    assert land.deadline(start=mid_autumn, calendar=calendar).at == datetime(
        2026, 10, 22, 17, 30, tzinfo=SHANGHAI
    )


@pytest.mark.django_db
def test_service_terms_for_an_item_without_terms_falls_back_to_the_defaults():
    category = IncidentCategory.objects.get(code="08")
    new = IncidentCategory.objects.create(
        code="0899", name="新事项", name_en="New item", parent=category
    )
    terms = service_terms_for(item=new)
    assert set(terms.limits) == timed_steps()
    row = ServiceTerms.objects.get(item__code="0402")
    row.yellow_share = None
    row.save()
    row.limits.filter(step=Step.VERIFY).delete()
    terms = service_terms_for(item=row.item)
    assert terms.limits[Step.DISPATCH] == (1, "hours")
    assert terms.limits[Step.VERIFY] == catalogue.DEFAULT_LIMITS[Step.VERIFY]
    assert terms.yellow_share == default_yellow_share() == 0.8


@pytest.mark.django_db
def test_seeding_twice_adds_nothing_and_never_overwrites_an_edit():
    terms = ServiceTerms.objects.get(item__code="0201")
    terms.responsible = Responsible.DEPARTMENT
    terms.yellow_share = 0.6
    terms.save()
    limit = terms.limits.get(step=Step.HANDLE)
    limit.amount, limit.unit = 9, LimitUnit.WORKING_HOURS
    limit.save()
    item = terms.item
    item.name = "垃圾堆放（改）"
    item.save()
    before = (
        IncidentCategory.objects.count(),
        ServiceTerms.objects.count(),
        StepLimit.objects.count(),
    )
    patrol_catalogue.seed(VisitPolicy, IncidentCategory)
    assert catalogue.seed(IncidentCategory, ServiceTerms, StepLimit) == 0
    assert catalogue.seed(IncidentCategory, ServiceTerms, StepLimit) == 0
    after = (
        IncidentCategory.objects.count(),
        ServiceTerms.objects.count(),
        StepLimit.objects.count(),
    )
    assert after == before
    terms.refresh_from_db()
    limit.refresh_from_db()
    item.refresh_from_db()
    assert (terms.responsible, terms.yellow_share) == (Responsible.DEPARTMENT, 0.6)
    assert (limit.amount, limit.unit) == (9, LimitUnit.WORKING_HOURS)
    assert item.name == "垃圾堆放（改）"


@pytest.mark.django_db
def test_seeding_adds_only_what_is_missing():
    row = ServiceTerms.objects.get(item__code="0901")
    row.limits.filter(step=Step.PUBLISH).delete()
    ServiceTerms.objects.get(item__code="1006").delete()
    added = catalogue.seed(IncidentCategory, ServiceTerms, StepLimit)
    assert added == 1 + 1 + len(Step)
    assert row.limits.get(step=Step.PUBLISH).amount == catalogue.DEFAULT_LIMITS[Step.PUBLISH][0]


@pytest.mark.django_db
def test_the_database_refuses_invalid_terms():
    terms = ServiceTerms.objects.get(item__code="0101")
    limits = StepLimit.objects.filter(terms=terms, step=Step.HANDLE)
    for bad in ({"amount": 0}, {"unit": "weeks"}, {"step": "nap"}):
        with pytest.raises(IntegrityError), transaction.atomic():
            limits.update(**bad)
    with pytest.raises(IntegrityError), transaction.atomic():
        ServiceTerms.objects.filter(pk=terms.pk).update(yellow_share=1.5)


# --- the admin ------------------------------------------------------------------------------------


def _client(user):
    client = Client()
    client.force_login(user)
    return client


def _terms_post(item, limits, **fields):
    """An admin add/change form body: the terms and one inline row per (step, amount, unit)."""
    data = {
        "item": item.pk,
        "responsible": fields.get("responsible", Responsible.GRID),
        "public": "on",
        "active": "on",
        "yellow_share": fields.get("yellow_share", ""),
        "limits-TOTAL_FORMS": str(len(limits)),
        "limits-INITIAL_FORMS": "0",
        "limits-MIN_NUM_FORMS": str(len(Step)),
        "limits-MAX_NUM_FORMS": str(len(Step)),
    }
    for i, (step, amount, unit) in enumerate(limits):
        data.update(
            {f"limits-{i}-step": step, f"limits-{i}-amount": amount, f"limits-{i}-unit": unit}
        )
    return data


def _complete():
    return [(s.value, "3", "days") for s in Step]


@pytest.mark.django_db
def test_the_admin_adds_complete_terms():
    admin_user = UserFactory(username="root", is_staff=True, is_superuser=True)
    client = _client(admin_user)
    category = IncidentCategory.objects.get(code="08")
    item = IncidentCategory.objects.create(
        code="0899", name="新事项", name_en="New", parent=category
    )
    url = reverse("admin:cases_serviceterms_add")
    page = client.get(url)
    assert page.status_code == 200
    # The add form offers one row per step, already named.
    for i in range(len(Step)):
        assert f'name="limits-{i}-step"' in page.content.decode()
    response = client.post(url, _terms_post(item, _complete(), yellow_share="0.7"))
    assert response.status_code == 302, response.content.decode()[:3000]
    terms = ServiceTerms.objects.get(item=item)
    assert terms.yellow_share == 0.7 and terms.limits.count() == len(Step)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "case",
    [
        "zero limit",
        "negative limit",
        "unknown unit",
        "missing step",
        "step twice",
        "share of one",
        "a category",
    ],
)
def test_the_admin_refuses_invalid_terms_and_saves_nothing(case):
    admin_user = UserFactory(username="root", is_staff=True, is_superuser=True)
    client = _client(admin_user)
    category = IncidentCategory.objects.get(code="08")
    item = IncidentCategory.objects.create(
        code="0899", name="新事项", name_en="New", parent=category
    )
    limits = _complete()
    fields = {}
    if case == "zero limit":
        limits[3] = (limits[3][0], "0", "days")
    elif case == "negative limit":
        limits[3] = (limits[3][0], "-2", "days")
    elif case == "unknown unit":
        limits[0] = (limits[0][0], "3", "weeks")
    elif case == "missing step":
        limits = limits[:-1]
    elif case == "step twice":
        limits[1] = (limits[0][0], "3", "days")
    elif case == "share of one":
        fields["yellow_share"] = "1"
    elif case == "a category":
        item = category
    response = client.post(
        reverse("admin:cases_serviceterms_add"), _terms_post(item, limits, **fields)
    )
    assert response.status_code == 200, case
    assert "errornote" in response.content.decode() or "errorlist" in response.content.decode()
    assert not ServiceTerms.objects.filter(item=item).exists(), case
    assert not StepLimit.objects.filter(terms__item=item).exists(), case


@pytest.mark.django_db
def test_the_admin_refuses_an_edit_that_breaks_existing_terms():
    admin_user = UserFactory(username="root", is_staff=True, is_superuser=True)
    client = _client(admin_user)
    terms = ServiceTerms.objects.get(item__code="0101")
    limits = list(terms.limits.order_by("pk"))
    url = reverse("admin:cases_serviceterms_change", args=[terms.pk])
    data = {
        "item": terms.item_id,
        "responsible": terms.responsible,
        "public": "on",
        "active": "on",
        "yellow_share": "",
        "loaded_version": terms.version,
        "limits-TOTAL_FORMS": str(len(limits)),
        "limits-INITIAL_FORMS": str(len(limits)),
        "limits-MIN_NUM_FORMS": str(len(Step)),
        "limits-MAX_NUM_FORMS": str(len(Step)),
    }
    for i, limit in enumerate(limits):
        data.update(
            {
                f"limits-{i}-id": limit.pk,
                f"limits-{i}-terms": terms.pk,
                f"limits-{i}-step": limit.step,
                f"limits-{i}-amount": limit.amount,
                f"limits-{i}-unit": limit.unit,
                f"limits-{i}-loaded_version": limit.version,
            }
        )
    data["limits-0-amount"] = "0"
    data["responsible"] = Responsible.VOLUNTEER
    response = client.post(url, data)
    assert response.status_code == 200
    terms.refresh_from_db()
    assert terms.responsible == Responsible.DEPARTMENT  # the seed's, unchanged
    assert list(terms.limits.order_by("pk").values_list("amount", flat=True)) == [
        x.amount for x in limits
    ]
    data["limits-0-amount"] = "2"
    assert client.post(url, data).status_code == 302
    terms.refresh_from_db()
    assert terms.responsible == Responsible.VOLUNTEER
    assert terms.limits.get(pk=limits[0].pk).amount == 2


@pytest.mark.django_db
def test_the_terms_list_shows_every_item():
    staff = UserFactory(username="editor", is_staff=True)
    staff.user_permissions.set(
        Permission.objects.filter(content_type__app_label="cases", codename__contains="terms")
    )
    page = _client(staff).get(reverse("admin:cases_serviceterms_changelist") + "?all=")
    assert page.status_code == 200
    assert "燃气安全" in page.content.decode()
