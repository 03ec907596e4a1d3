"""The Exact Online entities duckfed knows: their REST paths, properties and Edm types, as Exact documents them.

Exact publishes one page per endpoint (`start.exactonline.nl/docs/HlpRestAPIResourcesDetails.aspx?name=…`,
e.g. `CRMAccounts`) listing each property's name, `Edm` type, whether it can be filtered on and whether a POST
must give it. The API has no per-division schema call worth its quota, so the documented subset below is the
metadata: both the connector (columns, pushdown) and the emulator (what it serves and validates) read it. Table
and column names are the API's own, verbatim, as the vendors' SQL connectors present them (`GLAccounts`,
`IsCompetitor`).

Deletions: `sync/Deleted` lists deleted records of the entity types Exact numbers (`deleted_type`, from the
SyncDeleted page's EntityType property as picqer's `SyncDeleted.php` copies it: 1 TransactionLines, 2 Accounts,
5 Contacts, 6 Documents, 7 GLAccounts, 9 Items, 13 SalesInvoices, among others); `connectors/exactonline/deleted.py`.

Bulk endpoints (`/bulk/{Service}/{Entity}`, 1,000 records a page, `$select` required) exist for the entities
picqer/exact-php-client has `Bulk*` classes for (`BulkAccount`, `BulkContact`, `BulkDocument`, `BulkGLAccount`,
`BulkItem`, `BulkSalesInvoice`, `BulkSalesInvoiceLine`, `BulkTransactionLine`); the path of
`bulk/Financial/TransactionLines` is read in that client, the others follow its pattern (UNCONFIRMED).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

GUID, STRING, BOOLEAN, DOUBLE, DATETIME = "Edm.Guid", "Edm.String", "Edm.Boolean", "Edm.Double", "Edm.DateTime"
INT16, INT32, INT64, BYTE = "Edm.Int16", "Edm.Int32", "Edm.Int64", "Edm.Byte"


@dataclass(frozen=True)
class Property:
    """One documented property: its Edm type and what the API lets a client do with it."""

    name: str
    edm: str
    #: The docs' "Filter" column: the API accepts it in `$filter`.
    filterable: bool = True
    #: Set by the server (keys, audit fields): a POST or PUT may not give it.
    read_only: bool = False
    #: The docs' "Mandatory" column: a POST must give it.
    mandatory: bool = False
    #: The endpoint refuses a listing without a filter on it ("mandatory filtering", API limits page).
    required_filter: bool = False


@dataclass(frozen=True)
class Entity:
    """One REST endpoint: `/api/v1/{division}/{service}/{name}`."""

    name: str
    service: str
    properties: tuple[Property, ...]
    key: str = "ID"
    #: The bulk endpoint's path after `/api/v1/{division}/`, when the entity has one.
    bulk: str | None = None
    writable: bool = False
    #: The `__metadata.type` of its records.
    model: str = ""
    #: Its EntityType in the `sync/Deleted` feed, when the feed lists its deletions.
    deleted_type: int | None = None

    @property
    def path(self) -> str:
        return f"{self.service}/{self.name}"

    def property(self, name: str) -> Property | None:
        return self._by_name.get(name)

    @cached_property
    def _by_name(self) -> dict[str, Property]:
        return {p.name: p for p in self.properties}


def _p(spec: str) -> Property:
    """A property from `Name Type [ro] [mandatory] [nofilter] [required-filter]` (the docs' columns)."""
    name, edm, *flags = spec.split()
    return Property(
        name,
        edm if edm.startswith("Edm.") else f"Edm.{edm}",
        filterable="nofilter" not in flags,
        read_only="ro" in flags,
        mandatory="mandatory" in flags,
        required_filter="required-filter" in flags,
    )


def _audit(*specs: str) -> tuple[Property, ...]:
    """The properties, then the audit properties every division-scoped entity carries."""
    return tuple(_p(s) for s in (*specs, "Division Int32 ro", "Created DateTime ro", "Modified DateTime ro"))


ENTITIES: tuple[Entity, ...] = (
    Entity(
        "Accounts",
        "crm",
        _audit(
            "ID Guid ro",
            "Code String",
            "Name String mandatory",
            "Status String",
            "Type String nofilter",
            "IsCompetitor Boolean",
            "IsSupplier Boolean",
            "IsSales Boolean",
            "IsPurchase Boolean",
            "IsReseller Boolean",
            "IsAccountant Byte",
            "Blocked Boolean",
            "CreditLinePurchase Double",
            "CreditLineSales Double",
            "DiscountSales Double",
            "Email String",
            "Phone String",
            "Website String",
            "AddressLine1 String",
            "City String",
            "Postcode String",
            "Country String",
            "VATNumber String",
            "ChamberOfCommerce String",
            "SalesCurrency String",
            "MainContact Guid",
            "Parent Guid",
            "SearchCode String",
            "Remarks String nofilter",
            "StartDate DateTime",
            "Creator Guid ro",
            "CreatorFullName String ro nofilter",
        ),
        bulk="bulk/CRM/Accounts",
        writable=True,
        model="Exact.Web.Api.Models.Account",
        deleted_type=2,
    ),
    Entity(
        "Contacts",
        "crm",
        _audit(
            "ID Guid ro",
            "Account Guid mandatory",
            "AccountName String ro",
            "FirstName String",
            "LastName String mandatory",
            "FullName String ro",
            "Email String",
            "Phone String",
            "JobTitleDescription String",
            "Gender String",
            "IsMainContact Boolean",
            "BirthDate DateTime",
        ),
        bulk="bulk/CRM/Contacts",
        writable=True,
        model="Exact.Web.Api.Models.Contact",
        deleted_type=5,
    ),
    Entity(
        "Items",
        "logistics",
        _audit(
            "ID Guid ro",
            "Code String mandatory",
            "Description String mandatory",
            "IsSalesItem Boolean",
            "IsPurchaseItem Boolean",
            "IsStockItem Boolean",
            "Unit String",
            "CostPriceStandard Double",
            "StandardSalesPrice Double ro",
            "Barcode String",
        ),
        bulk="bulk/Logistics/Items",
        writable=True,
        model="Exact.Web.Api.Models.Logistics.Item",
        deleted_type=9,
    ),
    Entity(
        "GLAccounts",
        "financial",
        _audit(
            "ID Guid ro",
            "Code String mandatory",
            "Description String mandatory",
            "Type Int32",
            "BalanceSide String",
            "BalanceType String",
        ),
        bulk="bulk/Financial/GLAccounts",
        writable=True,
        model="Exact.Web.Api.Models.GLAccount",
        deleted_type=7,
    ),
    Entity(
        "SalesInvoices",
        "salesinvoice",
        _audit(
            "InvoiceID Guid ro",
            "InvoiceNumber Int32 ro",
            "InvoiceTo Guid",
            "OrderedBy Guid mandatory",
            "InvoiceDate DateTime",
            "Currency String",
            "AmountDC Double ro",
            "VATAmountDC Double ro",
            "Status Int16 ro",
            "Description String",
            "Journal String mandatory",
        ),
        key="InvoiceID",
        bulk="bulk/SalesInvoice/SalesInvoices",
        writable=True,
        model="Exact.Web.Api.Models.SalesInvoice",
        deleted_type=13,
    ),
    Entity(
        "SalesInvoiceLines",
        "salesinvoice",
        _audit(
            "ID Guid ro",
            "InvoiceID Guid mandatory",
            "LineNumber Int32",
            "Item Guid mandatory",
            "Description String",
            "Quantity Double",
            "UnitPrice Double",
            "AmountDC Double ro",
            "GLAccount Guid",
        ),
        bulk="bulk/SalesInvoice/SalesInvoiceLines",
        model="Exact.Web.Api.Models.SalesInvoiceLine",
    ),
    Entity(
        "PurchaseEntries",
        "purchaseentry",
        _audit(
            "EntryID Guid ro",
            "EntryNumber Int32 ro",
            "Supplier Guid mandatory",
            "EntryDate DateTime",
            "Journal String mandatory",
            "Currency String",
            "AmountDC Double ro",
            "VATAmountDC Double ro",
            "Description String",
            "YourRef String",
        ),
        key="EntryID",
        writable=True,
        model="Exact.Web.Api.Models.PurchaseEntry",
    ),
    Entity(
        "TransactionLines",
        "financialtransaction",
        _audit(
            "ID Guid ro",
            "Account Guid",
            "AccountCode String",
            "AmountDC Double",
            "Date DateTime",
            "Description String",
            "EntryNumber Int32",
            "FinancialPeriod Int16",
            # Mandatory filtering applies to "some single and bulk endpoints where sync APIs exist" (API limits);
            # which property Exact demands for TransactionLines is UNCONFIRMED: the financial year is assumed.
            "FinancialYear Int16 required-filter",
            "GLAccount Guid",
            "GLAccountCode String",
            "JournalCode String",
            "Type Int32",
        ),
        bulk="bulk/Financial/TransactionLines",
        model="Exact.Web.Api.Models.Financial.TransactionLine",
        deleted_type=1,
    ),
    Entity(
        "Journals",
        "financial",
        _audit(
            "ID Guid ro",
            "Code String mandatory",
            "Description String mandatory",
            "Type Int32 mandatory",
            "GLAccount Guid",
        ),
        writable=True,
        model="Exact.Web.Api.Models.Financial.Journal",
    ),
    Entity(
        "Divisions",
        "system",
        tuple(
            _p(s)
            for s in (
                "Code Int32 ro",
                "Description String ro",
                "HID Int64 ro",
                "Country String ro",
                "Currency String ro",
                "Current Boolean ro",
                "Customer Guid ro",
                "Started DateTime ro",
                "Created DateTime ro",
                "Modified DateTime ro",
            )
        ),
        key="Code",
        model="Exact.Web.Api.System.Division",
    ),
    Entity(
        "Documents",
        "documents",
        _audit(
            "ID Guid ro",
            "Subject String mandatory",
            "Type Int32 mandatory",
            "Account Guid",
            "DocumentDate DateTime",
            "Body String nofilter",
        ),
        bulk="bulk/Documents/Documents",
        writable=True,
        model="Exact.Web.Api.Models.Documents.Document",
        deleted_type=6,
    ),
    Entity(
        "Opportunities",
        "crm",
        _audit(
            "ID Guid ro",
            "Name String mandatory",
            "Account Guid mandatory",
            "AmountDC Double",
            "Probability Double",
            "CloseDate DateTime mandatory",
            "OpportunityStatus Int32",
        ),
        writable=True,
        model="Exact.Web.Api.Models.CRM.Opportunity",
    ),
)

BY_NAME: dict[str, Entity] = {e.name: e for e in ENTITIES}
#: Entities by their path after the division, matched case-insensitively (the samples write `CRM` and `crm`).
BY_PATH: dict[str, Entity] = {e.path.lower(): e for e in ENTITIES}
BY_BULK_PATH: dict[str, Entity] = {e.bulk.lower(): e for e in ENTITIES if e.bulk}
