"""Re-dividing a grid into micro-grids of `low`-`high` households (pure: shapely, numpy).

Method, chosen after measuring the alternatives in bench/microgrids.py:
1. Households at one address point form one *atom*: they always stay together.
2. Locked micro-grids keep their area and households. What is left is cut by the barrier lines
   (roads, rivers, walls) into *blocks*. A block whose households cannot form micro-grids within
   the bounds on its own is joined to the neighbour it shares the longest border with, and the
   note says which barrier was crossed and why; land without households joins a neighbour.
3. Each block becomes the number of micro-grids whose mean is closest to the middle of the
   bounds, by recursive bisection with *straight cuts*: a region that must become k micro-grids
   is cut by a straight line (12 directions, at the household that balances k1:k2) into two
   pieces that each hold one contiguous group of households and can hold k1 and k2 micro-grids
   within the bounds. Among the cuts that keep the part means closest, the one whose pieces are
   most compact for what they must still become wins. Straight cuts give convex-ish parts
   (Polsby-Popper 0.6-0.8 on ordinary grids), where unions of Voronoi cells give ragged edges.
4. When no straight cut keeps both pieces contiguous (donuts, combs), the region falls back to
   Voronoi cells of its addresses (clipped to it, so they tile it), their contiguity graph and
   a balanced graph bisection.
Everything is deterministic: the same input and `seed` give the same division; another seed
turns the cut directions (and seeds the exact search), hence another division of like quality.

Geometry stays in WGS84 lon/lat so the parts reuse the grid's own vertices and tile it
exactly; directions, lengths and Polsby-Popper are measured in a local metric plane
(equirectangular around the grid, in metres), which is affine to lon/lat.
"""

import math
from dataclasses import dataclass, field

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon

from . import exact

_M_PER_DEG_LAT = 110_574.0
_M_PER_DEG_LON_EQ = 111_320.0
DIRECTIONS = 12
CUTS_TRIED = 1  # positions tried per direction; more cost time and gained nothing measurable
# When a side cannot be divided further, more positions per direction are tried, at most
# MAX_BACKTRACK cuts per region, before the graph fallback.
BACKUP_CUTS = 3
MAX_BACKTRACK = 6
# Cuts whose part means differ by less than this many households count as equally balanced,
# so the more compact one wins.
BALANCE_SLACK = 1.5


class Infeasible(ValueError):
    """The bounds cannot be met; `reason` says why and `suggestion` what would work."""

    def __init__(self, reason: str, suggestion: str, *, proved: bool = True, graph=None):
        self.reason, self.suggestion = reason, suggestion
        # `proved`: no division exists (else none was found within the search's limit);
        # `graph`: (weights, edges) of the addresses that failed, to look for nearest bounds.
        self.proved, self.graph = proved, graph
        super().__init__(f"{reason} {suggestion}")


class BadInput(ValueError):
    """The grid or its households cannot be divided as given (an empty boundary, a household
    without a valid position or outside the grid): nothing is guessed, the caller is told.
    `households` are the indices at fault; `describe` names them the caller's way (ids)."""

    def __init__(self, reason: str, households=(), remedy: str = ""):
        self.reason, self.households, self.remedy = reason, [int(i) for i in households], remedy
        super().__init__(self.describe(lambda i: i + 1))

    def describe(self, name) -> str:
        if not self.households:
            return f"{self.reason} {self.remedy}".strip()
        shown = ", ".join(str(name(i)) for i in self.households[:5])
        more = ", ..." if len(self.households) > 5 else ""
        return f"{self.reason} (households {shown}{more}): {self.remedy}"


class AdjustmentError(ValueError):
    """A planner's adjustment would break the partition (non-contiguous, empty, not adjacent)."""


@dataclass
class MicroGrid:
    geometry: Polygon | MultiPolygon  # WGS84 lon/lat
    members: list[int]  # indices into the households given
    polsby_popper: float
    locked: bool = False

    @property
    def households(self) -> int:
        return len(self.members)


@dataclass
class Partition:
    parts: list[MicroGrid]
    low: int
    high: int
    notes: list[str] = field(default_factory=list)

    @property
    def all_in_bounds(self) -> bool:
        return all(self.low <= p.households <= self.high for p in self.parts)


def polsby_popper(geometry) -> float:
    return 4 * math.pi * geometry.area / geometry.length**2 if geometry.length else 0.0


