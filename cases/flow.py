"""The six-order case flow (六单, docs/glossary.md; /work/shared/domain.md §3) as a pure state
machine: no database, no request. The services take a case's state and a user's role, ask this
module what the action leads to, write the event and the new state; the case page asks it which
buttons to show.

The six orders: 群众点单 reported -> 站点派单 dispatched -> 接单 accepted -> 中心消单 handled ->
社区核单 verified (or 返工 sent back to the handler, accepted again) -> 组织晒单 published; a case
may end rejected, cancelled (by the station or the centre; withdrawn by the resident) or merged
into another case as its duplicate, each with a reason. Escalation (基层吹哨、部门报到) is the
status `escalated`: the township blows the whistle to a county department, which must report in
(报到, `acknowledge`) within its limit and then holds the case as its handler; once the
department has acted the county centre rates the response (评哨, 1-5). The resident rates the
result (satisfaction, 1-5) once it is verified.

A case's state is therefore a `CaseState`: its status plus two small facts the ratings need,
whether a whistle was blown and not yet rated (`Whistle`), and whether the resident has rated.

Roles are those of territory.models.RoleChoices. This module knows roles, not places: that a
village officer acts only on cases of their village, a department only on what was dispatched or
escalated to it, the whistle comes from a township and is rated by the county, and a resident
acts only on their own request is the services' check (territory.selectors.jurisdiction_for).

Every transition names the step whose time limit it starts (`Step`; the catalogue gives each
item a limit per step). A status has exactly one running limit (`STEP_OF_STATUS`); a transition
that changes the status starts the limit of the new status, one that keeps it (the ratings)
leaves the running limit alone, except `reassign`, which gives the new assignee a fresh limit.

Why no library: django-fsm-2 binds transitions to model methods and a protected field, and
viewflow brings a process engine with its own tables and views. The flow is a table of about
fifteen rows; here it is data that a test can walk exhaustively (every status x action pair),
that the case page, the services and the notifications read alike, and that carries what those
libraries have no place for (required fields, the step limit each transition starts, the
ratings' sub-states). Concurrency (one of two simultaneous actions wins) is the services' job
either way: a row lock or a version check on the case.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

from django.db import models
from django.utils.translation import gettext_lazy as _

from territory.models import RoleChoices as R


class Status(models.TextChoices):
    REPORTED = "reported", _("Reported")  # 群众点单
    DISPATCHED = "dispatched", _("Dispatched")  # 站点派单
    ACCEPTED = "accepted", _("Accepted")  # 接单
    ESCALATED = "escalated", _("Escalated")  # 基层吹哨, awaiting the department's 报到
    HANDLED = "handled", _("Handled")  # 中心消单
    VERIFIED = "verified", _("Verified")  # 社区核单
    PUBLISHED = "published", _("Published")  # 组织晒单
    REJECTED = "rejected", _("Rejected")  # 不予受理
    CANCELLED = "cancelled", _("Cancelled")  # 撤销 / 撤回
    MERGED = "merged", _("Merged as a duplicate")  # 合并


class Whistle(models.TextChoices):
    """The escalation's own sub-state: 评哨 needs a whistle that was blown and not yet rated."""

    NONE = "none", _("Not escalated")
    BLOWN = "blown", _("Escalated, not rated")
    RATED = "rated", _("Escalation rated")


class Action(models.TextChoices):
    DISPATCH = "dispatch", _("Dispatch")  # 派单
    REASSIGN = "reassign", _("Reassign")  # 改派
    DECLINE = "decline", _("Decline")  # 退单: the assignee hands it back to the station
    ACCEPT = "accept", _("Accept")  # 接单
    HANDLE = "handle", _("Report handled")  # 消单
    VERIFY = "verify", _("Verify")  # 核单
    REWORK = "rework", _("Send back for rework")  # 返工
    PUBLISH = "publish", _("Publish")  # 晒单
    REJECT = "reject", _("Reject")  # 不予受理
    CANCEL = "cancel", _("Cancel")  # 撤销 (station or centre)
    WITHDRAW = "withdraw", _("Withdraw")  # 撤回 (the resident, before dispatch)
    MERGE = "merge", _("Merge as duplicate")  # 合并
    ESCALATE = "escalate", _("Escalate to a department")  # 吹哨
    ACKNOWLEDGE = "acknowledge", _("Report in")  # 报到
    RATE_ESCALATION = "rate_escalation", _("Rate the department's response")  # 评哨
    RATE = "rate", _("Rate satisfaction")  # 满意度评价


