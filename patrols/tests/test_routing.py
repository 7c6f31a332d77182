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


def test_points_at_one_place_group_and_points_a_few_metres_apart_do_not():
    from patrols.routing import group_by_place

    tower, across = (112.03, 32.64), (112.03, 32.64003)  # about 3 m north
    points = [tower, across, tower, (112.0300000001, 32.64), across, (112.04, 32.64)]
    assert group_by_place(points) == [[0, 2, 3], [1, 4], [5]]
    assert group_by_place([]) == []
    assert group_by_place(points, within_m=5) == [[0, 1, 2, 3, 4], [5]]


@pytest.mark.parametrize(
    ("addresses", "label"),
    [
        (["团结路12号3栋1单元101室"], "团结路12号3栋1单元101室"),
        (["团结路12号3栋1单元101室", "团结路12号3栋2单元202室"], "团结路12号3栋"),
        # Shared "…1单元10" is cut back to the whole component "…1单元".
        (["团结路12号3栋1单元101室", "团结路12号3栋1单元102室"], "团结路12号3栋1单元"),
        (["张庄村3组", "张庄村5组"], "张庄村"),
        (["", "团结路1号"], "团结路1号"),
        ([], ""),
        (["abc", "xyz"], "abc"),  # nothing shared: the first
    ],
)
def test_a_stop_is_named_by_the_part_of_the_address_its_households_share(addresses, label):
    from patrols.routing import stop_label

    assert stop_label(addresses) == label
