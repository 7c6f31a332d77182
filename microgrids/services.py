"""Writes for micro-grids: preview, adjust, commit and revert a grid's division, batch jobs
over a village or township, and merging small grids. Each function is one user action and one
transaction; bad input raises TerritoryError and writes nothing. The engine is
microgrids.partition (pure); proposals travel as GeoJSON (microgrids.proposals)."""

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import shapely
from django.conf import settings
from django.core import signing
from django.db import models, transaction
from django.utils import timezone

from core.geometry import as_multipolygon as geometry_as_multipolygon
from territory import selectors
from territory.codes import Level
from territory.models import (
    Household,
    MicroGridDivision,
    MicroGridJob,
    Unit,
)
from territory.services import (
    Problem,
    StaleProposal,
    TerritoryError,
    _shape,
    to_geos,
    unit_replace,
    unit_retire,
)

from . import partition, proposals


def _problem(where: str, message: str) -> TerritoryError:
    return TerritoryError([Problem(where, message)])


def _infeasible(exc: partition.Infeasible) -> TerritoryError:
    return TerritoryError([Problem("bounds", f"{exc.reason} {exc.suggestion}")])


def _bad_input(exc: partition.BadInput, ids: list[int]) -> TerritoryError:
    where = "households" if exc.households else "grid"
    return TerritoryError([Problem(where, exc.describe(lambda i: ids[i]))])


def _current_microgrids(grid: Unit) -> list[Unit]:
    return list(
        Unit.objects.current()
        .at_level(Level.MICROGRID)
        .filter(parent_code=grid.code)
        .order_by("code")
    )


def _share_land(a, b) -> bool:
    """Lineage between micro-grids: they overlap in area (a shared edge is not land)."""
    return a.intersects(b) and not a.touches(b)


def _grid_polygon(grid: Unit):
    return shapely.make_valid(_shape(grid))


def _unchanged_codes(parts, microgrids: list[Unit]) -> list[str | None]:
    """Per part, the code of the current micro-grid it is identical to (else None)."""
    shapes = [(m.code, _shape(m)) for m in microgrids]
    codes = []
    for part in parts:
        same = next(
            (
                code
                for code, shape in shapes
                if shapely.equals(shape, part.geometry)  # the same point set, exactly
            ),
            None,
        )
        codes.append(same)
    return codes


# A proposal travels through the client between preview, adjustments and commit. What decides
# a commit and is not recomputed from the database (households are, per part, from the
# geometry; the tiling is checked against the grid) are the bounds: the server signs them with
# the grid and basis, and a proposal whose signed figures differ from its own is refused.
SIGNING_SALT = "microgrids.proposal"


def _signed_figures(proposal: dict) -> dict:
    return {k: proposal[k] for k in ("grid", "basis", "low", "high")}


def _proposal(grid, result, *, ids, seed, barriers) -> dict:
    proposal = proposals.to_geojson(
        result,
        grid_code=grid.code,
        basis=selectors.grid_basis(grid=grid),
        household_ids=ids,
        seed=seed,
        barriers=barriers,
        codes=_unchanged_codes(result.parts, _current_microgrids(grid)),
    )
    proposal["signature"] = signing.dumps(_signed_figures(proposal), salt=SIGNING_SALT)
    return proposal


def _check_signature(proposal: dict, result) -> None:
    """Refuse a proposal whose bounds (or grid, basis) are not the ones the server made."""
    try:
        signed = signing.loads(str(proposal.get("signature") or ""), salt=SIGNING_SALT)
    except signing.BadSignature:
        signed = None
    figures = {
        "grid": proposal.get("grid"),
        "basis": proposal.get("basis"),
        "low": result.low,
        "high": result.high,
    }
    if signed != figures:
        raise _problem(
            "proposal.signature",
            "this proposal was not made by this server or was edited (its bounds, grid or "
            "basis); preview again and change it with adjustments",
        )


