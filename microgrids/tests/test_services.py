"""Re-dividing grids into micro-grids: preview, adjust, commit, revert and batch, on PostGIS."""

import datetime

import numpy as np
import pytest
from django.contrib.gis.geos import Point
from django.http import Http404

from microgrids import services
from territory.models import Household, MicroGridDivision, MicroGridJob, Unit
from territory.services import StaleProposal, TerritoryError

EAST = "411381001001002"  # grid A1b: 112.05-112.1 x 32.6-32.7, no micro-grids, one household
WEST = "411381001001001"  # grid A1a: two micro-grids (south, north), one household each


def add_households(code_box, n, seed=7):
    x0, y0, x1, y1 = code_box
    rng = np.random.default_rng(seed)
    rows = [
        Household(
            location=Point(float(x), float(y), srid=4326),
            address=f"测试路{i}号",
            head_name="张三",
        )
        for i, (x, y) in enumerate(zip(rng.uniform(x0, x1, n), rng.uniform(y0, y1, n), strict=True))
    ]
    Household.objects.bulk_create(rows)


@pytest.fixture
def dense(territory):
    add_households((112.051, 32.601, 112.099, 32.699), 159)  # 160 with the fixture's one
    return territory


def current_microgrids(code):
    return list(Unit.objects.current().filter(level="microgrid", parent_code=code).order_by("code"))


def test_preview_proposes_micro_grids_in_bounds_and_writes_nothing(dense):
    before = Unit.objects.count()
    proposal = services.microgrid_preview(user=dense.users["commander"], grid_code=EAST)
    counts = [f["properties"]["households"] for f in proposal["features"]]
    assert sum(counts) == 160 and all(30 <= c <= 50 for c in counts) and len(counts) == 4
    assert proposal["all_in_bounds"] and proposal["mean_polsby_popper"] > 0.6
    scores = [f["properties"]["polsby_popper"] for f in proposal["features"]]
    assert proposal["worst_polsby_popper"] == min(scores)
    ids = sorted(i for f in proposal["features"] for i in f["properties"]["household_ids"])
    assert ids == sorted(Household.objects.filter(grid__code=EAST).values_list("id", flat=True))
    assert Unit.objects.count() == before


def test_commit_creates_codes_lineage_and_reassigns_households(dense):
    user = dense.users["village_officer"]
    proposal = services.microgrid_preview(user=user, grid_code=EAST, low=30, high=50)
    division = services.microgrid_commit(user=user, grid_code=EAST, proposal=proposal)
    created = current_microgrids(EAST)
    assert [u.code for u in created] == [f"{EAST}0{i}" for i in range(1, 5)]
    assert set(division.created_units.all()) == set(created) and not division.retired_units.exists()
    per_part = {u.code: Household.objects.filter(micro_grid=u).count() for u in created}
    assert per_part == {
        f"{EAST}0{n}": f["properties"]["households"]
        for n, f in enumerate(proposal["features"], start=1)
    }
    assert Household.objects.filter(grid__code=EAST, micro_grid__isnull=True).count() == 0


def test_re_division_retires_the_old_micro_grids_and_keeps_history(territory):
    add_households((112.001, 32.601, 112.049, 32.699), 98)  # 100 in grid A1a
    user = territory.users["commander"]
    old = current_microgrids(WEST)
    household = territory.households["A1a-south"]
    assert household.micro_grid == old[0]
    before = Unit.objects.get(pk=old[0].pk).valid_from
    proposal = services.microgrid_preview(user=user, grid_code=WEST, low=30, high=50)
    division = services.microgrid_commit(user=user, grid_code=WEST, proposal=proposal)
    assert set(division.retired_units.all()) == set(old)
    for unit in old:
        unit.refresh_from_db()
        assert unit.valid_to == division.committed_at
    new = current_microgrids(WEST)
    assert len(new) == len(proposal["features"]) and all(u.predecessors.exists() for u in new)
    for unit in new:  # lineage means shared land, not a shared edge
        for predecessor in unit.predecessors.all():
            assert unit.boundary.intersection(predecessor.boundary).area > 0
    # The state just before the commit still answers with the old boundaries.
    held = Unit.objects.as_of(division.committed_at - datetime.timedelta(seconds=1))
    assert set(held.filter(level="microgrid", parent_code=WEST)) == set(old)
    assert before < division.committed_at
    household.refresh_from_db()
    assert household.micro_grid in new


def test_a_stale_proposal_is_refused_and_nothing_is_written(dense):
    user = dense.users["commander"]
    proposal = services.microgrid_preview(user=user, grid_code=EAST)
    Household.objects.create(
        location=Point(112.06, 32.66, srid=4326), address="新户", head_name="李四"
    )
    before = Unit.objects.count()
    with pytest.raises(StaleProposal, match="changed since this proposal"):
        services.microgrid_commit(user=user, grid_code=EAST, proposal=proposal)
    assert Unit.objects.count() == before and not MicroGridDivision.objects.exists()


