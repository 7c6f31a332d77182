"""The case flow, checked against a table written out here independently of cases/flow.py:
every state (status x whistle x rated) against every action, and every role."""

import itertools

import pytest
from django.utils import translation

from cases import flow
from cases.flow import Action as A
from cases.flow import CaseState, Field, Step, Whistle
from cases.flow import Status as S
from territory.models import RoleChoices as R

STATION = {R.VILLAGE_OFFICER, R.COMMANDER}
HANDLERS = {R.GRID_CHIEF, R.GRID_WORKER, R.MICROGRID_WORKER, R.VOLUNTEER, R.DEPARTMENT_STAFF}
UNFINISHED = {S.REPORTED, S.DISPATCHED, S.ACCEPTED, S.ESCALATED}

# action: (from statuses, to status (None: stays), roles, required fields, limit started)
ORACLE = {
    A.DISPATCH: ({S.REPORTED}, S.DISPATCHED, STATION, {"assignee"}, Step.ACCEPT),
    A.REASSIGN: ({S.DISPATCHED}, None, STATION, {"assignee", "reason"}, Step.ACCEPT),
    A.DECLINE: ({S.DISPATCHED}, S.REPORTED, HANDLERS, {"reason"}, Step.DISPATCH),
    A.ACCEPT: ({S.DISPATCHED}, S.ACCEPTED, HANDLERS, set(), Step.HANDLE),
    A.HANDLE: ({S.ACCEPTED}, S.HANDLED, HANDLERS | {R.COMMANDER}, {"note"}, Step.VERIFY),
    A.VERIFY: ({S.HANDLED}, S.VERIFIED, STATION, set(), Step.PUBLISH),
    A.REWORK: ({S.HANDLED}, S.ACCEPTED, STATION, {"reason"}, Step.HANDLE),
    A.PUBLISH: ({S.VERIFIED}, S.PUBLISHED, STATION, set(), None),
    A.REJECT: ({S.REPORTED}, S.REJECTED, STATION, {"reason"}, None),
    A.CANCEL: (UNFINISHED, S.CANCELLED, STATION, {"reason"}, None),
    A.WITHDRAW: ({S.REPORTED}, S.CANCELLED, {R.RESIDENT}, {"reason"}, None),
    A.MERGE: ({S.REPORTED, S.DISPATCHED}, S.MERGED, STATION, {"duplicate_of", "reason"}, None),
    A.ESCALATE: (
        {S.REPORTED, S.DISPATCHED, S.ACCEPTED},
        S.ESCALATED,
        {R.COMMANDER},
        {"department", "reason"},
        Step.ACKNOWLEDGE,
    ),
    A.ACKNOWLEDGE: ({S.ESCALATED}, S.ACCEPTED, {R.DEPARTMENT_STAFF}, set(), Step.HANDLE),
    A.RATE_ESCALATION: (
        {S.HANDLED, S.VERIFIED, S.PUBLISHED},
        None,
        {R.COMMANDER},
        {"rating"},
        None,
    ),
    A.RATE: ({S.VERIFIED, S.PUBLISHED}, None, {R.RESIDENT}, {"rating"}, None),
}
STATES = list(flow.all_states())


def expected(state: CaseState, action: A) -> CaseState | None:
    sources, target, *_ = ORACLE[action]
    if state.status not in sources:
        return None
    new = CaseState(target or state.status, state.whistle, state.rated)
    if action == A.ESCALATE:
        if state.whistle != Whistle.NONE:
            return None  # one whistle per case
        new = CaseState(new.status, Whistle.BLOWN, state.rated)
    if action == A.RATE_ESCALATION:
        if state.whistle != Whistle.BLOWN:
            return None  # never escalated, or already rated
        new = CaseState(new.status, Whistle.RATED, state.rated)
    if action == A.RATE:
        if state.rated:
            return None
        new = CaseState(new.status, state.whistle, True)
    return new


def test_the_oracle_covers_every_action():
    assert set(ORACLE) == set(A) == set(flow.TRANSITIONS)


@pytest.mark.parametrize(
    ("state", "action"), list(itertools.product(STATES, A)), ids=lambda v: repr(v)
)
def test_every_state_and_action(state, action):
    want = expected(state, action)
    if want is None:
        with pytest.raises(flow.IllegalTransition) as refused:
            flow.next_state(state, action)
        message = str(refused.value)
        assert f"'{action.value}'" in message
        assert f"'{state.status.value}'" in message
        for allowed in flow.legal_actions(state):
            assert allowed.value in message
        assert refused.value.allowed == flow.legal_actions(state)
        assert action not in flow.legal_actions(state)
    else:
        assert flow.next_state(state, action) == want
        assert action in flow.legal_actions(state)


