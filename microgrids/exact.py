"""An exact search for a division of addresses into contiguous groups within bounds (pure:
OR-Tools CP-SAT), for when the straight cuts fail: it either finds a division, proves that none
exists on the address contiguity graph, or says it found none within its limit.

Model: a spanning forest of the contiguity graph, one tree per group. Every address is a root
or picks one neighbour as its parent; `load` of an address is its households plus its children's
loads, so a root's load is its group's total (within low-high) and loads grow strictly towards
the root, which rules out cycles. Unlike labelled groups (address a in group p) this has no
symmetry between groups, so CP-SAT proves a 5 x 5 lattice of 17-household addresses cannot form
pairs in milliseconds where the labelled model ran out of time.

The solver runs on one worker with a deterministic time limit, so the same input gives the same
answer on any machine; `seed` picks the solver's random seed, hence maybe another division.
"""

from dataclasses import dataclass, field

from ortools.sat.python import cp_model

# Deterministic work units per search (CP-SAT's, a few seconds of wall time each on a shared
# core); the wall-clock cap only guards against a much slower machine.
WORK_LIMIT = 0.5
WALL_LIMIT = 10.0


@dataclass
class Exact:
    status: str  # "found", "infeasible" (proved) or "unknown" (none found within the limit)
    groups: list[list[int]] = field(default_factory=list)
    low: int = 0  # the bounds the groups meet (relaxed searches move them)
    high: int = 0
    seconds: float = WORK_LIMIT
    work: float = 0.0  # deterministic work the search used
    nearest: bool = True  # for nearest_bounds: no bound nearer works (proved)


def divide_graph(
    weights,
    edges,
    low: int,
    high: int,
    counts,
    *,
    seed: int = 0,
    work_limit: float = WORK_LIMIT,
) -> Exact:
    """Groups of node indices for `weights` (households per address) and `edges` (pairs of
    neighbouring addresses), each group connected and within low-high, their number in `counts`.
    """
    weights = [int(w) for w in weights]
    n = len(weights)
    counts = [c for c in counts if 1 <= c <= n]
    if not counts:
        return Exact("infeasible", low=low, high=high)
    neighbours = [set() for _ in range(n)]
    for u, v in edges:
        if u != v:
            neighbours[int(u)].add(int(v))
            neighbours[int(v)].add(int(u))
    model = cp_model.CpModel()
    if max(weights) > high:
        return Exact("infeasible", low=low, high=high)
    load = [model.new_int_var(weights[v], high, f"load{v}") for v in range(n)]
    root = [model.new_bool_var(f"root{v}") for v in range(n)]
    parent = {}
    for v in range(n):
        carried = []
        for c in sorted(neighbours[v]):
            is_child = parent.setdefault((v, c), model.new_bool_var(f"p{v}_{c}"))
            share = model.new_int_var(0, high, f"g{v}_{c}")
            model.add(share == load[c]).only_enforce_if(is_child)
            model.add(share == 0).only_enforce_if(~is_child)
            carried.append(share)
        model.add(load[v] == weights[v] + sum(carried))
        model.add(load[v] <= high)
    for v in range(n):
        model.add_exactly_one([root[v]] + [parent[u, v] for u in sorted(neighbours[v])])
        model.add(load[v] >= low).only_enforce_if(root[v])
    groups_used = sum(root)
    model.add(groups_used >= min(counts))
    model.add(groups_used <= max(counts))
    # No objective (a preferred count or compactness): proving that a better one does not
    # exist took the whole limit where finding a division took milliseconds; the shape is
    # improved afterwards by moving boundary addresses.

    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.random_seed = int(seed) % (2**31)
    solver.parameters.max_deterministic_time = work_limit
    solver.parameters.max_time_in_seconds = WALL_LIMIT
    # Measured on these models: presolve and the LP relaxation cost more than they prune
    # (a 23-address proof of infeasibility: 0.8 s without, 3.3 s with).
    solver.parameters.cp_model_presolve = False
    solver.parameters.linearization_level = 0
    status = solver.solve(model)
    work = solver.deterministic_time
    if status == cp_model.INFEASIBLE:
        return Exact("infeasible", low=low, high=high, seconds=work_limit, work=work)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return Exact("unknown", low=low, high=high, seconds=work_limit, work=work)
    up = {c: v for (v, c), var in parent.items() if solver.value(var)}

    def top_of(v):
        while v in up:
            v = up[v]
        return v

    trees: dict[int, list[int]] = {}
    for v in range(n):
        trees.setdefault(top_of(v), []).append(v)
    return Exact("found", sorted(trees.values()), low=low, high=high, seconds=work_limit, work=work)