def test_a_proposal_that_does_not_tile_the_grid_is_refused(dense):
    user = dense.users["commander"]
    proposal = services.microgrid_preview(user=user, grid_code=EAST)
    proposal["features"][0]["geometry"] = {
        "type": "Polygon",
        "coordinates": [[[112.05, 32.6], [112.06, 32.6], [112.06, 32.61], [112.05, 32.6]]],
    }
    with pytest.raises(TerritoryError) as caught:
        services.microgrid_commit(user=user, grid_code=EAST, proposal=proposal)
    assert any("belong to no micro-grid" in p.message for p in caught.value.problems)
    assert not current_microgrids(EAST)


def test_self_intersecting_polygons_and_bad_bounds_are_refused(dense):
    user = dense.users["commander"]
    proposal = services.microgrid_preview(user=user, grid_code=EAST)
    proposal["features"][0]["geometry"] = {
        "type": "Polygon",
        "coordinates": [
            [[112.05, 32.6], [112.1, 32.7], [112.1, 32.6], [112.05, 32.7], [112.05, 32.6]]
        ],
    }
    with pytest.raises(TerritoryError, match="invalid polygon"):
        services.microgrid_commit(user=user, grid_code=EAST, proposal=proposal)
    with pytest.raises(TerritoryError, match=r"minimum \(50\) is above the maximum \(30\)"):
        services.microgrid_preview(user=user, grid_code=EAST, low=50, high=30)
    with pytest.raises(TerritoryError, match="160 households cannot form micro-grids of 70-75"):
        services.microgrid_preview(user=user, grid_code=EAST, low=70, high=75)


def test_a_grid_without_households_cannot_be_divided(territory):
    Household.objects.all().delete()
    with pytest.raises(TerritoryError, match="no households"):
        services.microgrid_preview(user=territory.users["commander"], grid_code=EAST)


def test_only_planners_of_the_territory_may_divide(dense):
    with pytest.raises(Http404):
        services.microgrid_preview(user=dense.users["grid_chief"], grid_code=EAST)
    with pytest.raises(Http404):  # a village officer elsewhere
        services.microgrid_preview(user=dense.users["village_officer"], grid_code="411381101201001")


def test_adjustments_update_counts(dense):
    user = dense.users["commander"]
    proposal = services.microgrid_preview(user=user, grid_code=EAST, low=30, high=50)
    merged = services.microgrid_adjust(
        user=user,
        grid_code=EAST,
        proposal=proposal,
        operation={"op": "merge", "part": 1, "other": 2},
    )
    first, second = (f["properties"]["households"] for f in proposal["features"][:2])
    assert len(merged["features"]) == 3
    assert merged["features"][0]["properties"]["households"] == first + second
    assert not merged["all_in_bounds"]
    split = services.microgrid_adjust(
        user=user, grid_code=EAST, proposal=merged, operation={"op": "split", "part": 1}
    )
    assert len(split["features"]) == 4 and split["all_in_bounds"]
    with pytest.raises(TerritoryError, match="there is no micro-grid 9"):
        services.microgrid_adjust(
            user=user, grid_code=EAST, proposal=split, operation={"op": "split", "part": 9}
        )
    with pytest.raises(TerritoryError, match="expected one of"):
        services.microgrid_adjust(user=user, grid_code=EAST, proposal=split, operation={"op": "x"})


def test_lock_and_rerun_keeps_the_locked_micro_grid(dense):
    user = dense.users["commander"]
    proposal = services.microgrid_preview(user=user, grid_code=EAST)
    locked = services.microgrid_adjust(
        user=user, grid_code=EAST, proposal=proposal, operation={"op": "lock", "part": 2}
    )
    rerun = services.microgrid_adjust(
        user=user, grid_code=EAST, proposal=locked, operation={"op": "rerun", "low": 20, "high": 30}
    )
    kept = [f for f in rerun["features"] if f["properties"]["locked"]]
    assert len(kept) == 1 and kept[0]["geometry"] == proposal["features"][1]["geometry"]
    others = [
        f["properties"]["households"] for f in rerun["features"] if not f["properties"]["locked"]
    ]
    assert all(20 <= c <= 30 for c in others)


def test_revert_brings_the_old_micro_grids_back(territory):
    add_households((112.001, 32.601, 112.049, 32.699), 98)
    user = territory.users["commander"]
    old = current_microgrids(WEST)
    proposal = services.microgrid_preview(user=user, grid_code=WEST)
    division = services.microgrid_commit(user=user, grid_code=WEST, proposal=proposal)
    services.microgrid_division_revert(user=user, division=division)
    back = current_microgrids(WEST)
    assert [(u.code, u.boundary.wkb) for u in back] == [(u.code, u.boundary.wkb) for u in old]
    assert all(old[i] in back[i].predecessors.all() for i in range(len(old)))
    assert not any(u.valid_to is None for u in division.created_units.all())
    south = territory.households["A1a-south"]
    south.refresh_from_db()
    assert south.micro_grid == back[0]
    with pytest.raises(TerritoryError, match="already reverted"):
        services.microgrid_division_revert(user=user, division=division)


