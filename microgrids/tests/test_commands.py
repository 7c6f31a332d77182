"""The micro-grid commands: divide_grids and merge_small_grids."""

import io

import pytest
from django.core.management import CommandError, call_command

from microgrids.tests.test_services import EAST, add_households
from territory.models import Household, Unit

pytestmark = pytest.mark.django_db


def test_divide_grids_reports_what_it_could_not_divide(territory):
    add_households((112.051, 32.601, 112.099, 32.699), 159)
    out = io.StringIO()
    call_command("divide_grids", "411381001001", "--commit", stdout=out)
    text = out.getvalue()
    assert "411381001001001 grid-411381001001001: not divided: 2 households cannot" in text
    assert "1 of 2 grids divided; 1 not divided." in text
    assert Unit.objects.current().filter(level="microgrid", parent_code=EAST).count() == 4
    assert not Household.objects.filter(grid__code=EAST, micro_grid__isnull=True).exists()
    with pytest.raises(CommandError, match="unknown unit"):
        call_command("divide_grids", "999999")


def test_merge_small_grids_command_plans_then_commits(territory):
    out = io.StringIO()
    call_command("merge_small_grids", "411381001001", "--min", "2", stdout=out)
    assert "411381001001002 -> 411381001001001 (3 households)" in out.getvalue()
    assert Unit.objects.current().filter(code="411381001001002").exists()
    call_command("merge_small_grids", "411381001001", "--min", "2", "--commit", stdout=out)
    assert not Unit.objects.current().filter(code="411381001001002").exists()
