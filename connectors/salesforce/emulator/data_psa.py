"""Generators for the PSA objects: projects, milestones, assignments, weekly timecards.

A timecard books a resource's hours against one of that resource's assignments, so its project and resource
always agree with the assignment's; both are recomputed from the assignment's index.
"""

from __future__ import annotations

from typing import NamedTuple

from federation.emulation.pools import COMPANY_CORES, COMPANY_PREFIXES, HOSTILE_TEXT

from .datagen import GenContext, date_wire, u16
from .model import Record
from .schema_psa import ASSIGNMENT_STATUSES, HOURS_FIELDS, MILESTONE_STATUSES, PROJECT_STAGES, TIMECARD_STATUSES

PROJECT = "pse__Proj__c"
ASSIGNMENT = "pse__Assignment__c"
_KINDS = ("Implementation", "Phase 2 Rollout", "Health Check", "Data Migration", "Managed Services", "Upgrade")
_MILESTONES = ("Kick-off", "Design sign-off", "Build complete", "UAT", "Go-live", "Hypercare")
_WEEK = 7 * 86400
#: 2016-01-03, a Sunday: PSA weeks start on Sunday by default.
_FIRST_SUNDAY = 1451779200


def project(ctx: GenContext, i: int) -> Record:
    """Project `i` for an account, run by a contact, sometimes sold through an opportunity."""
    d = ctx.digest(PROJECT, i)
    start = ctx.created_at(PROJECT, i, d)
    stage = PROJECT_STAGES[d[0] % len(PROJECT_STAGES)]
    customer = d[1] < 220
    record: Record = {
        "Id": ctx.id_of(PROJECT, i),
        "Name": HOSTILE_TEXT[d[2] % len(HOSTILE_TEXT)]
        if d[22] < 8
        else f"{COMPANY_PREFIXES[d[2] % 20]} {COMPANY_CORES[d[3] % 20]} - {_KINDS[d[4] % len(_KINDS)]}",
        "pse__Account__c": ctx.pick_id("Account", d, 5) if customer else None,
        "pse__Project_Manager__c": ctx.pick_id("Contact", d, 8),
        "pse__Opportunity__c": ctx.pick_id("Opportunity", d, 11) if customer and d[14] < 128 else None,
        "pse__Start_Date__c": date_wire(start),
        "pse__End_Date__c": date_wire(start + (60 + u16(d, 15) % 340) * 86400),
        "pse__Stage__c": stage,
        "pse__Project_Type__c": "Customer Project" if customer else "Internal",
        "pse__Is_Active__c": stage in ("Planned", "In Progress"),
        "pse__Is_Billable__c": customer,
        "pse__Billings__c": float(u16(d, 17) % 5000 * 100) if customer else 0.0,
        "pse__Planned_Hours__c": float(u16(d, 19) % 2000 + 40),
        "pse__Project_ID__c": f"PR-{i + 1:06d}",
        "OwnerId": ctx.user_id(d[21] % ctx.count("User")),
    }
    ctx.audit(record, start, d, ctx.count("User"))
    return record


def milestone(ctx: GenContext, m: int) -> Record:
    """Milestone `m` of some project, with a target date and an amount billed on approval."""
    d = ctx.digest("pse__Milestone__c", m)
    created = ctx.created_at("pse__Milestone__c", m, d)
    record: Record = {
        "Id": ctx.id_of("pse__Milestone__c", m),
        "Name": _MILESTONES[d[0] % len(_MILESTONES)],
        "pse__Project__c": ctx.pick_id(PROJECT, d, 1),
        "pse__Target_Date__c": date_wire(created + u16(d, 4) % 200 * 86400),
        "pse__Status__c": MILESTONE_STATUSES[d[6] % len(MILESTONE_STATUSES)],
        "pse__Milestone_Amount__c": _nullable_amount(d, 7),
    }
    ctx.audit(record, created, d, ctx.count("User"))
    return record


def _nullable_amount(d: bytes, at: int) -> float | None:
    return None if d[at] < 40 else float(u16(d, at + 1) % 1000 * 50)


class _Assignment(NamedTuple):
    digest: bytes
    project: str
    resource: str
    bill_rate: float


def _assignment(ctx: GenContext, a: int) -> _Assignment:
    d = ctx.digest(ASSIGNMENT, a)
    return _Assignment(d, ctx.pick_id(PROJECT, d, 0), ctx.pick_id("Contact", d, 3), float(100 + d[6] % 20 * 10))


def assignment(ctx: GenContext, a: int) -> Record:
    """Assignment `a` of a resource (a Contact) to a project at a bill rate."""
    asg = _assignment(ctx, a)
    d = asg.digest
    start = ctx.created_at(ASSIGNMENT, a, d)
    record: Record = {
        "Id": ctx.id_of(ASSIGNMENT, a),
        "Name": f"ASG-{a + 1:06d}",
        "pse__Project__c": asg.project,
        "pse__Resource__c": asg.resource,
        "pse__Bill_Rate__c": asg.bill_rate,
        "pse__Start_Date__c": date_wire(start),
        "pse__End_Date__c": date_wire(start + (14 + d[7] % 180) * 86400),
        "pse__Status__c": ASSIGNMENT_STATUSES[d[8] % len(ASSIGNMENT_STATUSES)],
        "pse__Planned_Hours__c": float(d[9] % 160 + 8),
        "OwnerId": ctx.user_id(d[10] % ctx.count("User")),
    }
    ctx.audit(record, start, d, ctx.count("User"))
    return record


def timecard(ctx: GenContext, t: int) -> Record:
    """Timecard `t`: a week of one assignment's hours (quarter hours on weekdays, rarely at weekends)."""
    d = ctx.digest("pse__Timecard_Header__c", t)
    a = (u16(d, 0) << 8 | d[2]) % ctx.count(ASSIGNMENT)
    asg = _assignment(ctx, a)
    created = ctx.created_at("pse__Timecard_Header__c", t, d)
    week_start = created - (created - _FIRST_SUNDAY) % _WEEK
    billable = d[3] < 200
    record: Record = {
        "Id": ctx.id_of("pse__Timecard_Header__c", t),
        "Name": f"TC-{t + 1:07d}",
        "pse__Project__c": asg.project,
        "pse__Resource__c": asg.resource,
        "pse__Assignment__c": ctx.id_of(ASSIGNMENT, a),
        "pse__Milestone__c": None,
        "pse__Start_Date__c": date_wire(week_start),
        "pse__End_Date__c": date_wire(week_start + 6 * 86400),
        "pse__Status__c": TIMECARD_STATUSES[d[4] % len(TIMECARD_STATUSES)],
        "pse__Billable__c": billable,
        "OwnerId": ctx.user_id(d[5] % ctx.count("User")),
    }
    total = 0.0
    for day, name in enumerate(HOURS_FIELDS):
        weekend = day in (0, 6)
        hours = 0.0 if weekend and d[6 + day] < 240 else d[13 + day] % 41 / 4
        record[name] = hours
        total += hours
    record["pse__Total_Billable_Amount__c"] = round(total * asg.bill_rate, 2) if billable else 0.0
    record["pse__Total_Cost__c"] = round(total * 55.0, 2)
    ctx.audit(record, created, d, ctx.count("User"))
    return record
