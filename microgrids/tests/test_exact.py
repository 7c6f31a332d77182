"""The exact search on address contiguity graphs (CP-SAT), without a database."""

from microgrids import exact


def lattice(columns, rows):
    edges = []
    for i in range(columns):
        for j in range(rows):
            a = i * rows + j
            if i + 1 < columns:
                edges.append((a, a + rows))
            if j + 1 < rows:
                edges.append((a, a + 1))
    return edges


def test_pairs_of_equal_addresses_are_found():
    found = exact.divide_graph([17] * 24, lattice(6, 4), 30, 50, range(9, 14))
    assert found.status == "found"
    assert sorted(len(g) for g in found.groups) == [2] * 12
    neighbours = set(lattice(6, 4))
    assert all(tuple(sorted(g)) in neighbours for g in found.groups)  # each pair is adjacent


def test_an_odd_lattice_of_pairs_is_proved_infeasible():
    # 25 addresses of 17: only pairs fit 30-50, and a 5 x 5 lattice has no perfect matching.
    assert exact.divide_graph([17] * 25, lattice(5, 5), 30, 50, range(9, 15)).status == (
        "infeasible"
    )
    assert exact.divide_graph([17] * 25, lattice(25, 1), 30, 50, range(9, 15)).status == (
        "infeasible"
    )


def test_nearest_bounds_move_by_the_household():
    weights, edges = [17] * 25, lattice(5, 5)
    up = exact.nearest_bounds(weights, edges, 30, 50, side="high")
    assert (up.low, up.high, up.nearest) == (30, 51, True)
    down = exact.nearest_bounds(weights, edges, 30, 50, side="low")
    assert (down.low, down.high) == (17, 50)


def test_a_simple_reason_is_given_when_no_sum_fits():
    assert exact.why_infeasible([17, 23, 17], 30, 33) == (
        "every address holds 17 or 23 households: no sum of them falls within 30-33."
    )
    assert exact.why_infeasible([17, 17], 30, 50) is None


def test_a_search_cut_short_says_unknown_not_infeasible():
    found = exact.divide_graph([17] * 24, lattice(6, 4), 30, 50, range(9, 14), work_limit=1e-9)
    assert found.status in ("unknown", "found")  # never a claimed proof
