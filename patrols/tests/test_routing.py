"""Route ordering and road-network distances, without a database."""

import itertools

import numpy as np
import pytest

from patrols.routing import RoadNetwork, order_open_path, plan_route, straight_matrix


def path_length(matrix, order):
    return sum(matrix[a, b] for a, b in itertools.pairwise(order))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_open_path_is_optimal_on_small_instances(seed):
    rng = np.random.default_rng(seed)
    points = rng.uniform(0, 1000, (8, 2))
    matrix = np.sqrt(((points[:, None] - points[None]) ** 2).sum(-1))
    order = order_open_path(matrix, 0, seconds=0.05)
    assert order[0] == 0 and sorted(order) == list(range(8))
    best = min(path_length(matrix, (0, *rest)) for rest in itertools.permutations(range(1, 8)))
    assert path_length(matrix, order) == pytest.approx(best, rel=1e-6)


def test_straight_route_says_so():
    route = plan_route((112.0, 32.6), [(112.01, 32.6), (112.002, 32.6)])
    assert route.order == [1, 0] and not route.follows_roads
    assert "straight" in route.notes[0]
    assert route.total_m == pytest.approx(
        straight_matrix([(112.0, 32.6), (112.01, 32.6)])[0, 1], rel=1e-6
    )


def test_road_route_follows_the_roads():
    # A U-shaped street: from the west end to the east end one must walk round by the north.
    street = np.array([(112.000, 32.600), (112.000, 32.610), (112.010, 32.610), (112.010, 32.600)])
    network = RoadNetwork([street])
    route = plan_route((112.000, 32.600), [(112.010, 32.600)], network)
    assert route.follows_roads and not route.notes
    straight = straight_matrix([(112.0, 32.6), (112.01, 32.6)])[0, 1]
    around = straight_matrix(street[[0, 1]])[0, 1] * 2 + straight_matrix(street[[1, 2]])[0, 1]
    assert route.total_m == pytest.approx(around, rel=1e-6) and route.total_m > 2.5 * straight
    assert (112.0, 32.61) in route.line and (112.01, 32.61) in route.line


def test_unreachable_stops_fall_back_to_straight_lines():
    network = RoadNetwork(
        [np.array([(112.0, 32.6), (112.001, 32.6)]), np.array([(112.1, 32.7), (112.101, 32.7)])]
    )
    route = plan_route((112.0, 32.6), [(112.1, 32.7)], network)
    assert "cannot be reached" in route.notes[0]