@pytest.mark.parametrize(("state", "role"), list(itertools.product(STATES, R)), ids=repr)
def test_the_buttons_of_every_role_in_every_state(state, role):
    want = {a for a in A if expected(state, a) is not None and role in ORACLE[a][2]}
    got = flow.allowed_actions(state, role)
    assert set(got) == want
    assert len(got) == len(set(got))


@pytest.mark.parametrize("action", list(A))
def test_required_fields_and_the_limit_started(action):
    transition = flow.TRANSITIONS[action]
    _, _, roles, required, starts = ORACLE[action]
    assert transition.roles == roles
    assert transition.required == required
    assert transition.starts == starts


@pytest.mark.parametrize("action", list(A))
def test_a_new_status_starts_its_own_limit_and_a_kept_one_runs_on(action):
    transition = flow.TRANSITIONS[action]
    if transition.target is not None:
        assert transition.starts == flow.STEP_OF_STATUS[transition.target]
    else:
        # Only reassigning restarts the running limit: the new assignee gets all of it.
        for source in transition.sources:
            assert transition.starts in {None, flow.STEP_OF_STATUS[source]}
        assert (transition.starts is not None) == (action == A.REASSIGN)


def test_stored_strings_are_states():
    assert flow.next_state("handled", "verify") == CaseState(S.VERIFIED)
    assert CaseState("accepted", "blown") == CaseState(S.ACCEPTED, Whistle.BLOWN)
    with pytest.raises(ValueError):
        CaseState("lost")


def test_an_unknown_action_is_refused_with_the_allowed_ones():
    with pytest.raises(flow.IllegalTransition) as refused:
        flow.next_state(CaseState(S.ACCEPTED), "fly")
    assert str(refused.value) == (
        "there is no action 'fly'; for a case that is 'accepted' allowed are: "
        "handle, cancel, escalate"
    )


def test_the_message_names_the_state_and_what_it_allows():
    with pytest.raises(flow.IllegalTransition) as refused:
        flow.next_state(CaseState(S.ACCEPTED), A.VERIFY)
    assert str(refused.value) == (
        "cannot 'verify' a case that is 'accepted'; allowed here: handle, cancel, escalate"
    )
    with pytest.raises(flow.IllegalTransition) as refused:
        flow.next_state(CaseState(S.CANCELLED), A.DISPATCH)
    assert str(refused.value).endswith("allowed here: none, the case is closed")
    with pytest.raises(flow.IllegalTransition) as refused:
        flow.next_state(CaseState(S.VERIFIED, Whistle.RATED, rated=True), A.RATE)
    assert "(whistle rated, rated)" in str(refused.value)


def test_six_orders_with_a_rework_loop():
    steps = [
        (A.DISPATCH, R.VILLAGE_OFFICER, {"assignee": 7}),
        (A.ACCEPT, R.GRID_WORKER, {}),
        (A.HANDLE, R.GRID_WORKER, {"note": "清理完毕"}),
        (A.REWORK, R.VILLAGE_OFFICER, {"reason": "垃圾未清运"}),
        (A.HANDLE, R.GRID_WORKER, {"note": "已清运"}),
        (A.VERIFY, R.VILLAGE_OFFICER, {}),
        (A.RATE, R.RESIDENT, {"rating": 5}),
        (A.PUBLISH, R.VILLAGE_OFFICER, {}),
    ]
    state = flow.open_case(R.RESIDENT)
    seen = [state.status]
    for action, role, fields in steps:
        state, _ = flow.take(state, action, role=role, fields=fields)
        seen.append(state.status)
    assert seen == [
        S.REPORTED,
        S.DISPATCHED,
        S.ACCEPTED,
        S.HANDLED,
        S.ACCEPTED,
        S.HANDLED,
        S.VERIFIED,
        S.VERIFIED,
        S.PUBLISHED,
    ]
    assert state == CaseState(S.PUBLISHED, Whistle.NONE, rated=True)
    assert flow.allowed_actions(state, R.RESIDENT) == ()