def microgrid_preview(
    *,
    user,
    grid_code: str,
    low: int = 30,
    high: int = 50,
    seed: int = 0,
    barriers: dict | None = None,
    start: str = "engine",
) -> dict:
    """A proposal for dividing one grid (GeoJSON, see microgrids.proposals); writes nothing. `start`
    "current" begins from the grid's current micro-grids instead of the engine's proposal."""
    grid = selectors.grid_to_divide_for_user(user=user, code=grid_code)
    try:
        lines = proposals.barriers_from_geojson(barriers)
    except proposals.ProposalError as exc:
        raise _problem("barriers", str(exc)) from exc
    ids, xy = selectors.grid_households_xy(grid=grid)
    if start == "current":
        microgrids = _current_microgrids(grid)
        if not microgrids:
            raise _problem("start", f"grid {grid.code} has no micro-grids yet")
        data = {
            "type": "FeatureCollection",
            "low": low,
            "high": high,
            "features": [
                {"type": "Feature", "geometry": json.loads(m.boundary.geojson)} for m in microgrids
            ],
        }
        result, _ = proposals.from_geojson(data, xy=xy)
    elif start == "engine":
        try:
            result = partition.divide(
                _grid_polygon(grid),
                xy,
                low=low,
                high=high,
                seed=seed,
                barriers=proposals.barrier_list(lines),
            )
        except partition.Infeasible as exc:
            raise _infeasible(exc) from exc
        except partition.BadInput as exc:
            raise _bad_input(exc, ids) from exc
    else:
        raise _problem("start", "expected engine or current")
    return _proposal(grid, result, ids=ids, seed=seed, barriers=lines)


def _read_proposal(grid, proposal, xy):
    try:
        result, settings_ = proposals.from_geojson(proposal, xy=xy)
    except proposals.ProposalError as exc:
        raise _problem("proposal", str(exc)) from exc
    if settings_["grid"] != grid.code:
        raise _problem("proposal.grid", f"this proposal is for grid {settings_['grid']}")
    if settings_["basis"] != selectors.grid_basis(grid=grid):
        raise StaleProposal(
            [
                Problem(
                    "proposal.basis",
                    "the grid changed since this proposal was made (households, micro-grids or "
                    "its boundary); preview again",
                )
            ]
        )
    _check_signature(proposal, result)
    return result, settings_


def _part_index(operation: dict, key: str, n: int) -> int:
    try:
        number = int(operation[key])
    except (KeyError, TypeError, ValueError, OverflowError) as exc:
        raise _problem(f"operation.{key}", "expected a micro-grid number") from exc
    if not 1 <= number <= n:
        raise _problem(f"operation.{key}", f"there is no micro-grid {number}")
    return number - 1


SEED_MAX = 2**32 - 1
BOUND_MAX = 999


def _whole(operation: dict, key: str, default, low: int, high: int):
    """operation[key] as an integer in low..high (default when absent or null)."""
    value = operation.get(key)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise _problem(f"operation.{key}", f"expected a whole number from {low} to {high}")
    return value


ADJUSTMENTS = ("merge", "split", "move_area", "move_households", "lock", "unlock", "rerun")


def microgrid_adjust(*, user, grid_code: str, proposal: dict, operation: dict) -> dict:
    """Apply one planner's adjustment to a proposal and return the new proposal (no writes).
    Micro-grids are numbered from 1 as in the proposal's features."""
    grid = selectors.grid_to_divide_for_user(user=user, code=grid_code)
    ids, xy = selectors.grid_households_xy(grid=grid)
    result, settings_ = _read_proposal(grid, proposal, xy)
    if not isinstance(operation, dict):
        raise _problem("operation", "expected an object with op")
    op = operation.get("op")
    n = len(result.parts)
    seed = settings_["seed"]
    try:
        if op == "merge":
            a = _part_index(operation, "part", n)
            b = _part_index(operation, "other", n)
            result = partition.adjust_merge(result, a, b)
        elif op == "split":
            result = partition.adjust_split(
                result, xy, _part_index(operation, "part", n), seed=seed
            )
        elif op == "move_area":
            try:
                area = proposals.geometry_from_geojson(operation.get("area"), what="area")
            except proposals.ProposalError as exc:
                raise _problem("operation.area", str(exc)) from exc
            if area.geom_type not in ("Polygon", "MultiPolygon"):
                raise _problem("operation.area", "draw a polygon")
            to = _part_index(operation, "to", n)
            result = partition.adjust_move_area(result, xy, area, to)
        elif op == "move_households":
            position = {h: i for i, h in enumerate(ids)}
            wanted = operation.get("households") or []
            if not isinstance(wanted, list) or not all(
                isinstance(h, int) and not isinstance(h, bool) for h in wanted
            ):
                raise _problem("operation.households", "expected a list of household ids")
            missing = [h for h in wanted if h not in position]
            if missing or not wanted:
                raise _problem("operation.households", f"not households of this grid: {missing}")
            to = _part_index(operation, "to", n)
            result = partition.adjust_move_households(result, xy, [position[h] for h in wanted], to)
        elif op in ("lock", "unlock"):
            result = partition.adjust_lock(result, _part_index(operation, "part", n), op == "lock")
        elif op == "rerun":
            seed = _whole(operation, "seed", seed, 0, SEED_MAX)
            result = partition.adjust_rerun(
                result,
                _grid_polygon(grid),
                xy,
                seed=seed,
                barriers=proposals.barrier_list(settings_["barriers"]),
                low=_whole(operation, "low", None, 1, BOUND_MAX),
                high=_whole(operation, "high", None, 1, BOUND_MAX),
            )
        else:
            raise _problem("operation.op", f"expected one of {', '.join(ADJUSTMENTS)}")
    except partition.AdjustmentError as exc:
        raise _problem("operation", str(exc)) from exc
    except partition.Infeasible as exc:
        raise _infeasible(exc) from exc
    except partition.BadInput as exc:
        raise _bad_input(exc, ids) from exc
    return _proposal(grid, result, ids=ids, seed=seed, barriers=settings_["barriers"])


