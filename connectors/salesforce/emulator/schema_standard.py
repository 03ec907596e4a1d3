"""The standard objects both profiles serve: User, Account, Contact, Opportunity, and a non-queryable event.

Field names, types, sizes and picklist values follow the platform's standard objects (a subset of their fields;
compound address fields are left out). A few custom fields cover the types the standard ones lack: a time
(`Contact.Preferred_Call_Time__c`), a multi-select picklist, a checkbox and a text formula.
"""

from __future__ import annotations

from collections.abc import Collection
from types import MappingProxyType

from .fields import (
    boolean,
    date,
    formula_text,
    id_field,
    integer,
    multipicklist,
    number,
    picklist,
    reference,
    system_fields,
    text,
    textarea,
    time_,
    typed_text,
)
from .model import ObjectDef, Record
from .schema import ObjectSpec

INDUSTRIES = (
    "Agriculture",
    "Apparel",
    "Banking",
    "Biotechnology",
    "Chemicals",
    "Communications",
    "Construction",
    "Consulting",
    "Education",
    "Electronics",
    "Energy",
    "Engineering",
    "Entertainment",
    "Environmental",
    "Finance",
    "Food & Beverage",
    "Government",
    "Healthcare",
    "Hospitality",
    "Insurance",
    "Machinery",
    "Manufacturing",
    "Media",
    "Not For Profit",
    "Recreation",
    "Retail",
    "Shipping",
    "Technology",
    "Telecommunications",
    "Transportation",
    "Utilities",
    "Other",
)
ACCOUNT_TYPES = (
    "Prospect",
    "Customer - Direct",
    "Customer - Channel",
    "Channel Partner / Reseller",
    "Installation Partner",
    "Technology Partner",
    "Other",
)
RATINGS = ("Hot", "Warm", "Cold")
OWNERSHIP = ("Public", "Private", "Subsidiary", "Other")
LEAD_SOURCES = ("Web", "Phone Inquiry", "Partner Referral", "Purchased List", "Other")
SALUTATIONS = ("Mr.", "Ms.", "Mrs.", "Dr.", "Prof.")
INTERESTS = ("Analytics", "Cloud", "Security", "Payments", "Training")
OPPORTUNITY_TYPES = (
    "Existing Customer - Upgrade",
    "Existing Customer - Replacement",
    "Existing Customer - Downgrade",
    "New Customer",
)
#: Stage → (default probability, closed, won), as the platform's default sales process defines them.
STAGES: dict[str, tuple[int, bool, bool]] = {
    "Prospecting": (10, False, False),
    "Qualification": (10, False, False),
    "Needs Analysis": (20, False, False),
    "Value Proposition": (50, False, False),
    "Id. Decision Makers": (60, False, False),
    "Perception Analysis": (70, False, False),
    "Proposal/Price Quote": (75, False, False),
    "Negotiation/Review": (90, False, False),
    "Closed Won": (100, True, True),
    "Closed Lost": (0, True, False),
}
TIME_ZONES = ("America/Los_Angeles", "America/New_York", "Europe/London", "Europe/Paris", "Asia/Tokyo")


def _full_name(record: Record, _old: Record | None, _sent: Collection[str]) -> None:
    record["Name"] = " ".join(part for part in (record.get("FirstName"), record.get("LastName")) if part) or None


def _account_tier(record: Record, _old: Record | None, _sent: Collection[str]) -> None:
    revenue = record.get("AnnualRevenue")
    if revenue is None:
        record["Account_Tier__c"] = None
    elif revenue >= 1_000_000_000:
        record["Account_Tier__c"] = "Enterprise"
    elif revenue >= 50_000_000:
        record["Account_Tier__c"] = "Mid-Market"
    else:
        record["Account_Tier__c"] = "SMB"


def _opportunity(record: Record, old: Record | None, sent: Collection[str]) -> None:
    stage = STAGES.get(record.get("StageName") or "")
    stage_changed = old is None or old.get("StageName") != record.get("StageName")
    if stage is not None and stage_changed and "Probability" not in sent:
        record["Probability"] = stage[0]
    record["IsClosed"] = stage[1] if stage else False
    record["IsWon"] = stage[2] if stage else False
    amount, probability = record.get("Amount"), record.get("Probability")
    record["ExpectedRevenue"] = None if amount is None or probability is None else round(amount * probability / 100, 2)


USER = ObjectSpec(
    ObjectDef(
        "User",
        "User",
        "Users",
        "005",
        (
            id_field(),
            text("Username", 80, required=True, unique=True),
            text("LastName", 80, required=True),
            text("FirstName", 40),
            text("Name", 121, read_only=True, label="Full Name"),
            text("Alias", 8, required=True),
            typed_text("Email", "email", 128, required=True),
            boolean("IsActive", label="Active"),
            text("Title", 80),
            text("Department", 80),
            typed_text("Phone", "phone", 40),
            picklist("TimeZoneSidKey", TIME_ZONES, required=True, label="Time Zone"),
            reference("ManagerId", "User", "Manager"),
            *system_fields(owner=False),
        ),
        createable=False,
        deletable=False,
    ),
    child_relationships=MappingProxyType({"ManagerId": "ManagedUsers"}),
    defaults=MappingProxyType({"IsActive": True}),
    derive=_full_name,
)