def test_revert_is_refused_after_a_later_division(territory):
    add_households((112.001, 32.601, 112.049, 32.699), 98)
    user = territory.users["commander"]
    first = services.microgrid_commit(
        user=user, grid_code=WEST, proposal=services.microgrid_preview(user=user, grid_code=WEST)
    )
    services.microgrid_commit(
        user=user,
        grid_code=WEST,
        proposal=services.microgrid_preview(user=user, grid_code=WEST, low=20, high=25),
    )
    with pytest.raises(StaleProposal, match="revert that first"):
        services.microgrid_division_revert(user=user, division=first)


def test_batch_job_divides_what_it_can_and_reports_the_rest(dense):
    user = dense.users["commander"]
    job = services.microgrid_job_create(user=user, unit_code="411381001001", commit=True)
    assert job.status == MicroGridJob.Status.QUEUED  # the worker runs it (see test_jobs.py)
    services.microgrid_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == MicroGridJob.Status.DONE and job.total == job.done == 2
    report = {r["grid"]: r for r in job.report}
    assert report[EAST]["status"] == "divided" and report[EAST]["micro_grids"] == 4
    assert report[WEST]["status"] == "not divided"
    assert "2 households cannot form micro-grids of 30-50" in report[WEST]["reason"]
    assert len(current_microgrids(EAST)) == 4 and len(current_microgrids(WEST)) == 2


def test_small_grids_merge_into_the_neighbour_and_keep_their_micro_grids(territory):
    # Grid A1a holds 2 households (and two micro-grids), A1b holds 1 plus 40 new ones.
    add_households((112.051, 32.601, 112.099, 32.699), 40)
    user = territory.users["commander"]
    plan = services.grids_merge_small(user=user, unit_code="411381001001", low=30)
    assert [(m.into, m.absorbed, m.households) for m in plan] == [(EAST, [WEST], 43)]
    assert Unit.objects.current().filter(code=WEST).exists()  # a plan writes nothing
    services.grids_merge_small(user=user, unit_code="411381001001", low=30, commit=True)
    merged = Unit.objects.current().get(code=EAST)
    assert merged.boundary.extent == pytest.approx((112.0, 32.6, 112.1, 32.7))
    assert not Unit.objects.current().filter(code=WEST).exists()
    moved = current_microgrids(EAST)
    assert [u.code for u in moved] == [f"{EAST}01", f"{EAST}02"]
    assert all(u.predecessors.filter(parent_code=WEST).exists() for u in moved)
    assert Household.objects.filter(grid=merged).count() == 43
    south = territory.households["A1a-south"]
    south.refresh_from_db()
    assert south.grid == merged and south.micro_grid == moved[0]
    with pytest.raises(Http404):
        services.grids_merge_small(
            user=territory.users["grid_worker"], unit_code="411381001001", low=30
        )


def test_committing_the_current_division_again_is_refused(territory):
    user = territory.users["commander"]
    proposal = services.microgrid_preview(user=user, grid_code=WEST, low=1, high=1, start="current")
    codes = [f["properties"]["code"] for f in proposal["features"]]
    assert codes == ["41138100100100101", "41138100100100102"]  # south, north
    with pytest.raises(TerritoryError, match="nothing to do"):
        services.microgrid_commit(user=user, grid_code=WEST, proposal=proposal)


def test_a_locked_micro_grid_keeps_its_row_and_code(territory):
    user = territory.users["commander"]
    Household.objects.create(
        location=Point(112.03, 32.61, srid=4326), address="南2", head_name="王五"
    )
    proposal = services.microgrid_preview(user=user, grid_code=WEST, low=1, high=2, start="current")
    locked = services.microgrid_adjust(
        user=user, grid_code=WEST, proposal=proposal, operation={"op": "lock", "part": 2}
    )
    split = services.microgrid_adjust(
        user=user, grid_code=WEST, proposal=locked, operation={"op": "rerun", "low": 1, "high": 1}
    )
    assert len(split["features"]) == 3
    division = services.microgrid_commit(user=user, grid_code=WEST, proposal=split)
    assert [u.code for u in division.retired_units.all()] == ["41138100100100101"]
    assert sorted(u.code for u in division.created_units.all()) == [
        "41138100100100101",
        "41138100100100103",
    ]
    north = Unit.objects.current().get(code="41138100100100102")
    assert north.pk == territory.units["41138100100100102"].pk  # the same row, untouched


def test_a_household_outside_the_grid_is_a_clear_error_not_a_guess(dense):
    # A household whose record names the grid but whose position lies elsewhere (the placing
    # trigger runs on its position; the grid column was written around it).
    stray = Household.objects.create(
        location=Point(112.2, 32.65, srid=4326), address="外路1号", head_name="李四"
    )
    Household.objects.filter(pk=stray.pk).update(grid=Unit.objects.current().get(code=EAST))
    if Household.objects.get(pk=stray.pk).grid.code != EAST:
        pytest.skip("the trigger re-places households on every write")
    before = Unit.objects.count()
    with pytest.raises(TerritoryError) as caught:
        services.microgrid_preview(user=dense.users["commander"], grid_code=EAST)
    problem = caught.value.problems[0]
    assert problem.where == "households" and "outside the grid" in problem.message
    assert str(stray.pk) in problem.message
    assert Unit.objects.count() == before