def part_counts(total: int, low: int, high: int) -> list[int]:
    """The numbers of groups of low-high that `total` households allow, the one whose mean is
    closest to the middle of the bounds first."""
    counts = range(-(-total // high), total // low + 1)
    return sorted(counts, key=lambda c: (abs(total / c - (low + high) / 2), c))


def nearest_bounds(
    weights, edges, low: int, high: int, *, side: str, seed: int = 0, steps: int = 60
) -> Exact | None:
    """A division with the nearest bounds that work, one bound moved (side "high" raises the
    maximum, "low" lowers the minimum), or None when none is found within `steps` households
    and the work limit. Widening bounds keeps every division valid, so the nearest is found by
    bisection; bounds the arithmetic rules out are skipped without solving. `exact` on the
    answer says whether the bound one household nearer was proved not to work."""
    weights = [int(w) for w in weights]
    total = sum(weights)
    sums = subset_sums(weights, high + steps)
    budget = [WORK_LIMIT]

    def bounds(step):
        return (low, high + step) if side == "high" else (max(1, low - step), high)

    def attempt(step) -> Exact:
        a, b = bounds(step)
        counts = part_counts(total, a, b)
        if not counts or max(weights) > b or not any(a <= s <= b for s in sums):
            return Exact("infeasible", low=a, high=b)
        if budget[0] <= 0:
            return Exact("unknown", low=a, high=b)
        found = divide_graph(weights, edges, a, b, counts, seed=seed, work_limit=budget[0])
        budget[0] -= found.work
        return found

    steps = min(steps, low - 1) if side == "low" else steps
    lo, hi, best = 0, None, None  # step lo is known not to work (0: the planner's bounds)
    for step in range(1, steps + 1):  # the first step that works, doubling
        found = attempt(step if step < 3 else min(steps, 2 ** (step - 1)))
        reached = step if step < 3 else min(steps, 2 ** (step - 1))
        if found.status == "found":
            hi, best = reached, found
            break
        if found.status == "unknown":
            return None
        lo = reached
        if reached >= steps:
            return None
    if best is None:
        return None
    proved = True
    while hi - lo > 1:
        middle = (lo + hi) // 2
        found = attempt(middle)
        if found.status == "found":
            hi, best = middle, found
        elif found.status == "infeasible":
            lo = middle
        else:
            proved = False
            break
    best.nearest = proved
    return best


def subset_sums(weights, limit: int) -> set[int]:
    """Every total up to `limit` that some addresses together hold."""
    reachable = 1
    mask = (1 << (limit + 1)) - 1
    for w in weights:
        reachable |= (reachable << int(w)) & mask
    return {s for s in range(1, limit + 1) if reachable >> s & 1}


def why_infeasible(weights, low: int, high: int) -> str | None:
    """A reason a person can check, when there is a simple one: no group of addresses holds
    low-high households at all, whatever the shape."""
    if any(low <= s <= high for s in subset_sums(weights, high)):
        return None
    sizes = sorted({int(w) for w in weights})
    listed = ", ".join(map(str, sizes[:-1])) + (" or " if len(sizes) > 1 else "") + str(sizes[-1])
    return f"every address holds {listed} households: no sum of them falls within {low}-{high}."