ACCOUNT = ObjectSpec(
    ObjectDef(
        "Account",
        "Account",
        "Accounts",
        "001",
        (
            id_field(),
            text("Name", 255, required=True, label="Account Name"),
            picklist("Type", ACCOUNT_TYPES, label="Account Type"),
            reference("ParentId", "Account", "Parent", label="Parent Account ID"),
            textarea("BillingStreet", 255),
            text("BillingCity", 40),
            text("BillingState", 80),
            text("BillingPostalCode", 20),
            text("BillingCountry", 80),
            textarea("ShippingStreet", 255),
            text("ShippingCity", 40),
            text("ShippingCountry", 80),
            typed_text(
                "Phone",
                "phone",
                40,
            ),
            typed_text("Fax", "phone", 40),
            text("AccountNumber", 40),
            typed_text("Website", "url", 255),
            picklist("Industry", INDUSTRIES),
            number("AnnualRevenue", "currency", 18, 0),
            integer("NumberOfEmployees", 8),
            picklist("Ownership", OWNERSHIP),
            text("TickerSymbol", 20),
            textarea(
                "Description",
                32000,
            ),
            picklist("Rating", RATINGS),
            text("Site", 80),
            picklist("AccountSource", LEAD_SOURCES),
            date("LastActivityDate", read_only=True),
            boolean("Key_Account__c"),
            date("Customer_Since__c"),
            formula_text("Account_Tier__c"),
            *system_fields(),
        ),
    ),
    child_relationships=MappingProxyType({"ParentId": "ChildAccounts"}),
    formulas=MappingProxyType(
        {
            "Account_Tier__c": "IF(ISBLANK(AnnualRevenue), NULL, IF(AnnualRevenue >= 1000000000, 'Enterprise', "
            "IF(AnnualRevenue >= 50000000, 'Mid-Market', 'SMB')))"
        }
    ),
    derive=_account_tier,
)

CONTACT = ObjectSpec(
    ObjectDef(
        "Contact",
        "Contact",
        "Contacts",
        "003",
        (
            id_field(),
            reference("AccountId", "Account", "Account", label="Account ID"),
            text("LastName", 80, required=True),
            text("FirstName", 40),
            picklist("Salutation", SALUTATIONS),
            text("Name", 121, read_only=True, label="Full Name"),
            text("Title", 128),
            text("Department", 80),
            typed_text("Email", "email", 80),
            typed_text(
                "Phone",
                "phone",
                40,
            ),
            typed_text("MobilePhone", "phone", 40),
            date("Birthdate"),
            textarea("MailingStreet", 255),
            text("MailingCity", 40),
            text("MailingState", 80),
            text("MailingPostalCode", 20),
            text("MailingCountry", 80),
            picklist("LeadSource", LEAD_SOURCES),
            boolean("HasOptedOutOfEmail", label="Email Opt Out"),
            textarea("Description", 32000),
            time_("Preferred_Call_Time__c"),
            multipicklist("Interests__c", INTERESTS),
            *system_fields(),
        ),
    ),
    child_relationships=MappingProxyType({"AccountId": "Contacts"}),
    derive=_full_name,
)

OPPORTUNITY = ObjectSpec(
    ObjectDef(
        "Opportunity",
        "Opportunity",
        "Opportunities",
        "006",
        (
            id_field(),
            reference("AccountId", "Account", "Account", label="Account ID"),
            text("Name", 120, required=True),
            textarea("Description", 32000),
            picklist("StageName", tuple(STAGES), required=True, label="Stage"),
            number("Amount", "currency", 16, 2),
            number("Probability", "percent", 3, 0, label="Probability (%)"),
            number("ExpectedRevenue", "currency", 16, 2, calculated=True),
            number("TotalOpportunityQuantity", "double", 16, 2, label="Quantity"),
            date("CloseDate", required=True),
            picklist("Type", OPPORTUNITY_TYPES, label="Opportunity Type"),
            text("NextStep", 255),
            picklist("LeadSource", LEAD_SOURCES),
            boolean("IsClosed", read_only=True, label="Closed"),
            boolean("IsWon", read_only=True, label="Won"),
            *system_fields(),
        ),
    ),
    child_relationships=MappingProxyType({"AccountId": "Opportunities"}),
    formulas=MappingProxyType({"ExpectedRevenue": "Amount * Probability / 100"}),
    derive=_opportunity,
)

#: Change-data-capture events are listed by describe but can't be queried; it exercises the `queryable` filter.
ACCOUNT_CHANGE_EVENT = ObjectSpec(
    ObjectDef(
        "AccountChangeEvent",
        "Account Change Event",
        "Account Change Events",
        "1CE",
        (id_field(), text("Name", 255, read_only=True), reference("AccountId", "Account", "Account", read_only=True)),
        queryable=False,
        createable=False,
        updateable=False,
        deletable=False,
    )
)

STANDARD = (USER, ACCOUNT, CONTACT, OPPORTUNITY, ACCOUNT_CHANGE_EVENT)