class Step(models.TextChoices):
    """The steps with a time limit of their own (the catalogue sets one per item and step)."""

    DISPATCH = "dispatch", _("Dispatch")
    ACCEPT = "accept", _("Accept")
    ACKNOWLEDGE = "acknowledge", _("Report in")
    HANDLE = "handle", _("Handle")
    VERIFY = "verify", _("Verify")
    PUBLISH = "publish", _("Publish")


class Field(models.TextChoices):
    """What an action must carry besides who and when."""

    REASON = "reason", _("reason")
    NOTE = "note", _("note")  # the result, for 消单
    ASSIGNEE = "assignee", _("assignee")  # a user or a department
    DEPARTMENT = "department", _("department")
    DUPLICATE_OF = "duplicate_of", _("duplicate of")
    RATING = "rating", _("rating")


# The limit running in each status; terminal statuses run none.
STEP_OF_STATUS = {
    Status.REPORTED: Step.DISPATCH,
    Status.DISPATCHED: Step.ACCEPT,
    Status.ESCALATED: Step.ACKNOWLEDGE,
    Status.ACCEPTED: Step.HANDLE,
    Status.HANDLED: Step.VERIFY,
    Status.VERIFIED: Step.PUBLISH,
    Status.PUBLISHED: None,
    Status.REJECTED: None,
    Status.CANCELLED: None,
    Status.MERGED: None,
}
TERMINAL = frozenset(s for s, step in STEP_OF_STATUS.items() if step is None)

# Who raises a case (群众点单): the resident, the worker on patrol, the station and the centre
# typing in a hotline call. Intake systems (12345, Open311) act as the centre.
REPORTERS = frozenset(
    {R.RESIDENT, R.GRID_CHIEF, R.GRID_WORKER, R.MICROGRID_WORKER, R.VILLAGE_OFFICER, R.COMMANDER}
)
# The station (站点: the village/community officer) and the centre (中心: commanders of the
# township or county service centre) steer the case.
STATION = frozenset({R.VILLAGE_OFFICER, R.COMMANDER})
# Who may be dispatched a case and work it.
HANDLERS = frozenset(
    {R.GRID_CHIEF, R.GRID_WORKER, R.MICROGRID_WORKER, R.VOLUNTEER, R.DEPARTMENT_STAFF}
)
RATINGS = range(1, 6)


@dataclass(frozen=True)
class CaseState:
    status: Status = Status.REPORTED
    whistle: Whistle = Whistle.NONE
    rated: bool = False  # the resident's satisfaction rating is given once

    def __post_init__(self):
        # Accept the stored strings ("accepted") as well as the enums.
        object.__setattr__(self, "status", Status(self.status))
        object.__setattr__(self, "whistle", Whistle(self.whistle))

    def __str__(self):
        return str(self.status.value)


@dataclass(frozen=True)
class Transition:
    action: Action
    zh: str
    sources: frozenset  # the statuses it may be taken from
    target: Status | None  # None: the status stays
    roles: frozenset
    required: frozenset = frozenset()
    starts: Step | None = None  # the limit it starts; None leaves the running one (or none)
    whistle: tuple[Whistle, Whistle] | None = None  # (required before, set after)
    rates: bool = False  # the resident's rating: needs `rated` False, sets it

    def applies_to(self, state: CaseState) -> bool:
        if state.status not in self.sources:
            return False
        if self.whistle is not None and state.whistle != self.whistle[0]:
            return False
        return not (self.rates and state.rated)

    def after(self, state: CaseState) -> CaseState:
        new = replace(state, status=self.target or state.status)
        if self.whistle is not None:
            new = replace(new, whistle=self.whistle[1])
        if self.rates:
            new = replace(new, rated=True)
        return new


S = Status
_OPEN_BEFORE_WORK = frozenset({S.REPORTED, S.DISPATCHED})
_UNFINISHED = frozenset({S.REPORTED, S.DISPATCHED, S.ACCEPTED, S.ESCALATED})
_ACTED = frozenset({S.HANDLED, S.VERIFIED, S.PUBLISHED})