def microgrid_commit(*, user, grid_code: str, proposal: dict) -> MicroGridDivision:
    """Make a proposal the grid's micro-grids, in one transaction: micro-grids identical to a
    current one keep it; the others are created (code = grid code + 2 digits, lineage to the
    micro-grids they overlap) and the replaced ones retired (kept, queryable as of a date).
    Households are re-placed by the database triggers. Refused, writing nothing, when the
    proposal is stale, does not tile the grid, or holds a micro-grid outside its bounds."""
    grid = selectors.grid_to_divide_for_user(user=user, code=grid_code)
    with transaction.atomic():
        # Serialise commits on this grid: the second waits, then finds its proposal stale.
        grid = Unit.objects.select_for_update().get(pk=grid.pk)
        if grid.valid_to is not None:
            raise StaleProposal([Problem("grid", "the grid was retired meanwhile")])
        ids, xy = selectors.grid_households_xy(grid=grid)
        result, _ = _read_proposal(grid, proposal, xy)
        problems = [
            Problem("proposal", message)
            for message in proposals.tiling_problems(
                _grid_polygon(grid),
                [p.geometry for p in result.parts],
                tolerance_m2=settings.WANGGE_TOPOLOGY_TOLERANCE_M2,
            )
        ]
        for number, part in enumerate(result.parts, start=1):
            if not result.low <= part.households <= result.high:
                problems.append(
                    Problem(
                        f"micro-grid {number}",
                        f"{part.households} households, outside {result.low}-{result.high}",
                    )
                )
        if problems:
            raise TerritoryError(problems)
        current = _current_microgrids(grid)
        codes = _unchanged_codes(result.parts, current)
        kept = set(filter(None, codes))
        if len(kept) == len(current) == len(result.parts):
            raise _problem("proposal", "the proposal is the grid's current division: nothing to do")
        now = timezone.now()
        retired = []
        for unit in current:
            if unit.code not in kept:
                retired.append(unit_retire(unit=unit, on_date=now))
        free_numbers = (
            n for n in range(1, proposals.MAX_PARTS + 1) if f"{grid.code}{n:02d}" not in kept
        )
        division = MicroGridDivision.objects.create(
            grid=grid,
            low=result.low,
            high=result.high,
            notes=result.notes,
            committed_by=user,
            committed_at=now,
        )
        created = []
        for part, code in zip(result.parts, codes, strict=True):
            if code is not None:
                continue
            number = next(free_numbers)
            unit = Unit.objects.create(
                level=Level.MICROGRID,
                code=f"{grid.code}{number:02d}",
                name=f"{grid.name}-微网格{number:02d}",
                parent_code=grid.code,
                boundary=to_geos(geometry_as_multipolygon(part.geometry)),
                valid_from=now,
            )
            unit.predecessors.set([r for r in retired if _share_land(part.geometry, _shape(r))])
            created.append(unit)
        division.created_units.set(created)
        division.retired_units.set(retired)
    return division


