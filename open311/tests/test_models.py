"""The attribute table and its seed, the clients' keys and their admin."""

import pytest
from django.core.exceptions import ValidationError

from open311 import attributes, services
from open311.models import Datatype, Open311Client, ServiceAttribute, values_problem
from open311.params import DATATYPES
from patrols.models import IncidentCategory


def test_the_datatypes_are_the_spec_s():
    assert tuple(Datatype.values) == DATATYPES


@pytest.mark.parametrize(
    ("datatype", "values", "wanted"),
    [
        ("singlevaluelist", [], "needs a list"),
        ("multivaluelist", [{"key": "a"}], '"key"'),
        ("singlevaluelist", [{"key": "a", "name": "A"}, {"key": "a", "name": "B"}], "same key"),
        ("number", [{"key": "a", "name": "A"}], "Only a list"),
        ("singlevaluelist", "a,b", "needs a list"),
    ],
)
def test_values_must_suit_the_datatype(datatype, values, wanted):
    assert wanted in str(values_problem(datatype, values))


def test_good_values_pass():
    assert values_problem("singlevaluelist", [{"key": "a", "name": "A"}]) is None
    assert values_problem("text", []) is None


@pytest.mark.django_db
def test_the_migration_seeded_the_attributes_and_a_second_seed_adds_nothing(territory):
    assert ServiceAttribute.objects.filter(item__code="0205").count() == 2
    assert attributes.seed(IncidentCategory, ServiceAttribute) == 0
    attribute = ServiceAttribute.objects.get(item__code="0205", code="noise_source")
    attribute.values = []
    with pytest.raises(ValidationError):
        attribute.full_clean()


@pytest.mark.django_db
def test_only_a_hash_of_the_key_is_kept(territory):
    client, key = services.client_create(name="App", county_code="411381")
    row = Open311Client.objects.get(pk=client.pk)
    assert row.key_hash != key and len(key) >= 40
    assert row.key_prefix == key[:8] and len(row.key_hash) == 64


@pytest.mark.django_db
def test_the_admin_shows_a_new_key_once(territory, client):
    client.force_login(territory.users["admin"])
    response = client.post(
        "/admin/open311/open311client/add/",
        {"name": "微信小程序", "county_code": "411381", "active": "on"},
        follow=True,
    )
    assert response.status_code == 200
    row = Open311Client.objects.get(name="微信小程序")
    shown = [str(m) for m in response.context["messages"]]
    assert any(row.key_prefix in m for m in shown), shown
    assert Open311Client.objects.count() == 1


@pytest.mark.django_db
def test_a_client_belongs_to_a_current_county(territory):
    for code in ("411381001", "999999"):
        with pytest.raises(ValidationError):
            Open311Client(name="App", county_code=code, key_prefix="x", key_hash="y").full_clean()
    Open311Client(name="App", county_code="411381", key_prefix="x", key_hash="y").full_clean()
