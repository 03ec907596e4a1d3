"""The Accounting (``c2g__``) managed-package objects of the FinancialForce profile.

Object and field names follow reference §5 (public Apex and SOQL); the fields marked likely/UNCONFIRMED there
are included with the types the package plausibly uses. Key prefixes are the emulator's own (managed objects
have fixed prefixes per package, which public material does not list).

Transactions are written by the package when a document is posted, never directly: the emulator expresses that
as describe flags (not createable, updateable or deletable), so both transaction objects are read-only here.
"""

from __future__ import annotations

from collections.abc import Collection
from types import MappingProxyType

from .fields import (
    auto_name,
    date,
    id_field,
    number,
    picklist,
    reference,
    system_fields,
    text,
    textarea,
)
from .model import ObjectDef, Record
from .schema import ObjectSpec, Rollup

INVOICE_STATUSES = ("In Progress", "Complete", "Discarded")
PAYMENT_STATUSES = ("Unpaid", "Part Paid", "Paid")
TRANSACTION_TYPES = ("Invoice", "Journal", "Cash", "Credit Note")
GL_TYPES = ("Balance Sheet", "Profit and Loss", "Retained Earnings")


def _invoice_total(record: Record, _old: Record | None, _sent: Collection[str]) -> None:
    record["c2g__InvoiceTotal__c"] = round(
        (record.get("c2g__NetTotal__c") or 0) + (record.get("c2g__TaxTotal__c") or 0), 2
    )


def _net_value(record: Record, _old: Record | None, _sent: Collection[str]) -> None:
    quantity, price = record.get("c2g__Quantity__c"), record.get("c2g__UnitPrice__c")
    record["c2g__NetValue__c"] = None if quantity is None or price is None else round(quantity * price, 2)


COMPANY = ObjectSpec(
    ObjectDef(
        "c2g__codaCompany__c",
        "Company",
        "Companies",
        "a0C",
        (
            id_field(),
            text("Name", 80, required=True, label="Company Name"),
            picklist("c2g__CompanyType__c", ("VAT", "SUT", "Combined")),
            *system_fields(),
        ),
        custom=True,
    )
)

GL_ACCOUNT = ObjectSpec(
    ObjectDef(
        "c2g__codaGeneralLedgerAccount__c",
        "General Ledger Account",
        "General Ledger Accounts",
        "a0G",
        (
            id_field(),
            text("Name", 80, required=True, label="General Ledger Account Name"),
            text("c2g__ReportingCode__c", 40, required=True, unique=True, external_id=True),
            picklist("c2g__Type__c", GL_TYPES, required=True),
            *system_fields(),
        ),
        custom=True,
    )
)

INVOICE = ObjectSpec(
    ObjectDef(
        "c2g__codaInvoice__c",
        "Sales Invoice",
        "Sales Invoices",
        "a0I",
        (
            id_field(),
            auto_name("Invoice Number"),
            reference("c2g__Account__c", "Account", "c2g__Account__r", required=True),
            reference("c2g__OwnerCompany__c", "c2g__codaCompany__c", "c2g__OwnerCompany__r"),
            reference("c2g__Opportunity__c", "Opportunity", "c2g__Opportunity__r"),
            date("c2g__InvoiceDate__c"),
            date("c2g__DueDate__c"),
            text("c2g__CustomerReference__c", 100),
            textarea("c2g__InvoiceDescription__c", 255),
            picklist("c2g__InvoiceStatus__c", INVOICE_STATUSES, defaulted_on_create=True),
            picklist("c2g__PaymentStatus__c", PAYMENT_STATUSES, defaulted_on_create=True),
            reference("c2g__Transaction__c", "c2g__codaTransaction__c", "c2g__Transaction__r", read_only=True),
            number("c2g__NetTotal__c", "currency", 18, 2, calculated=True),
            number("c2g__TaxTotal__c", "currency", 18, 2, calculated=True),
            number("c2g__InvoiceTotal__c", "currency", 18, 2, calculated=True),
            *system_fields(),
        ),
        custom=True,
    ),
    child_relationships=MappingProxyType(
        {
            "c2g__Account__c": "c2g__Invoices__r",
            "c2g__OwnerCompany__c": "c2g__Invoices__r",
            "c2g__Opportunity__c": "c2g__Invoices__r",
            "c2g__Transaction__c": "c2g__Invoices__r",
        }
    ),
    auto_number=MappingProxyType({"Name": "SIN{0:06d}"}),
    defaults=MappingProxyType(
        {
            "c2g__InvoiceStatus__c": "In Progress",
            "c2g__PaymentStatus__c": "Unpaid",
            "c2g__NetTotal__c": 0,
            "c2g__TaxTotal__c": 0,
        }
    ),
    formulas=MappingProxyType(
        {
            "c2g__NetTotal__c": "SUM(c2g__InvoiceLineItems__r.c2g__NetValue__c)",
            "c2g__TaxTotal__c": "SUM(c2g__InvoiceLineItems__r.c2g__TaxValue1__c)",
            "c2g__InvoiceTotal__c": "c2g__NetTotal__c + c2g__TaxTotal__c",
        }
    ),
    derive=_invoice_total,
)