def test_whistle_report_in_act_and_rate():
    state = flow.open_case(R.COMMANDER)
    state, t = flow.take(
        state, A.ESCALATE, role=R.COMMANDER, fields={"department": 3, "reason": "超出乡镇职权"}
    )
    assert (state.status, state.whistle, t.starts) == (S.ESCALATED, Whistle.BLOWN, Step.ACKNOWLEDGE)
    assert flow.allowed_actions(state, R.DEPARTMENT_STAFF) == (A.ACKNOWLEDGE,)
    assert A.HANDLE not in flow.allowed_actions(state, R.DEPARTMENT_STAFF)  # report in first
    state, t = flow.take(state, A.ACKNOWLEDGE, role=R.DEPARTMENT_STAFF)
    assert (state.status, t.starts) == (S.ACCEPTED, Step.HANDLE)
    assert A.ESCALATE not in flow.legal_actions(state)  # one whistle per case
    assert A.RATE_ESCALATION not in flow.legal_actions(state)  # not before it acted
    state, _ = flow.take(state, A.HANDLE, role=R.DEPARTMENT_STAFF, fields={"note": "已处置"})
    state, _ = flow.take(state, A.RATE_ESCALATION, role=R.COMMANDER, fields={"rating": 4})
    assert (state.status, state.whistle) == (S.HANDLED, Whistle.RATED)
    assert A.RATE_ESCALATION not in flow.legal_actions(state)


def test_take_answers_illegal_before_forbidden_before_incomplete():
    with pytest.raises(flow.IllegalTransition):
        flow.take(CaseState(S.REPORTED), A.VERIFY, role=R.RESIDENT)
    with pytest.raises(flow.ActionNotPermitted) as forbidden:
        flow.take(CaseState(S.HANDLED), A.VERIFY, role=R.GRID_WORKER)
    assert str(forbidden.value) == (
        "a grid_worker may not 'verify' a case; only: commander, village_officer"
    )
    with pytest.raises(flow.MissingFields) as incomplete:
        flow.take(CaseState(S.REPORTED), A.MERGE, role=R.VILLAGE_OFFICER, fields={"reason": " "})
    assert incomplete.value.problems == {"duplicate_of": "required", "reason": "required"}
    assert str(incomplete.value) == "'merge' needs duplicate_of: required; reason: required"


@pytest.mark.parametrize("action", [a for a in A if ORACLE[a][3]])
def test_every_required_field_is_required(action):
    required = ORACLE[action][3]
    complete = {name: 3 if name == Field.RATING else "x" for name in required}
    flow.check_fields(action, complete)
    for name in required:
        with pytest.raises(flow.MissingFields) as incomplete:
            flow.check_fields(action, {k: v for k, v in complete.items() if k != name})
        assert set(incomplete.value.problems) == {name}


@pytest.mark.parametrize("rating", [0, 6, -1, True, False, "5", 3.0, None])
def test_a_rating_is_a_whole_number_from_1_to_5(rating):
    with pytest.raises(flow.MissingFields, match="from 1 to 5"):
        flow.check_fields(A.RATE, {"rating": rating})


@pytest.mark.parametrize("rating", [1, 2, 3, 4, 5])
def test_ratings_1_to_5(rating):
    flow.check_fields(A.RATE_ESCALATION, {"rating": rating})


def test_who_raises_a_case():
    for role in R:
        if role in {R.VOLUNTEER, R.DEPARTMENT_STAFF}:
            with pytest.raises(flow.ActionNotPermitted):
                flow.open_case(role)
        else:
            assert flow.open_case(role) == CaseState(S.REPORTED)


def test_every_status_is_reachable_and_every_reachable_case_can_end():
    reachable = flow.reachable()
    assert {s.status for s in reachable} == set(S)
    for state in reachable:
        if state.status in flow.TERMINAL:
            continue
        assert flow.legal_actions(state), state
        ends = {s.status for s in flow.reachable(state)} & flow.TERMINAL
        assert ends, state


def test_terminal_statuses_run_no_limit_and_allow_only_ratings():
    assert {S.PUBLISHED, S.REJECTED, S.CANCELLED, S.MERGED} == flow.TERMINAL
    assert set(flow.STEP_OF_STATUS) == set(S)
    for state in STATES:
        if state.status in flow.TERMINAL:
            assert set(flow.legal_actions(state)) <= {A.RATE, A.RATE_ESCALATION}


def test_roles_are_the_territory_roles():
    for transition in flow.TRANSITIONS.values():
        assert transition.roles
        assert transition.roles <= set(R)
    assert set(R) >= flow.REPORTERS


def test_the_buttons_speak_chinese():
    # cases/locale/zh_Hans (compiled by scripts/bootstrap.sh with every other catalogue).
    with translation.override("zh-hans"):
        assert str(A.REWORK.label) == "返工"
        assert str(S.HANDLED.label) == "已消单"
        assert str(A.RATE_ESCALATION.label) == "评哨"
    with translation.override("en"):
        assert str(A.REWORK.label) == "Send back for rework"