# fmt: off
TRANSITIONS: dict[Action, Transition] = {
    t.action: t
    for t in (
        Transition(
            Action.DISPATCH, "派单", frozenset({S.REPORTED}), S.DISPATCHED, STATION,
            frozenset({Field.ASSIGNEE}), Step.ACCEPT,
        ),
        Transition(
            Action.REASSIGN, "改派", frozenset({S.DISPATCHED}), None, STATION,
            frozenset({Field.ASSIGNEE, Field.REASON}), Step.ACCEPT,
        ),
        Transition(
            Action.DECLINE, "退单", frozenset({S.DISPATCHED}), S.REPORTED, HANDLERS,
            frozenset({Field.REASON}), Step.DISPATCH,
        ),
        Transition(
            Action.ACCEPT, "接单", frozenset({S.DISPATCHED}), S.ACCEPTED, HANDLERS,
            frozenset(), Step.HANDLE,
        ),
        # 中心消单: the handler reports the result; the centre may enter it for them (a hotline
        # call-back), which is why the centre is here too.
        Transition(
            Action.HANDLE, "消单", frozenset({S.ACCEPTED}), S.HANDLED, HANDLERS | {R.COMMANDER},
            frozenset({Field.NOTE}), Step.VERIFY,
        ),
        Transition(
            Action.VERIFY, "核单", frozenset({S.HANDLED}), S.VERIFIED, STATION,
            frozenset(), Step.PUBLISH,
        ),
        Transition(
            Action.REWORK, "返工", frozenset({S.HANDLED}), S.ACCEPTED, STATION,
            frozenset({Field.REASON}), Step.HANDLE,
        ),
        Transition(
            Action.PUBLISH, "晒单", frozenset({S.VERIFIED}), S.PUBLISHED, STATION,
        ),
        Transition(
            Action.REJECT, "不予受理", frozenset({S.REPORTED}), S.REJECTED, STATION,
            frozenset({Field.REASON}),
        ),
        Transition(
            Action.CANCEL, "撤销", _UNFINISHED, S.CANCELLED, STATION, frozenset({Field.REASON}),
        ),
        Transition(
            Action.WITHDRAW, "撤回", frozenset({S.REPORTED}), S.CANCELLED,
            frozenset({R.RESIDENT}), frozenset({Field.REASON}),
        ),
        Transition(
            Action.MERGE, "合并", _OPEN_BEFORE_WORK, S.MERGED, STATION,
            frozenset({Field.DUPLICATE_OF, Field.REASON}),
        ),
        # 基层吹哨: by the township's centre; once per case (a second department is the
        # centre's call, by cancelling and re-raising, and is left open).
        Transition(
            Action.ESCALATE, "吹哨", frozenset({S.REPORTED, S.DISPATCHED, S.ACCEPTED}),
            S.ESCALATED, frozenset({R.COMMANDER}), frozenset({Field.DEPARTMENT, Field.REASON}),
            Step.ACKNOWLEDGE, whistle=(Whistle.NONE, Whistle.BLOWN),
        ),
        # 部门报到: the department takes the case as its handler.
        Transition(
            Action.ACKNOWLEDGE, "报到", frozenset({S.ESCALATED}), S.ACCEPTED,
            frozenset({R.DEPARTMENT_STAFF}), frozenset(), Step.HANDLE,
        ),
        # 评哨: by the county centre, once the department has acted.
        Transition(
            Action.RATE_ESCALATION, "评哨", _ACTED, None, frozenset({R.COMMANDER}),
            frozenset({Field.RATING}), whistle=(Whistle.BLOWN, Whistle.RATED),
        ),
        Transition(
            Action.RATE, "评价", frozenset({S.VERIFIED, S.PUBLISHED}), None,
            frozenset({R.RESIDENT}), frozenset({Field.RATING}), rates=True,
        ),
    )
}
# fmt: on


class FlowError(Exception):
    """A refused action; `str()` is a sentence for the user (the API answers 409 or 400)."""