def feasible_part_counts(total: int, heaviest: int, low: int, high: int) -> range:
    if low < 1 or high < 1:
        raise Infeasible("the bounds must be positive.", "Use for instance 30-50.")
    if low > high:
        raise Infeasible(f"the minimum ({low}) is above the maximum ({high}).", "Swap the bounds.")
    if total == 0:
        raise Infeasible("the grid has no households.", "Nothing to divide.")
    if heaviest > high:
        raise Infeasible(
            f"{heaviest} households share one address, more than the maximum of {high}.",
            f"Raise the maximum to at least {heaviest}.",
        )
    counts = range(math.ceil(total / high), total // low + 1)
    if not counts:
        # The two nearest ways out, to the household: fewer, larger parts (raise the maximum)
        # or more, smaller parts (lower the minimum). Fewer than `low` households leave only
        # the second: no number of micro-grids of at least `low` holds them.
        more = math.ceil(total / high)
        options = [f"{more} micro-grid(s) with the minimum lowered to {total // more}"]
        fewer = total // low
        if fewer >= 1:
            options = [
                f"{fewer} micro-grid(s) with the maximum raised to {math.ceil(total / fewer)}",
                f"{more} with the minimum lowered to {total // more}",
            ]
        raise Infeasible(
            f"{total} households cannot form micro-grids of {low}-{high}.",
            f"Closest feasible: {', or '.join(options)}.",
        )
    return counts


def best_part_count(total: int, heaviest: int, low: int, high: int) -> int:
    counts = feasible_part_counts(total, heaviest, low, high)
    target = (low + high) / 2
    return min(counts, key=lambda c: (abs(total / c - target), c))


class _Plane:
    """The local metric plane around a grid (affine to lon/lat)."""

    def __init__(self, geometry):
        self.origin = np.array([geometry.centroid.x, geometry.centroid.y])
        self.scale = np.array(
            [_M_PER_DEG_LON_EQ * math.cos(math.radians(self.origin[1])), _M_PER_DEG_LAT]
        )

    def xy(self, lonlat):
        return (np.asarray(lonlat, dtype=float) - self.origin) * self.scale

    def to_m(self, geometry):
        return shapely.transform(geometry, lambda c: (c - self.origin) * self.scale)

    def to_deg(self, geometry):
        return shapely.transform(geometry, lambda c: c / self.scale + self.origin)

    def compactness(self, geometry) -> float:
        return polsby_popper(self.to_m(geometry))


@dataclass
class _Atoms:
    lonlat: np.ndarray  # unique address points
    local: np.ndarray  # the same in metres
    weight: np.ndarray  # households at each
    members: list[list[int]]  # household indices at each
    budget: int = 20  # alternative cuts the division may still try
    turn: float = 0.0  # the cut directions' offset (radians): another seed, other cuts


def _atoms(xy, plane) -> _Atoms:
    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    if not len(xy):
        return _Atoms(np.empty((0, 2)), np.empty((0, 2)), np.empty(0, dtype=int), [])
    points, inverse = np.unique(np.round(xy, 7), axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    members = [[] for _ in points]
    for index, atom in enumerate(inverse.tolist()):
        members[atom].append(index)
    weight = np.array([len(m) for m in members], dtype=int)
    return _Atoms(points, plane.xy(points), weight, members)


def _pieces(geometry) -> list[Polygon]:
    if geometry.is_empty:
        return []
    if isinstance(geometry, Polygon):
        return [geometry]
    return [g for g in getattr(geometry, "geoms", []) if isinstance(g, Polygon) and g.area > 0]


def _as_area(geometry):
    """Polygonal part of an overlay result, as a Polygon when it is one piece."""
    pieces = [p for p in _pieces(geometry) if p.area > 0]
    if len(pieces) == 1:
        return pieces[0]
    return MultiPolygon(pieces) if pieces else Polygon()


def divide(
    grid,
    xy,
    *,
    low: int = 30,
    high: int = 50,
    seed: int = 0,
    barriers=(),
    locked=(),
    parts: int | None = None,
    suggest: bool = True,
) -> Partition:
    """Divide `grid` (WGS84 polygon) holding households at `xy` (n x 2 lon/lat).

    `barriers` are lines micro-grids should not cross; `locked` are polygons (existing
    micro-grids) to keep as they are; `parts` forces the number of new micro-grids (a planner's
    split). Raises Infeasible when the bounds cannot be met, saying why and what would."""
    grid, xy = _checked(grid, xy)
    plane = _Plane(grid)
    taken = np.zeros(len(xy), dtype=bool)
    result = Partition(parts=[], low=low, high=high)
    points = shapely.points(xy) if len(xy) else np.empty(0, dtype=object)
    for polygon in locked:
        inside = shapely.covers(polygon, points) & ~taken if len(xy) else np.zeros(0, dtype=bool)
        taken |= inside
        result.parts.append(
            MicroGrid(polygon, np.flatnonzero(inside).tolist(), plane.compactness(polygon), True)
        )
    free = grid
    if locked:
        free = _as_area(shapely.difference(grid, shapely.union_all(list(locked))))
    free_index = np.flatnonzero(~taken)
    atoms = _atoms(xy[free_index], plane)
    atoms.members = [[int(free_index[i]) for i in m] for m in atoms.members]
    if parts is None:
        feasible_part_counts(
            int(atoms.weight.sum()), int(atoms.weight.max()) if len(atoms.weight) else 0, low, high
        )
    blocks = _blocks(free, barriers, atoms, low, high, plane, result.notes, forced=parts)
    rng = np.random.default_rng(seed)
    # Seed 0 cuts along the 12 compass-aligned directions; another seed turns all of them by
    # the same angle, which gives another division of the same quality ("try another").
    atoms.turn = float(rng.uniform(0, math.pi / DIRECTIONS)) if seed else 0.0
    try:
        for region, ids, k, attachments, whole, whole_ids in blocks:
            if not ids:
                _attach(result, region, plane)
                continue
            divided = None
            if attachments:
                try:
                    divided = _split_block(region, ids, k, atoms, low, high, plane, rng, parts)
                    divided = improve_worst(divided, atoms, low, high, plane)
                    divided = _attach_pieces(divided, attachments, atoms, low, high)
                except Infeasible:
                    divided = None
            if divided is None:  # no pieces to keep whole, or keeping them whole failed
                region, ids = whole, [i for i in whole_ids if i < len(atoms.members)]
                divided = _split_block(region, ids, k, atoms, low, high, plane, rng, parts)
                if parts is None:
                    divided = improve_worst(divided, atoms, low, high, plane)
            for geometry, group in divided:
                members = sorted(i for a in group for i in atoms.members[a])
                result.parts.append(MicroGrid(geometry, members, plane.compactness(geometry)))
    except Infeasible as exc:
        if not suggest or parts is not None:
            raise
        raise _with_alternative(exc, grid, xy, low, high, seed, barriers, locked) from exc
    # Reading order (north to south, then west to east), locked parts where they fall.
    result.parts.sort(key=lambda p: (-round(p.geometry.centroid.y, 5), p.geometry.centroid.x))
    return result


def _checked(grid, xy):
    """The grid as an area and the households as an n x 2 array, or BadInput saying what is
    wrong: a household outside the grid would otherwise land in some block and push it out of
    bounds, and a NaN position would be counted where it is nowhere."""
    if grid is None or grid.is_empty:
        raise BadInput("the grid's boundary is empty.", remedy="Draw the grid before dividing it.")
    grid = _as_area(shapely.make_valid(grid))
    if grid.is_empty or grid.area <= 0:
        raise BadInput(
            "the grid's boundary encloses no area.", remedy="Redraw the grid before dividing it."
        )
    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    invalid = np.flatnonzero(~np.isfinite(xy).all(axis=1))
    if len(invalid):
        raise BadInput(
            f"{len(invalid)} household(s) have no valid position",
            invalid,
            "correct their addresses first.",
        )
    if len(xy):
        outside = np.flatnonzero(~shapely.covers(grid, shapely.points(xy)))
        if len(outside):
            raise BadInput(
                f"{len(outside)} household(s) lie outside the grid",
                outside,
                "move them into the grid or correct the grid's boundary first.",
            )
    return grid, xy


def _attach(result: Partition, region, plane):
    """Give empty land to the part that shares the longest border with it."""
    if not result.parts:
        raise Infeasible("the grid has no households outside the locked micro-grids.", "Unlock.")
    i = max(
        range(len(result.parts)),
        key=lambda j: (
            shapely.intersection(result.parts[j].geometry.boundary, region.boundary).length
        ),
    )
    part = result.parts[i]
    part.geometry = _as_area(shapely.union(part.geometry, region))
    part.polsby_popper = plane.compactness(part.geometry)
    result.notes.append(
        "Land without households enclosed by locked micro-grids joined one of them."
    )


def _with_alternative(exc, grid, xy, low, high, seed, barriers, locked) -> Infeasible:
    """The same failure, with the nearest bounds that do work, to the household: raising the
    maximum, and lowering the minimum (households at one address can make 30-50 impossible:
    21 buildings of 19 households cannot form groups of 30-50, while 30-57 can)."""
    if exc.graph is None:
        return exc
    weights, edges = exc.graph
    options, nearest = [], True
    for side in ("high", "low"):
        near = exact.nearest_bounds(weights, edges, low, high, side=side, seed=seed)
        if near is None:
            continue
        try:
            found = divide(
                grid,
                xy,
                low=near.low,
                high=near.high,
                seed=seed,
                barriers=barriers,
                locked=locked,
                suggest=False,
            )
        except Infeasible:
            continue
        options.append(f"{near.low}-{near.high} households ({len(found.parts)} micro-grids)")
        nearest &= near.nearest
    if not options:
        return Infeasible(
            exc.reason,
            "No bounds within 60 households of these work: adjust the grid by hand.",
            proved=exc.proved,
            graph=exc.graph,
        )
    return Infeasible(
        exc.reason,
        f"{'Nearest bounds' if nearest else 'Bounds'} that work: {' or '.join(options)}.",
        proved=exc.proved,
        graph=exc.graph,
    )


def _split_block(region, ids, k, atoms, low, high, plane, rng, forced):
    """Divide a block into k micro-grids, else into the next feasible numbers (at most three
    tried), the closest to the middle of the bounds first."""
    if forced is not None:
        return _split(region, ids, k, atoms, low, high, plane, rng)
    total = int(atoms.weight[ids].sum())
    target = (low + high) / 2
    counts = sorted(
        feasible_part_counts(total, int(atoms.weight[ids].max()), low, high),
        key=lambda c: (abs(total / c - target), c),
    )
    # Two counts by straight cuts (they give the most compact parts), then the exact search.
    for count in counts[:2]:
        try:
            return _split(region, ids, count, atoms, low, high, plane, rng)
        except Infeasible:
            continue
    return _exact_split(region, ids, counts, atoms, low, high, plane, rng)


def _exact_split(region, ids, counts, atoms, low, high, plane, rng):
    """When the straight cuts and the graph bisection fail, CP-SAT on the addresses' contiguity
    graph (their Voronoi cells in the region) finds a division or proves there is none."""
    ids = list(ids)
    cells_m = _cells(plane.to_m(region), atoms.local[ids])
    neighbours = _adjacency(cells_m)
    weights = atoms.weight[ids].tolist()
    edges = [(a, b) for a, near in enumerate(neighbours) for b in near if a < b]
    found = exact.divide_graph(
        weights,
        edges,
        low,
        high,
        counts,
        seed=int(rng.integers(2**31)),
        work_limit=exact.WORK_LIMIT,
    )
    if found.status == "found":
        cells = [_as_area(shapely.intersection(plane.to_deg(c), region)) for c in cells_m]
        return _assemble(region, cells, ids, found.groups)
    graph = (weights, edges)
    if found.status == "infeasible":
        why = exact.why_infeasible(weights, low, high) or (
            f"no way to group these {len(ids)} addresses ({sum(weights)} households) into "
            f"neighbouring micro-grids of {low}-{high} exists: every grouping was ruled out."
        )
        raise Infeasible(f"infeasible: {why}", "", graph=graph)
    raise Infeasible(
        f"none found: no division into micro-grids of {low}-{high} households was found "
        f"within the exact search's limit ({found.seconds:g} work units, a few seconds); "
        "one may still exist.",
        "",
        proved=False,
        graph=graph,
    )


# --- the worst part: re-cutting it with a neighbour -------------------------------------------

# Parts scoring below this are re-cut with a neighbour; above it a part is compact enough
# that the extra time (each pair tries some 50 straight cuts) buys nothing a planner sees.
WORST_WANTED = 0.4
IMPROVE_ROUNDS = 8
# Cuts evaluated per block at most (each is a few shapely overlays): a bound on the time a
# block with many poor parts may take, counted rather than timed so results stay the same.
IMPROVE_CUTS = 240


def improve_worst(divided, atoms, low, high, plane):
    """Raise the lowest Polsby-Popper score of a block's parts: the worst part and one of its
    neighbours are joined and cut again by the straight cut that maximises the lower of their
    two scores, within the bounds. Each step raises that pair's minimum, so the block's
    minimum never falls; a sliver beside a tower becomes two compact parts."""
    divided = [(g, list(ids)) for g, ids in divided]
    scores = [plane.compactness(g) for g, _ in divided]
    tried = set()
    budget = IMPROVE_CUTS
    for _ in range(IMPROVE_ROUNDS):
        if budget <= 0:
            break
        order = sorted(range(len(divided)), key=lambda i: scores[i])
        worst = next((i for i in order if scores[i] < WORST_WANTED and i not in tried), None)
        if worst is None:
            break
        best = None
        for j in range(len(divided)):
            if j == worst or not _adjacent(divided[worst][0], divided[j][0]):
                continue
            floor = min(scores[worst], scores[j])
            union = _as_area(shapely.union(divided[worst][0], divided[j][0]))
            if not isinstance(union, Polygon):
                continue
            ids = divided[worst][1] + divided[j][1]
            for (left, left_ids, _), (right, right_ids, _) in _cuts(
                union, ids, 2, atoms, low, high, plane
            ):
                budget -= 1
                pair = (plane.compactness(left), plane.compactness(right))
                if min(pair) > floor + 1e-3 and (best is None or min(pair) > best[0]):
                    best = (min(pair), j, (left, left_ids), (right, right_ids), pair)
        if best is None:
            tried.add(worst)
            continue
        _, j, first, second, pair = best
        divided[worst], divided[j] = first, second
        scores[worst], scores[j] = pair
        tried.discard(j)
    return divided


# --- blocks: locked areas and barriers ------------------------------------------------------


def _blocks(free, barriers, atoms, low, high, plane, notes, forced=None):
    """[(region, atom ids, number of micro-grids)] for the free area."""
    faces = _pieces(free)
    lines = [b for b in barriers if not b.is_empty]
    if lines:
        cut = shapely.union_all([free.boundary, *[shapely.intersection(b, free) for b in lines]])
        faces = [
            f
            for f in shapely.polygonize(_line_parts(cut)).geoms
            if free.covers(f.point_on_surface())
        ]
    n_atoms = len(atoms.weight)
    owner = np.full(n_atoms, -1)
    if n_atoms:
        sites = shapely.points(atoms.lonlat)
        for index, face in enumerate(faces):
            hit = shapely.covers(face, sites) & (owner < 0)
            owner[hit] = index
        owner[owner < 0] = 0  # rounding on an edge: any face that touches it will do
    weights = [int(atoms.weight[owner == i].sum()) for i in range(len(faces))]

    def fits(total):
        if forced is not None:
            return total > 0
        return total > 0 and math.ceil(total / high) <= total // low

    groups = join_small([plane.to_m(f) for f in faces], weights, fits)
    for g in groups:
        stranded = [weights[i] for i in g if weights[i] and not fits(weights[i])]
        if len(g) > 1 and stranded:
            notes.append(
                f"{sum(stranded)} households between barriers cannot form micro-grids of "
                f"{low}-{high} alone; they join their neighbours across a barrier."
            )
    weight = [sum(weights[i] for i in g) for g in groups]
    blocks = []
    for g, w in zip(groups, weight, strict=True):
        region = _as_area(shapely.union_all([faces[i] for i in g]))
        ids = np.flatnonzero(np.isin(owner, g)).tolist()
        shielded = None
        if len(g) > 1 and forced is None and ids:
            shielded = _shield(g, faces, weights, owner, atoms, plane)
        if shielded is not None:
            main, main_ids, attachments = shielded
            heaviest = int(atoms.weight[main_ids].max())
            try:
                k = best_part_count(w, heaviest, low, high)
            except Infeasible:
                shielded = None
            else:
                blocks.append((main, main_ids, k, attachments, region, ids))
                continue
        if not ids:
            # Land with no households that touches no free neighbour (locked parts around it).
            blocks.append((region, [], 0, [], region, []))
            continue
        heaviest = int(atoms.weight[ids].max())
        try:
            k = forced if forced is not None else best_part_count(w, heaviest, low, high)
        except Infeasible as exc:
            if len(groups) == 1:
                raise
            raise _for_piece(exc, region, w, plane) from exc
        blocks.append((region, ids, k, [], region, ids))
    if forced is not None and len(blocks) != 1:
        raise Infeasible("the part holds households on both sides of a barrier.", "Merge first.")
    return blocks


def _shield(g, faces, weights, owner, atoms, plane):
    """A block joined across barriers, divided so that each piece that could not stand alone
    ends up in ONE micro-grid: the heaviest face is divided, each other piece (a connected
    group of the other faces) taking part as one indivisible address placed just inside that
    face where the piece meets it, and joining the micro-grid that address falls in. Without
    this the straight cuts ran through the small piece and several micro-grids crossed the
    barrier where one suffices. (main region, atom ids, [(address or None, piece)]) or None
    when a piece does not meet the heaviest face."""
    main_face = max(g, key=lambda i: (weights[i], -i))
    main = faces[main_face]
    rest = [i for i in g if i != main_face]
    pieces = _pieces(_as_area(shapely.union_all([faces[i] for i in rest])))
    main_m = plane.to_m(main)
    ids = np.flatnonzero(owner == main_face).tolist()
    attachments, extra = [], []
    for piece in pieces:
        inside = [i for i in rest if piece.covers(faces[i].representative_point())]
        piece_m = plane.to_m(piece)
        if shapely.intersection(main_m.boundary, piece_m.boundary).length <= 0:
            return None
        members = np.flatnonzero(np.isin(owner, inside)).tolist()
        if not members:
            attachments.append((None, piece))
            continue
        # At the border, halfway along its longest stretch: whichever micro-grid holds that
        # address then holds a stretch of the border around it (a cut passes midway between
        # addresses, never this close to one), so the piece joins it as one polygon. A point
        # metres inside could be cut off from the border by an oblique cut.
        border = _line_parts(shapely.intersection(main_m.boundary, piece_m.boundary))
        if not border:
            return None
        middle = max(border, key=lambda line: line.length).interpolate(0.5, normalized=True)
        # A hair inside (10 cm): a point on the border itself may fall outside every part by
        # rounding between the planes.
        spot = _as_area(shapely.intersection(main_m, middle.buffer(0.1))).representative_point()
        if spot.is_empty:
            return None
        extra.append((spot, members, piece))
    for spot, members, piece in extra:
        atom = len(atoms.weight)
        lonlat = plane.to_deg(spot)
        atoms.lonlat = np.vstack([atoms.lonlat, [[lonlat.x, lonlat.y]]])
        atoms.local = np.vstack([atoms.local, [[spot.x, spot.y]]])
        atoms.weight = np.append(atoms.weight, int(atoms.weight[members].sum()))
        atoms.members.append([m for a in members for m in atoms.members[a]])
        ids.append(atom)
        attachments.append((atom, piece))
    if not ids:
        return None
    return main, ids, attachments


def _attach_pieces(divided, attachments, atoms, low, high):
    """Give each piece to its micro-grid: the one holding its address, else (when that one
    only touches the piece at a point) the one sharing the longest border with it if the
    address can move there within the bounds; None when neither works."""
    divided = [(g, list(group)) for g, group in divided]
    households = [int(atoms.weight[group].sum()) for _, group in divided]
    for atom, piece in attachments:
        bordering = max(
            range(len(divided)),
            key=lambda i: shapely.intersection(divided[i][0].boundary, piece.boundary).length,
        )
        j = bordering
        if atom is not None:
            j = next(i for i, (_, group) in enumerate(divided) if atom in group)
        joined = _as_area(shapely.union(divided[j][0], piece))
        if not isinstance(joined, Polygon) and atom is not None and j != bordering:
            moved = int(atoms.weight[atom])
            if households[j] - moved >= low and households[bordering] + moved <= high:
                divided[j][1].remove(atom)
                divided[bordering][1].append(atom)
                households[j] -= moved
                households[bordering] += moved
                j = bordering
                joined = _as_area(shapely.union(divided[j][0], piece))
        if not isinstance(joined, Polygon):
            return None
        divided[j] = (joined, divided[j][1])
    return divided


def _for_piece(exc: Infeasible, region, households: int, plane) -> Infeasible:
    """The failure of one piece of the grid that touches no other (an enclave, an island):
    named by where it is, so the planner sees which land cannot form micro-grids."""
    centre = region.representative_point()
    area = plane.to_m(region).area
    return Infeasible(
        f"the piece of the grid around {centre.x:.5f}, {centre.y:.5f} ({households} households, "
        f"{area:,.0f} m²) touches no other part of it and cannot form micro-grids on its own: "
        f"{exc.reason}",
        f"For that piece: {exc.suggestion} Or give the piece to the grid around it, or "
        "connect it to the rest of this grid.",
    )


def metric(geometries: list) -> list:
    """WGS84 geometries in one local metric plane around them (metres), for borders and areas."""
    plane = _Plane(shapely.union_all(geometries).envelope)
    return [plane.to_m(g) for g in geometries]


def join_small(shapes, weights, fits) -> list[list[int]]:
    """Group `shapes` (polygons in metres) so that every group's total weight `fits`: the
    smallest misfit joins the neighbour it shares the longest border with, until all fit or no
    misfit has a neighbour. Used for blocks between barriers and for grids that fell below the
    minimum."""
    groups = [[i] for i in range(len(shapes))]
    merged = list(shapes)
    weight = list(weights)
    while len(groups) > 1:
        misfits = sorted((i for i, w in enumerate(weight) if not fits(w)), key=lambda i: weight[i])
        joined = False
        for i in misfits:
            borders = [
                (shapely.intersection(merged[i].boundary, merged[j].boundary).length, -j)
                for j in range(len(groups))
                if j != i
            ]
            length, minus_j = max(borders)
            if length <= 0:
                continue
            j = -minus_j
            groups[j] += groups[i]
            weight[j] += weight[i]
            merged[j] = shapely.union(merged[j], merged[i])
            del groups[i], weight[i], merged[i]
            joined = True
            break
        if not joined:
            break
    return [sorted(g) for g in groups]


def _line_parts(geometry):
    if geometry.geom_type in ("LineString", "LinearRing"):
        return [geometry]
    return [
        g for g in getattr(geometry, "geoms", []) if g.geom_type in ("LineString", "LinearRing")
    ]


# --- straight-cut recursive bisection -------------------------------------------------------


def _split(region, ids, k, atoms, low, high, plane, rng):
    """[(geometry, atom ids)] for k micro-grids of `region` holding atoms `ids`. The best cut
    is tried first; when one of its sides cannot be divided further (addresses holding many
    households make the weights coarse), the next cuts are tried, then the graph fallback."""
    if k <= 1:
        return [(region, ids)]
    for attempt, ((left, left_ids, k1), (right, right_ids, k2)) in enumerate(
        _cuts(region, ids, k, atoms, low, high, plane)
    ):
        # Backtracking is bounded per region and per division (it compounds with depth).
        if attempt >= MAX_BACKTRACK or (attempt and atoms.budget <= 0):
            break
        atoms.budget -= attempt > 0
        try:
            return _split(left, left_ids, k1, atoms, low, high, plane, rng) + _split(
                right, right_ids, k2, atoms, low, high, plane, rng
            )
        except Infeasible:
            continue
    return _graph_split(region, ids, k, atoms, low, high, plane, rng)


def _cuts(region, ids, k, atoms, low, high, plane):
    """Straight cuts of `region` into sides for k1 and k2 micro-grids, best first: the most
    balanced (within BALANCE_SLACK) ordered by compactness, then the others by balance."""
    ids = np.asarray(ids)
    pts, w = atoms.local[ids], atoms.weight[ids]
    total = int(w.sum())
    region_m = plane.to_m(region)
    minx, miny, maxx, maxy = region_m.bounds
    reach = 2 * math.hypot(maxx - minx, maxy - miny) + 1
    centre = np.array([(minx + maxx) / 2, (miny + maxy) / 2])
    first, later = [], []
    splits = {(k // 2, k - k // 2), (k - k // 2, k // 2)}
    for angle in np.linspace(0, math.pi, DIRECTIONS, endpoint=False) + atoms.turn:
        direction = np.array([math.cos(angle), math.sin(angle)])
        along = pts @ direction
        order = np.argsort(along, kind="stable")
        cumulative = np.cumsum(w[order])
        for k1, k2 in splits:
            ideal = total * k1 / k
            tried = 0
            # cut after position `cut`: atoms order[:cut+1] go left
            for cut in np.argsort(np.abs(cumulative[:-1] - ideal), kind="stable"):
                left_w = int(cumulative[cut])
                if not (
                    k1 * low <= left_w <= k1 * high and k2 * low <= total - left_w <= k2 * high
                ):
                    continue
                if along[order[cut]] == along[order[cut + 1]]:
                    continue  # the line would pass through an address
                imbalance = abs(left_w / k1 - (total - left_w) / k2)
                offset = (along[order[cut]] + along[order[cut + 1]]) / 2
                (first if tried < CUTS_TRIED else later).append(
                    (imbalance, angle, offset, k1, k2, order[: cut + 1])
                )
                tried += 1
                if tried >= CUTS_TRIED + BACKUP_CUTS:
                    break
    if not first:
        return
    best_imbalance = min(c[0] for c in first)

    def evaluate(candidate):
        imbalance, angle, offset, k1, k2, left_order = candidate
        direction = np.array([math.cos(angle), math.sin(angle)])
        normal = np.array([-direction[1], direction[0]])
        base = centre + (offset - centre @ direction) * direction
        half = shapely.Polygon(
            [
                base + normal * reach,
                base + normal * reach - direction * reach,
                base - normal * reach - direction * reach,
                base - normal * reach,
            ]
        )
        sides = _sides(region, plane.to_deg(half), set(ids[left_order].tolist()), ids, atoms)
        if sides is None:
            return None
        left, right = sides
        score = _shape_cost(plane.to_m(left), k1) + _shape_cost(plane.to_m(right), k2)
        return score, left, right, k1, k2

    def as_cut(left, right, k1, k2):
        left_set = _covered(left, ids, atoms)
        right_ids = [i for i in ids.tolist() if i not in left_set]
        return (left, sorted(left_set), k1), (right, right_ids, k2)

    balanced = [c for c in first if c[0] <= best_imbalance + BALANCE_SLACK]
    rest = sorted(
        [c for c in first if c[0] > best_imbalance + BALANCE_SLACK] + later, key=lambda c: c[0]
    )
    scored = []
    for candidate in balanced:
        result = evaluate(candidate)
        if result is not None:
            scored.append((candidate[0] > best_imbalance + 1e-9, result[0], candidate[1:3], result))
    scored.sort(key=lambda s: s[:3])
    for *_, (_, left, right, k1, k2) in scored:
        yield as_cut(left, right, k1, k2)
    for candidate in rest:
        result = evaluate(candidate)
        if result is not None:
            _, left, right, k1, k2 = result
            yield as_cut(left, right, k1, k2)


def _covered(geometry, ids, atoms) -> set[int]:
    ids = np.asarray(ids)
    inside = shapely.covers(geometry, shapely.points(atoms.lonlat[ids]))
    return set(ids[inside].tolist())


def _sides(region, half, left_ids, ids, atoms):
    """Cut `region` by the half-plane: (left, right) when each side holds one contiguous group
    of households (land without households joins the other side), else None."""
    left = _as_area(shapely.intersection(region, half))
    right = _as_area(shapely.difference(region, half))
    sites = shapely.points(atoms.lonlat[ids])
    is_left = np.array([i in left_ids for i in ids.tolist()])
    keep = {"left": [], "right": []}
    give = {"left": [], "right": []}
    for name, side, mine in (("left", left, is_left), ("right", right, ~is_left)):
        for piece in _pieces(side):
            holds = shapely.covers(piece, sites[mine]).any()
            (keep if holds else give)[name].append(piece)
    if len(keep["left"]) != 1 or len(keep["right"]) != 1:
        return None
    left = _as_area(shapely.union_all(keep["left"] + give["right"]))
    right = _as_area(shapely.union_all(keep["right"] + give["left"]))
    if not (isinstance(left, Polygon) and isinstance(right, Polygon)):
        return None
    return left, right


def _shape_cost(geometry_m, k) -> float:
    """How far a piece that must become k micro-grids is from k compact ones: the perimeter a
    piece of this area would have as k squares (shared edges counted once), over its own."""
    area, length = geometry_m.area, geometry_m.length
    if area <= 0:
        return math.inf
    ideal = (
        2 * math.sqrt(area) * (1 + math.sqrt(k)) / math.sqrt(k) if k > 1 else 4 * math.sqrt(area)
    )
    return length / ideal


# --- fallback: Voronoi cells and a graph bisection -------------------------------------------


def _graph_split(region, ids, k, atoms, low, high, plane, rng):
    ids = list(ids)
    region_m = plane.to_m(region)
    cells_m = _cells(region_m, atoms.local[ids])
    neighbours = _adjacency(cells_m)
    local_index = list(range(len(ids)))
    groups = _bisect(local_index, k, atoms.weight[ids], atoms.local[ids], neighbours, low, high)
    cells = [_as_area(shapely.intersection(plane.to_deg(c), region)) for c in cells_m]
    return _assemble(region, cells, ids, groups)


def _assemble(region, cells, ids, groups):
    """[(geometry, atom ids)] of groups of cells (local indices), tiling the region."""
    out = []
    for group in groups:
        out.append(
            (_as_area(shapely.union_all([cells[i] for i in group])), [ids[i] for i in group])
        )
    # Give the last part whatever rounding left between the cells, so the parts tile the region.
    rest = shapely.difference(region, shapely.union_all([g for g, _ in out]))
    if not rest.is_empty and rest.area > 0:
        for piece in _pieces(rest):
            j = max(
                range(len(out)),
                key=lambda i: shapely.intersection(out[i][0].boundary, piece.boundary).length,
            )
            out[j] = (_as_area(shapely.union_all([out[j][0], piece])), out[j][1])
    return out


def _cells(area, local):
    if len(local) == 1:
        return [area]
    diagram = shapely.voronoi_polygons(
        shapely.MultiPoint(local), extend_to=area.envelope.buffer(10)
    )
    tree = shapely.STRtree(list(diagram.geoms))
    cells = []
    for x, y in local:
        hit = tree.query(shapely.Point(x, y), predicate="intersects")[0]
        cells.append(shapely.intersection(diagram.geoms[hit], area))
    return cells


def _adjacency(cells):
    tree = shapely.STRtree(cells)
    neighbours = [set() for _ in cells]
    left, right = tree.query(cells, predicate="intersects")
    for a, b in zip(left.tolist(), right.tolist(), strict=True):
        if a < b and shapely.intersection(cells[a], cells[b]).length > 1e-6:
            neighbours[a].add(b)
            neighbours[b].add(a)
    return neighbours


def _connected(members, neighbours) -> bool:
    members = set(members)
    if not members:
        return False
    start = next(iter(members))
    seen, stack = {start}, [start]
    while stack:
        for n in neighbours[stack.pop()]:
            if n in members and n not in seen:
                seen.add(n)
                stack.append(n)
    return len(seen) == len(members)


def _bisect(members, k, weights, local, neighbours, low, high):
    if k == 1:
        return [members]
    k1 = k // 2
    k2 = k - k1
    total = weights[members].sum()
    best = None
    pts = local[members]
    w = weights[members]
    for angle in np.linspace(0, math.pi, DIRECTIONS, endpoint=False):
        direction = np.array([math.cos(angle), math.sin(angle)])
        order = np.argsort(pts @ direction, kind="stable")
        cumulative = np.cumsum(w[order])
        for cut in range(1, len(order)):
            left_w = cumulative[cut - 1]
            right_w = total - left_w
            if not (k1 * low <= left_w <= k1 * high and k2 * low <= right_w <= k2 * high):
                continue
            imbalance = abs(left_w / k1 - right_w / k2)
            if best is not None and imbalance > best[0]:
                continue
            left = [members[i] for i in order[:cut]]
            right = [members[i] for i in order[cut:]]
            if not (_connected(left, neighbours) and _connected(right, neighbours)):
                continue
            spread = np.ptp(pts @ np.array([-direction[1], direction[0]]))
            key = (imbalance, spread)
            if best is None or key < best[:2]:
                best = (imbalance, spread, left, right)
    if best is None:
        raise Infeasible(
            "no contiguous division was found for this grid with these bounds.",
            "Widen the bounds or adjust the grid by hand.",
        )
    _, _, left, right = best
    return _bisect(left, k1, weights, local, neighbours, low, high) + _bisect(
        right, k2, weights, local, neighbours, low, high
    )


# --- a planner's adjustments ------------------------------------------------------------------


def _rebuilt(partition: Partition, parts: list[MicroGrid], note: str | None = None) -> Partition:
    grid = shapely.union_all([p.geometry for p in parts])
    plane = _Plane(grid)
    for part in parts:
        part.polsby_popper = plane.compactness(part.geometry)
    notes = [*partition.notes, note] if note else list(partition.notes)
    return Partition(parts=parts, low=partition.low, high=partition.high, notes=notes)


def _check_index(partition: Partition, *indices: int):
    for i in indices:
        if not 0 <= i < len(partition.parts):
            raise AdjustmentError(f"there is no micro-grid {i + 1}")
    if len(set(indices)) != len(indices):
        raise AdjustmentError("pick two different micro-grids")


def _adjacent(a, b) -> bool:
    return shapely.intersection(a.boundary, b.boundary).length > 0


def _one_piece(geometry, what: str):
    geometry = _as_area(geometry)
    if not isinstance(geometry, Polygon):
        raise AdjustmentError(f"{what} would fall apart into {len(_pieces(geometry))} pieces")
    return geometry


def adjust_merge(partition: Partition, a: int, b: int) -> Partition:
    """Merge micro-grid b into a (they must share a border)."""
    _check_index(partition, a, b)
    first, second = partition.parts[a], partition.parts[b]
    if not _adjacent(first.geometry, second.geometry):
        raise AdjustmentError(f"micro-grids {a + 1} and {b + 1} do not share a border")
    merged = MicroGrid(
        _one_piece(shapely.union(first.geometry, second.geometry), "the merged micro-grid"),
        sorted(first.members + second.members),
        0.0,
    )
    parts = [p for i, p in enumerate(partition.parts) if i not in (a, b)]
    parts.insert(min(a, b), merged)
    return _rebuilt(partition, parts)


def adjust_split(partition: Partition, xy, index: int, *, seed: int = 0) -> Partition:
    """Split one micro-grid in two, as balanced and compact as the engine makes them."""
    _check_index(partition, index)
    part = partition.parts[index]
    if part.households < 2:
        raise AdjustmentError("a micro-grid needs two households to be split")
    xy = np.asarray(xy, dtype=float)
    local = divide(part.geometry, xy[part.members], low=1, high=part.households, parts=2, seed=seed)
    new = [
        MicroGrid(p.geometry, sorted(part.members[i] for i in p.members), 0.0) for p in local.parts
    ]
    parts = partition.parts[:index] + new + partition.parts[index + 1 :]
    return _rebuilt(partition, parts)


def adjust_move_area(partition: Partition, xy, area, to: int) -> Partition:
    """Give the land of `area` (a polygon the planner drew) and the households on it to
    micro-grid `to`, taking it from the micro-grids it overlaps."""
    _check_index(partition, to)
    if area.is_empty or area.area == 0 or not area.is_valid:
        raise AdjustmentError("draw a valid polygon over the land to move")
    points = shapely.points(np.asarray(xy, dtype=float))
    target = partition.parts[to]
    parts = list(partition.parts)
    gained, moved = [], []
    for i, part in enumerate(parts):
        if i == to or not part.geometry.intersects(area):
            continue
        piece = _as_area(shapely.intersection(part.geometry, area))
        if piece.is_empty:
            continue
        if part.locked:
            raise AdjustmentError(f"micro-grid {i + 1} is locked")
        rest = shapely.difference(part.geometry, area)
        if rest.is_empty or rest.area == 0:
            raise AdjustmentError(f"micro-grid {i + 1} would be left with no land")
        rest = _one_piece(rest, f"micro-grid {i + 1}")
        members = np.asarray(part.members, dtype=int)
        on_edge = shapely.touches(piece, points[members]) if len(members) else []
        if np.any(on_edge):
            raise AdjustmentError("the line passes through a household's address; move it aside")
        taken = shapely.covers(piece, points[members]) if len(members) else np.zeros(0, bool)
        moved += members[taken].tolist()
        gained.append(piece)
        parts[i] = MicroGrid(rest, members[~taken].tolist(), 0.0, part.locked)
    if not gained:
        raise AdjustmentError("the polygon covers no land of another micro-grid")
    parts[to] = MicroGrid(
        _one_piece(shapely.union_all([target.geometry, *gained]), f"micro-grid {to + 1}"),
        sorted(target.members + moved),
        0.0,
        target.locked,
    )
    return _rebuilt(partition, parts)


def adjust_move_households(partition: Partition, xy, households: list[int], to: int) -> Partition:
    """Move households (indices into `xy`) to micro-grid `to`; the borders between it and the
    micro-grids they leave are redrawn between their addresses (Voronoi cells)."""
    _check_index(partition, to)
    xy = np.asarray(xy, dtype=float)
    owner = {m: i for i, p in enumerate(partition.parts) for m in p.members}
    unknown = [h for h in households if h not in owner]
    if unknown:
        raise AdjustmentError(f"unknown households: {unknown[:5]}")
    sources = sorted({owner[h] for h in households} - {to})
    if not sources:
        return partition
    for i in sources:
        if partition.parts[i].locked:
            raise AdjustmentError(f"micro-grid {i + 1} is locked")
        if not _adjacent(partition.parts[i].geometry, partition.parts[to].geometry):
            raise AdjustmentError(f"micro-grid {i + 1} does not share a border with {to + 1}")
    involved = [to, *sources]
    region = shapely.union_all([partition.parts[i].geometry for i in involved])
    plane = _Plane(region)
    new_owner = {m: i for i in involved for m in partition.parts[i].members}
    new_owner.update(dict.fromkeys(households, to))
    atoms = _atoms(xy[list(new_owner)], plane)
    index = list(new_owner)
    cells_m = _cells(plane.to_m(region), atoms.local)
    groups: dict[int, list] = {i: [] for i in involved}
    for atom, cell in zip(atoms.members, cells_m, strict=True):
        owners = {new_owner[index[m]] for m in atom}
        if len(owners) > 1:
            raise AdjustmentError("households at one address must stay together")
        groups[owners.pop()].append(_as_area(shapely.intersection(plane.to_deg(cell), region)))
    parts = list(partition.parts)
    for i in involved:
        if not groups[i]:
            raise AdjustmentError(f"micro-grid {i + 1} would be left with no households")
        geometry = _one_piece(shapely.union_all(groups[i]), f"micro-grid {i + 1}")
        members = sorted(m for m, o in new_owner.items() if o == i)
        parts[i] = MicroGrid(geometry, members, 0.0, partition.parts[i].locked)
    rest = shapely.difference(region, shapely.union_all([parts[i].geometry for i in involved]))
    if not rest.is_empty and rest.area > 0:  # rounding slivers go to the target
        parts[to].geometry = _one_piece(shapely.union(parts[to].geometry, rest), "the target")
    return _rebuilt(partition, parts)


def adjust_lock(partition: Partition, index: int, locked: bool = True) -> Partition:
    _check_index(partition, index)
    parts = list(partition.parts)
    part = parts[index]
    parts[index] = MicroGrid(part.geometry, part.members, part.polsby_popper, locked)
    return _rebuilt(partition, parts)


def adjust_rerun(
    partition: Partition, grid, xy, *, seed: int = 0, barriers=(), low=None, high=None
) -> Partition:
    """Divide the grid again, keeping the locked micro-grids as they are."""
    result = divide(
        grid,
        xy,
        low=partition.low if low is None else low,
        high=partition.high if high is None else high,
        seed=seed,
        barriers=barriers,
        locked=[p.geometry for p in partition.parts if p.locked],
    )
    return result
