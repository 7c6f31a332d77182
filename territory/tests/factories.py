import datetime

import factory
import shapely
from django.contrib.auth import get_user_model
from django.contrib.gis.geos import Point

from core.validity import start_of
from territory.models import Household, Unit
from territory.services import to_geos


def box(x0, y0, x1, y1):
    """A small valid rectangle as a WGS84 MultiPolygon (SRID 4326)."""
    return to_geos(shapely.MultiPolygon([shapely.box(x0, y0, x1, y1)]))


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name", locale="zh_CN")
    last_name = factory.Faker("last_name", locale="zh_CN")
    password = factory.django.Password("pw")


class UnitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Unit

    level = "grid"
    code = factory.Sequence(lambda n: f"411381001001{n:03d}")
    name = factory.Faker("street_name", locale="zh_CN")
    parent_code = ""
    boundary = factory.LazyFunction(lambda: box(112.0, 32.6, 112.01, 32.61))
    valid_from = start_of(datetime.date(2024, 1, 1))


class HouseholdFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Household

    location = factory.LazyFunction(lambda: Point(112.005, 32.605, srid=4326))
    address = factory.Faker("address", locale="zh_CN")
    members = 3
    head_name = factory.Faker("name", locale="zh_CN")
    head_phone = factory.Faker("phone_number", locale="zh_CN")
