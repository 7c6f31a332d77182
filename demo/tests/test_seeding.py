"""Seeding the demo territory: it tiles, and every household lands in a grid."""

import pytest
from django.core.management import CommandError, call_command

from cases.models import Department
from demo.seeding import demo_seed
from territory.models import Household, Unit
from territory.topology import topology_check

pytestmark = pytest.mark.django_db


def test_small_demo_seed_tiles_and_places_every_household():
    figures = demo_seed(
        seed=7, counts={"townships": 4, "villages": 16, "grids": 60, "microgrid_grids": 2}
    )
    assert figures["township"] == 4 and figures["microgrid"] > 0
    report = topology_check(unit=Unit.objects.get(code="411381"))
    assert report.ok, report.defects[:5]
    assert Household.objects.count() == figures["households"]
    assert not Household.objects.filter(grid__isnull=True).exists()
    assert Household.objects.filter(micro_grid__isnull=False).exists()
    # The county's bureaus, and a police station and a justice office in each township.
    assert figures["departments"] == Department.objects.count() == 13 + 2 * 4


def test_an_existing_demo_gets_its_departments_on_the_next_run(capsys):
    demo_seed(seed=7, counts={"townships": 4, "villages": 16, "grids": 60, "microgrid_grids": 2})
    Department.objects.all().delete()
    call_command("seed_demo", "--if-empty", verbosity=0)
    assert "added 21 demo departments" in capsys.readouterr().out
    call_command("seed_demo", "--if-empty", verbosity=0)
    assert "added" not in capsys.readouterr().out
    assert Department.objects.count() == 21


@pytest.mark.slow
def test_full_demo_scale_passes_the_topology_check(capsys):
    # The territory alone: the demo cases have their own tests (demo/tests/test_cases.py).
    call_command("seed_demo", "--scale", "demo", "--cases", "0", verbosity=0)
    assert Unit.objects.filter(level="township").count() == 28
    assert Unit.objects.filter(level="village").count() == 626
    assert Unit.objects.filter(level="grid").count() == 6125
    assert Household.objects.count() >= 60000
    report = topology_check(unit=Unit.objects.get(code="411381"))
    assert report.ok and report.children_checked > 6800, report.defects[:5]
    with pytest.raises(CommandError, match="already has a territory"):
        call_command("seed_demo", verbosity=0)
    call_command("seed_demo", "--if-empty", "--cases", "0", verbosity=0)
    assert "kept it" in capsys.readouterr().out