def microgrid_division_revert(*, user, division: MicroGridDivision) -> MicroGridDivision:
    """Undo a committed division: its micro-grids are retired and the ones it replaced come
    back as new versions (same codes and boundaries, lineage to both). Refused when a later
    change touched the grid or its micro-grids: revert that first."""
    selectors.grid_to_divide_for_user(user=user, code=division.grid.code)
    with transaction.atomic():
        division = MicroGridDivision.objects.select_for_update().get(pk=division.pk)
        grid = Unit.objects.select_for_update().get(pk=division.grid_id)
        if division.reverted_at is not None:
            raise _problem("division", "this division was already reverted")
        created = list(division.created_units.select_for_update())
        if grid.valid_to is not None or any(u.valid_to is not None for u in created):
            raise StaleProposal(
                [Problem("division", "the grid changed after this division; revert that first")]
            )
        now = timezone.now()
        for unit in created:
            unit_retire(unit=unit, on_date=now)
        for old in division.retired_units.all():
            back = Unit.objects.create(
                level=old.level,
                code=old.code,
                name=old.name,
                name_en=old.name_en,
                parent_code=old.parent_code,
                boundary=old.boundary,
                valid_from=now,
            )
            back.predecessors.set(
                [old, *(u for u in created if _share_land(_shape(u), _shape(old)))]
            )
        division.reverted_at = now
        division.reverted_by = user
        division.save(update_fields=["reverted_at", "reverted_by"])
    return division


@transaction.atomic
def microgrid_job_create(
    *, user, unit_code: str, low: int = 30, high: int = 50, commit: bool = False, start: bool = True
) -> MicroGridJob:
    """Queue a batch re-division of every grid under a village or township for the task
    worker, or not at all with start=False (the caller runs microgrid_job_run itself)."""
    unit = selectors.unit_for_user(user=user, code=unit_code)
    j = selectors.jurisdiction_for(user=user)
    if not j.covers(unit.path, j.division_paths):
        raise _problem("unit", f"you may not re-divide grids in {unit_code}")
    if unit.level in (Level.GRID, Level.MICROGRID):
        raise _problem("unit", "pick a village, community or township")
    if low < 1 or low > high:
        raise _problem(
            "bounds", f"the minimum ({low}) must be at least 1 and at most the maximum ({high})"
        )
    job = MicroGridJob.objects.create(
        unit_code=unit.code, low=low, high=high, commit=commit, created_by=user
    )
    if start:
        from microgrids.tasks import microgrid_job_run as task  # the task module imports this one

        # Deferred here rather than on_commit: procrastinate's Django connector writes the
        # queue's row on this very connection, inside this transaction, so the queued job
        # exists if and only if the MicroGridJob row does (no job for a rolled-back row, no
        # row without its job if the process dies right after the commit).
        task.defer(job_id=job.pk)
    return job


def microgrid_job_run(
    *, job_id: int, progress: Callable[[Iterable], Iterable] = iter
) -> MicroGridJob:
    """Divide every current grid under the job's unit; one transaction per grid, so one grid's
    failure neither stops nor undoes the others. The report says, per grid, what happened."""
    job = MicroGridJob.objects.get(pk=job_id)
    user = job.created_by
    root = Unit.objects.current().get(code=job.unit_code)
    grids = list(
        Unit.objects.current().at_level(Level.GRID).in_subtree([root.path]).order_by("code")
    )
    MicroGridJob.objects.filter(pk=job.pk).update(
        status=MicroGridJob.Status.RUNNING, total=len(grids)
    )
    report = []
    try:
        for done, grid in enumerate(progress(grids), start=1):
            report.append(_divide_one(user, grid, job))
            MicroGridJob.objects.filter(pk=job.pk).update(done=done, report=report)
    except Exception as exc:  # noqa: BLE001 - the job must say it failed, whatever the cause
        MicroGridJob.objects.filter(pk=job.pk).update(
            status=MicroGridJob.Status.FAILED, error=repr(exc), finished_at=timezone.now()
        )
        raise
    MicroGridJob.objects.filter(pk=job.pk).update(
        status=MicroGridJob.Status.DONE, finished_at=timezone.now()
    )
    job.refresh_from_db()
    return job


def microgrid_job_fail(*, job_id: int, reason: str) -> None:
    """Mark a job that has not finished as failed, with the reason; a finished one is left
    as it is."""
    MicroGridJob.objects.filter(
        pk=job_id, status__in=[MicroGridJob.Status.QUEUED, MicroGridJob.Status.RUNNING]
    ).update(status=MicroGridJob.Status.FAILED, error=reason, finished_at=timezone.now())


