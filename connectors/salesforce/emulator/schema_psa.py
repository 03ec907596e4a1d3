"""The PSA (``pse__``) managed-package objects the Certinia profile adds: projects, milestones, assignments,
timecards.

Field names follow reference §5 (a PSA org's column dump and public Apex). Resources are Contacts, as in PSA.
Key prefixes are the emulator's own.
"""

from __future__ import annotations

from collections.abc import Collection
from types import MappingProxyType

from .fields import (
    auto_name,
    boolean,
    date,
    id_field,
    number,
    picklist,
    reference,
    system_fields,
    text,
)
from .model import ObjectDef, Record
from .schema import ObjectSpec

PROJECT_STAGES = ("Planned", "In Progress", "Completed", "Canceled", "On Hold")
PROJECT_TYPES = ("Customer Project", "Internal")
MILESTONE_STATUSES = ("Planned", "Open", "Approved", "Canceled")
ASSIGNMENT_STATUSES = ("Scheduled", "Tentative", "Closed")
TIMECARD_STATUSES = ("Saved", "Submitted", "Approved", "Rejected")
WEEKDAYS = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")
HOURS_FIELDS = tuple(f"pse__{day}_Hours__c" for day in WEEKDAYS)


def _total_hours(record: Record, _old: Record | None, _sent: Collection[str]) -> None:
    record["pse__Total_Hours__c"] = round(sum(record.get(name) or 0 for name in HOURS_FIELDS), 2)


PROJECT = ObjectSpec(
    ObjectDef(
        "pse__Proj__c",
        "Project",
        "Projects",
        "a1P",
        (
            id_field(),
            text("Name", 80, required=True, label="Project Name"),
            reference("pse__Account__c", "Account", "pse__Account__r"),
            reference("pse__Project_Manager__c", "Contact", "pse__Project_Manager__r"),
            reference("pse__Opportunity__c", "Opportunity", "pse__Opportunity__r"),
            date("pse__Start_Date__c"),
            date("pse__End_Date__c"),
            picklist("pse__Stage__c", PROJECT_STAGES, defaulted_on_create=True),
            picklist("pse__Project_Type__c", PROJECT_TYPES),
            boolean("pse__Is_Active__c"),
            boolean("pse__Is_Billable__c"),
            number("pse__Billings__c", "currency", 18, 2),
            number("pse__Planned_Hours__c", "double", 18, 2),
            text("pse__Project_ID__c", 40, unique=True, external_id=True),
            *system_fields(),
        ),
        custom=True,
    ),
    child_relationships=MappingProxyType(
        {
            "pse__Account__c": "pse__Projects__r",
            "pse__Project_Manager__c": "pse__Projects__r",
            "pse__Opportunity__c": "pse__Projects__r",
        }
    ),
    defaults=MappingProxyType({"pse__Stage__c": "Planned"}),
)

MILESTONE = ObjectSpec(
    ObjectDef(
        "pse__Milestone__c",
        "Milestone",
        "Milestones",
        "a1M",
        (
            id_field(),
            text("Name", 80, required=True, label="Milestone Name"),
            reference("pse__Project__c", "pse__Proj__c", "pse__Project__r", required=True, updateable=False),
            date("pse__Target_Date__c"),
            picklist("pse__Status__c", MILESTONE_STATUSES, defaulted_on_create=True),
            number("pse__Milestone_Amount__c", "currency", 18, 2),
            *system_fields(owner=False),
        ),
        custom=True,
    ),
    child_relationships=MappingProxyType({"pse__Project__c": "pse__Milestones__r"}),
    master_detail=frozenset({"pse__Project__c"}),
    defaults=MappingProxyType({"pse__Status__c": "Planned"}),
)

ASSIGNMENT = ObjectSpec(
    ObjectDef(
        "pse__Assignment__c",
        "Assignment",
        "Assignments",
        "a1A",
        (
            id_field(),
            text("Name", 80, required=True, label="Assignment Name"),
            reference("pse__Project__c", "pse__Proj__c", "pse__Project__r", required=True),
            reference("pse__Resource__c", "Contact", "pse__Resource__r", required=True),
            number("pse__Bill_Rate__c", "currency", 18, 2),
            date("pse__Start_Date__c"),
            date("pse__End_Date__c"),
            picklist("pse__Status__c", ASSIGNMENT_STATUSES, defaulted_on_create=True),
            number("pse__Planned_Hours__c", "double", 18, 2),
            *system_fields(),
        ),
        custom=True,
    ),
    child_relationships=MappingProxyType(
        {"pse__Project__c": "pse__Assignments__r", "pse__Resource__c": "pse__Assignments__r"}
    ),
    defaults=MappingProxyType({"pse__Status__c": "Scheduled"}),
)

TIMECARD = ObjectSpec(
    ObjectDef(
        "pse__Timecard_Header__c",
        "Timecard",
        "Timecards",
        "a1T",
        (
            id_field(),
            auto_name("Timecard ID"),
            reference("pse__Project__c", "pse__Proj__c", "pse__Project__r", required=True),
            reference("pse__Resource__c", "Contact", "pse__Resource__r", required=True),
            reference("pse__Assignment__c", "pse__Assignment__c", "pse__Assignment__r"),
            reference("pse__Milestone__c", "pse__Milestone__c", "pse__Milestone__r"),
            date("pse__Start_Date__c", required=True),
            date("pse__End_Date__c", required=True),
            picklist("pse__Status__c", TIMECARD_STATUSES, defaulted_on_create=True),
            boolean("pse__Billable__c"),
            *(number(name, "double", 4, 2) for name in HOURS_FIELDS),
            number("pse__Total_Hours__c", "double", 18, 2, calculated=True),
            number("pse__Total_Billable_Amount__c", "currency", 18, 2),
            number("pse__Total_Cost__c", "currency", 18, 2),
            *system_fields(),
        ),
        custom=True,
    ),
    child_relationships=MappingProxyType(
        {
            "pse__Project__c": "pse__Timecards__r",
            "pse__Resource__c": "pse__Timecards__r",
            "pse__Assignment__c": "pse__Timecards__r",
            "pse__Milestone__c": "pse__Timecards__r",
        }
    ),
    auto_number=MappingProxyType({"Name": "TC-{0:07d}"}),
    defaults=MappingProxyType({"pse__Status__c": "Saved"}),
    formulas=MappingProxyType({"pse__Total_Hours__c": " + ".join(HOURS_FIELDS)}),
    derive=_total_hours,
)

PSA = (PROJECT, MILESTONE, ASSIGNMENT, TIMECARD)