INVOICE_LINE = ObjectSpec(
    ObjectDef(
        "c2g__codaInvoiceLineItem__c",
        "Sales Invoice Line Item",
        "Sales Invoice Line Items",
        "a0J",
        (
            id_field(),
            auto_name("Line Number"),
            reference("c2g__Invoice__c", "c2g__codaInvoice__c", "c2g__Invoice__r", required=True, updateable=False),
            text("c2g__LineDescription__c", 255),
            number("c2g__Quantity__c", "double", 18, 6, required=True),
            number("c2g__UnitPrice__c", "currency", 18, 2, required=True),
            number("c2g__NetValue__c", "currency", 18, 2, calculated=True),
            number("c2g__TaxValue1__c", "currency", 18, 2),
            reference(
                "c2g__GeneralLedgerAccount__c", "c2g__codaGeneralLedgerAccount__c", "c2g__GeneralLedgerAccount__r"
            ),
            *system_fields(owner=False),
        ),
        custom=True,
    ),
    child_relationships=MappingProxyType(
        {"c2g__Invoice__c": "c2g__InvoiceLineItems__r", "c2g__GeneralLedgerAccount__c": "c2g__InvoiceLineItems__r"}
    ),
    master_detail=frozenset({"c2g__Invoice__c"}),
    auto_number=MappingProxyType({"Name": "SIL{0:07d}"}),
    formulas=MappingProxyType({"c2g__NetValue__c": "c2g__Quantity__c * c2g__UnitPrice__c"}),
    derive=_net_value,
    rollups=(
        Rollup("c2g__Invoice__c", "c2g__NetValue__c", "c2g__NetTotal__c"),
        Rollup("c2g__Invoice__c", "c2g__TaxValue1__c", "c2g__TaxTotal__c"),
    ),
)

TRANSACTION = ObjectSpec(
    ObjectDef(
        "c2g__codaTransaction__c",
        "Transaction",
        "Transactions",
        "a0T",
        (
            id_field(),
            auto_name("Transaction Number"),
            picklist("c2g__TransactionType__c", TRANSACTION_TYPES, read_only=True),
            text("c2g__DocumentNumber__c", 80, read_only=True),
            date("c2g__TransactionDate__c", read_only=True),
            reference("c2g__OwnerCompany__c", "c2g__codaCompany__c", "c2g__OwnerCompany__r", read_only=True),
            reference("c2g__Account__c", "Account", "c2g__Account__r", read_only=True),
            number("c2g__DocumentTotal__c", "currency", 18, 2, read_only=True),
            number("c2g__DocumentOutstandingTotal__c", "currency", 18, 2, read_only=True),
            *system_fields(),
        ),
        custom=True,
        createable=False,
        updateable=False,
        deletable=False,
    ),
    child_relationships=MappingProxyType(
        {"c2g__OwnerCompany__c": "c2g__Transactions__r", "c2g__Account__c": "c2g__Transactions__r"}
    ),
    auto_number=MappingProxyType({"Name": "TRN{0:06d}"}),
)

TRANSACTION_LINE = ObjectSpec(
    ObjectDef(
        "c2g__codaTransactionLineItem__c",
        "Transaction Line Item",
        "Transaction Line Items",
        "a0U",
        (
            id_field(),
            auto_name("Line Number"),
            reference(
                "c2g__Transaction__c", "c2g__codaTransaction__c", "c2g__Transaction__r", required=True, read_only=True
            ),
            picklist("c2g__LineType__c", ("Account", "Analysis", "Tax"), read_only=True),
            reference(
                "c2g__GeneralLedgerAccount__c",
                "c2g__codaGeneralLedgerAccount__c",
                "c2g__GeneralLedgerAccount__r",
                read_only=True,
            ),
            reference("c2g__Account__c", "Account", "c2g__Account__r", read_only=True),
            number("c2g__HomeValue__c", "currency", 18, 2, read_only=True),
            number("c2g__DocumentValue__c", "currency", 18, 2, read_only=True),
            *system_fields(owner=False),
        ),
        custom=True,
        createable=False,
        updateable=False,
        deletable=False,
    ),
    child_relationships=MappingProxyType(
        {
            "c2g__Transaction__c": "c2g__TransactionLineItems__r",
            "c2g__GeneralLedgerAccount__c": "c2g__TransactionLineItems__r",
            "c2g__Account__c": "c2g__TransactionLineItems__r",
        }
    ),
    master_detail=frozenset({"c2g__Transaction__c"}),
    auto_number=MappingProxyType({"Name": "TRL{0:07d}"}),
)

ACCOUNTING = (COMPANY, GL_ACCOUNT, INVOICE, INVOICE_LINE, TRANSACTION, TRANSACTION_LINE)
