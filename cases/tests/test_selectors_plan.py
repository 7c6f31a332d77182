"""A township commander's case list counts its cases from the indexes: the reach (the subtree,
the user's departments, what is assigned to or reported by them) is one OR the planner can
answer with a BitmapOr, with no subquery in it that forces a scan of every case (at city scale
the list's count took most of its time: bench/cases.py)."""

import pytest
from django.db import connection

from cases import selectors
from cases.models import Department

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("member", [False, True])
def test_the_case_list_count_can_use_the_indexes(territory, member):
    user = territory.users["township_commander"]
    if member:
        department = Department.objects.create(code="d1", name="城管", county_code="411381")
        department.members.add(user)
    query = selectors.cases_for_user(user=user).values("pk").query
    sql, params = query.sql_with_params()
    with connection.cursor() as cursor:
        # On a near-empty table the planner may walk any whole index and filter; with plain
        # index scans off too, the only cheap plan left is a bitmap over the reach's indexes.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        cursor.execute("SET LOCAL enable_indexonlyscan = off")
        cursor.execute(f"EXPLAIN SELECT count(*) FROM ({sql}) AS listed", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "BitmapOr" in plan and "SubPlan" not in plan, plan
