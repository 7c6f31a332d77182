"""The fixtures of the Open311 tests: the county of conftest.py's territory with the seed
attributes, and a client's api_key for it."""

import pytest

from open311 import attributes, services
from open311.models import ServiceAttribute
from patrols.models import IncidentCategory


@pytest.fixture
def county(territory):
    attributes.seed(IncidentCategory, ServiceAttribute)
    return territory.units["411381"]


@pytest.fixture
def key(county):
    return services.client_create(name="城市 App", county_code="411381")[1]