def _divide_one(user, grid: Unit, job: MicroGridJob) -> dict:
    entry = {"grid": grid.code, "name": grid.name}
    try:
        proposal = microgrid_preview(user=user, grid_code=grid.code, low=job.low, high=job.high)
    except TerritoryError as exc:
        return entry | {"status": "not divided", "reason": exc.problems[0].message}
    features = proposal["features"]
    entry |= {
        "households": sum(f["properties"]["households"] for f in features),
        "micro_grids": len(features),
        "mean_polsby_popper": proposal["mean_polsby_popper"],
        "notes": proposal["notes"],
    }
    if not job.commit:
        return entry | {"status": "previewed"}
    try:
        division = microgrid_commit(user=user, grid_code=grid.code, proposal=proposal)
    except TerritoryError as exc:
        return entry | {"status": "not divided", "reason": exc.problems[0].message}
    return entry | {"status": "divided", "division": division.pk}


@dataclass
class GridMerge:
    into: str  # the grid that absorbs the others (the one with most households)
    absorbed: list[str]
    households: int


def grids_merge_small(*, user, unit_code: str, low: int, commit: bool = False) -> list[GridMerge]:
    """Merge grids whose household count fell below `low` into the neighbour (in the same
    village) they share the longest border with: the micro-grid engine's rule for blocks.
    Without `commit` only the plan is returned. With it, in one transaction: the absorbing grid
    gets a new version (the union), the absorbed grids are retired, and their micro-grids are
    re-coded under the absorbing grid as new versions with lineage."""
    unit = selectors.unit_for_user(user=user, code=unit_code)
    j = selectors.jurisdiction_for(user=user)
    if not j.covers(unit.path, j.division_paths):
        raise _problem("unit", f"you may not change grids in {unit_code}")
    if low < 1:
        raise _problem("min", "the minimum must be at least 1")
    grids = list(
        Unit.objects.current().at_level(Level.GRID).in_subtree([unit.path]).order_by("code")
    )
    counts = dict(
        Household.objects.filter(grid__in=grids)
        .values_list("grid__code")
        .annotate(n=models.Count("id"))
        .values_list("grid__code", "n")
    )
    plan: list[GridMerge] = []
    by_village: dict[str, list[Unit]] = {}
    for grid in grids:
        by_village.setdefault(grid.parent_code, []).append(grid)
    for siblings in by_village.values():
        shapes = partition.metric([_shape(g) for g in siblings])
        weights = [counts.get(g.code, 0) for g in siblings]
        for group in partition.join_small(shapes, weights, lambda w: w >= low):
            if len(group) < 2:
                continue
            members = sorted(
                (siblings[i] for i in group), key=lambda g: (-counts.get(g.code, 0), g.code)
            )
            plan.append(
                GridMerge(
                    into=members[0].code,
                    absorbed=[g.code for g in members[1:]],
                    households=sum(counts.get(g.code, 0) for g in members),
                )
            )
    if not commit or not plan:
        return plan
    with transaction.atomic():
        now = timezone.now()
        for merge in plan:
            into = Unit.objects.current().select_for_update().get(code=merge.into)
            absorbed = list(
                Unit.objects.current().select_for_update().filter(code__in=merge.absorbed)
            )
            union = shapely.union_all([_shape(into), *(_shape(g) for g in absorbed)])
            successor = unit_replace(
                unit=into, on_date=now, boundary=to_geos(geometry_as_multipolygon(union))
            )
            successor.predecessors.add(*absorbed)
            taken = {
                m.code
                for m in Unit.objects.current()
                .at_level(Level.MICROGRID)
                .filter(parent_code=into.code)
            }
            numbers = (
                n for n in range(1, proposals.MAX_PARTS + 1) if f"{into.code}{n:02d}" not in taken
            )
            for grid in absorbed:
                for micro in _current_microgrids(grid):
                    unit_retire(unit=micro, on_date=now)
                    number = next(numbers, None)
                    if number is None:
                        raise _problem(
                            "unit", f"grid {into.code} would hold more than 99 micro-grids"
                        )
                    moved = Unit.objects.create(
                        level=Level.MICROGRID,
                        code=f"{into.code}{number:02d}",
                        name=micro.name,
                        parent_code=into.code,
                        boundary=micro.boundary,
                        valid_from=now,
                    )
                    moved.predecessors.add(micro)
                unit_retire(unit=grid, on_date=now)
    return plan