@dataclass(eq=False)
class IllegalTransition(FlowError):
    state: CaseState
    action: str
    allowed: tuple[Action, ...] = field(default=())

    def __str__(self):
        allowed = ", ".join(a.value for a in self.allowed) or "none, the case is closed"
        here = f"a case that is '{self.state.status.value}'{_whistle_note(self.state)}"
        if self.action not in Action.values:
            return f"there is no action '{self.action}'; for {here} allowed are: {allowed}"
        return f"cannot '{self.action}' {here}; allowed here: {allowed}"


@dataclass(eq=False)
class ActionNotPermitted(FlowError):
    """The action is legal here, but not for this role (the API answers 403)."""

    role: str
    action: str
    roles: frozenset

    def __str__(self):
        who = ", ".join(sorted(str(r) for r in self.roles))
        return f"a {self.role} may not '{self.action}' a case; only: {who}"


@dataclass(eq=False)
class MissingFields(FlowError):
    action: Action
    problems: dict  # field -> what is wrong

    def __str__(self):
        listed = "; ".join(f"{k}: {v}" for k, v in sorted(self.problems.items()))
        return f"'{self.action.value}' needs {listed}"


def _whistle_note(state: CaseState) -> str:
    parts = []
    if state.whistle != Whistle.NONE:
        parts.append(f"whistle {state.whistle.value}")
    if state.rated:
        parts.append("rated")
    return f" ({', '.join(parts)})" if parts else ""


def _as_state(state: CaseState | str) -> CaseState:
    return state if isinstance(state, CaseState) else CaseState(state)


def open_case(role: str) -> CaseState:
    """The state of a new case (群众点单); its dispatch limit starts now."""
    if role not in REPORTERS:
        raise ActionNotPermitted(role=role, action="report", roles=REPORTERS)
    return CaseState()


def legal_actions(state: CaseState | str) -> tuple[Action, ...]:
    """Every action the state allows, whoever takes it, in the table's order."""
    state = _as_state(state)
    return tuple(a for a, t in TRANSITIONS.items() if t.applies_to(state))


def allowed_actions(state: CaseState | str, role: str) -> tuple[Action, ...]:
    """The actions a role may take in a state: the case page's buttons."""
    return tuple(a for a in legal_actions(state) if role in TRANSITIONS[a].roles)


def next_state(state: CaseState | str, action: str) -> CaseState:
    """The state the action leads to, or IllegalTransition naming the state and what it allows."""
    state = _as_state(state)
    transition = TRANSITIONS.get(action) if action in Action.values else None
    if transition is None or not transition.applies_to(state):
        raise IllegalTransition(state=state, action=str(action), allowed=legal_actions(state))
    return transition.after(state)


def check_fields(action: Action, fields: Mapping) -> None:
    """Refuses an action missing what it needs: a blank reason, a rating outside 1-5."""
    action = Action(action)
    problems = {}
    for name in TRANSITIONS[action].required:
        value = fields.get(name)
        if name == Field.RATING:
            # bool is an int: True is no rating.
            if isinstance(value, bool) or not isinstance(value, int) or value not in RATINGS:
                problems[name] = "a whole number from 1 to 5"
        elif value is None or (isinstance(value, str) and not value.strip()):
            problems[name] = "required"
    if problems:
        raise MissingFields(action=action, problems=problems)


def take(
    state: CaseState | str, action: str, *, role: str, fields: Mapping | None = None
) -> tuple[CaseState, Transition]:
    """All the checks of one action, in the order a user needs them answered: is it possible
    here at all (409), may this role take it (403), is anything missing (400)."""
    new = next_state(state, action)
    transition = TRANSITIONS[Action(action)]
    if role not in transition.roles:
        raise ActionNotPermitted(role=role, action=transition.action, roles=transition.roles)
    check_fields(transition.action, fields or {})
    return new, transition


def reachable(start: CaseState | None = None) -> set[CaseState]:
    """Every state the flow can reach from `start` (a new case by default)."""
    seen = {start or CaseState()}
    todo = list(seen)
    while todo:
        state = todo.pop()
        for action in legal_actions(state):
            new = TRANSITIONS[action].after(state)
            if new not in seen:
                seen.add(new)
                todo.append(new)
    return seen


def all_states() -> Iterable[CaseState]:
    """Every combination, reachable or not (for exhaustive tests)."""
    for status in Status:
        for whistle in Whistle:
            for rated in (False, True):
                yield CaseState(status, whistle, rated)
