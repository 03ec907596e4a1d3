"""Generators for the Accounting objects: companies, GL accounts, sales invoices and their lines, transactions.

Invoices, lines and transactions agree with each other as posted accounting data does: invoice ``i`` owns lines
``2i`` and ``2i+1`` and its totals are their sums; a complete invoice is posted as transaction ``i`` (type
Invoice, same document number and total), other transactions are journals; each transaction has two lines that
balance. Every cross-object value is recomputed from the other record's index, never read from storage.
"""

from __future__ import annotations

from typing import NamedTuple

from federation.emulation.pools import PRODUCTS

from .datagen import GenContext, date_wire, u16
from .model import Record
from .schema_accounting import INVOICE_STATUSES

INVOICE = "c2g__codaInvoice__c"
LINE = "c2g__codaInvoiceLineItem__c"
TRANSACTION = "c2g__codaTransaction__c"
GL = "c2g__codaGeneralLedgerAccount__c"
COMPANY = "c2g__codaCompany__c"
LINES_PER_INVOICE = 2
COMPANIES = (
    ("Meridian Holdings UK Ltd", "VAT"),
    ("Meridian US Inc.", "SUT"),
    ("Meridian Deutschland GmbH", "VAT"),
    ("Meridian France S.A.S.", "VAT"),
    ("Meridian Japan K.K.", "Combined"),
)
#: (reporting code, name, type); lines post to the receivables control and the revenue accounts.
GL_ACCOUNTS = (
    ("1000", "Cash at Bank", "Balance Sheet"),
    ("1100", "Accounts Receivable Control", "Balance Sheet"),
    ("1200", "Inventory", "Balance Sheet"),
    ("1500", "Fixed Assets", "Balance Sheet"),
    ("2000", "Accounts Payable Control", "Balance Sheet"),
    ("2100", "Sales Tax Payable", "Balance Sheet"),
    ("2200", "Accrued Liabilities", "Balance Sheet"),
    ("3000", "Share Capital", "Balance Sheet"),
    ("3100", "Retained Earnings", "Retained Earnings"),
    ("4000", "Sales Revenue - Products", "Profit and Loss"),
    ("4100", "Sales Revenue - Services", "Profit and Loss"),
    ("4200", "Sales Revenue - Subscriptions", "Profit and Loss"),
    ("4900", "Other Income", "Profit and Loss"),
    ("5000", "Cost of Sales", "Profit and Loss"),
    ("6000", "Salaries & Wages", "Profit and Loss"),
    ("6100", "Rent & Rates", "Profit and Loss"),
    ("6200", "Travel & Entertainment", "Profit and Loss"),
    ("6300", "IT & Software", "Profit and Loss"),
    ("6400", "Marketing", "Profit and Loss"),
    ("7000", "Bank Charges", "Profit and Loss"),
)
_RECEIVABLES, _REVENUE = 1, (9, 10, 11)


def company(ctx: GenContext, i: int) -> Record:
    """Accounting company `i` of the fixed list."""
    d = ctx.digest(COMPANY, i)
    name, kind = COMPANIES[i % len(COMPANIES)]
    record: Record = {"Id": ctx.id_of(COMPANY, i), "Name": name, "c2g__CompanyType__c": kind}
    record["OwnerId"] = ctx.user_id(0)
    ctx.audit(record, ctx.created_at(COMPANY, i, d), d, users=1)
    return record


def gl_account(ctx: GenContext, i: int) -> Record:
    """General ledger account `i` of the fixed chart of accounts."""
    d = ctx.digest(GL, i)
    code, name, kind = GL_ACCOUNTS[i % len(GL_ACCOUNTS)]
    record: Record = {
        "Id": ctx.id_of(GL, i),
        "Name": f"{code} - {name}",
        "c2g__ReportingCode__c": code,
        "c2g__Type__c": kind,
        "OwnerId": ctx.user_id(0),
    }
    ctx.audit(record, ctx.created_at(GL, i, d), d, users=1)
    return record


class _Line(NamedTuple):
    quantity: float
    unit_price: float
    tax: float

    @property
    def net(self) -> float:
        return round(self.quantity * self.unit_price, 2)


def _line(ctx: GenContext, j: int) -> tuple[bytes, _Line]:
    d = ctx.digest(LINE, j)
    quantity = float(d[0] % 20 + 1)
    price = (u16(d, 1) % 4000 + 10) + d[3] % 100 / 100
    return d, _Line(quantity, price, round(quantity * price * (0.2 if d[4] < 200 else 0.0), 2))


class _Invoice(NamedTuple):
    digest: bytes
    account: str
    company: str
    status: str
    created: int
    net: float
    tax: float


def _invoice(ctx: GenContext, i: int) -> _Invoice:
    d = ctx.digest(INVOICE, i)
    lines = [_line(ctx, i * LINES_PER_INVOICE + k)[1] for k in range(LINES_PER_INVOICE)]
    status = INVOICE_STATUSES[0 if d[3] < 64 else 2 if d[3] > 243 else 1]
    return _Invoice(
        d,
        ctx.pick_id("Account", d, 0),
        ctx.id_of(COMPANY, d[4] % ctx.count(COMPANY)),
        status,
        ctx.created_at(INVOICE, i, d),
        round(sum(line.net for line in lines), 2),
        round(sum(line.tax for line in lines), 2),
    )


def _payment_status(d: bytes, status: str) -> str:
    if status != "Complete":
        return "Unpaid"
    return ("Paid", "Part Paid", "Unpaid")[0 if d[5] < 150 else 1 if d[5] < 190 else 2]


def invoice(ctx: GenContext, i: int) -> Record:
    """Sales invoice `i`: totals summed from its two lines, posted (with a transaction) when Complete."""
    inv = _invoice(ctx, i)
    d = inv.digest
    record: Record = {
        "Id": ctx.id_of(INVOICE, i),
        "Name": f"SIN{i + 1:06d}",
        "c2g__Account__c": inv.account,
        "c2g__OwnerCompany__c": inv.company,
        "c2g__Opportunity__c": ctx.pick_id("Opportunity", d, 6) if d[9] < 100 else None,
        "c2g__InvoiceDate__c": date_wire(inv.created),
        "c2g__DueDate__c": date_wire(inv.created + 30 * 86400),
        "c2g__CustomerReference__c": f"PO-{u16(d, 10):05d}" if d[12] < 150 else None,
        "c2g__InvoiceDescription__c": PRODUCTS[d[13] % len(PRODUCTS)] if d[14] < 100 else None,
        "c2g__InvoiceStatus__c": inv.status,
        "c2g__PaymentStatus__c": _payment_status(d, inv.status),
        "c2g__Transaction__c": ctx.id_of(TRANSACTION, i) if inv.status == "Complete" else None,
        "c2g__NetTotal__c": inv.net,
        "c2g__TaxTotal__c": inv.tax,
        "OwnerId": ctx.user_id(d[15] % ctx.count("User")),
    }
    ctx.audit(record, inv.created, d, ctx.count("User"))
    return record


def invoice_line(ctx: GenContext, j: int) -> Record:
    """Line `j` of invoice ``j // 2``: a product, quantity, unit price and tax, posting to a revenue account."""
    d, line = _line(ctx, j)
    record: Record = {
        "Id": ctx.id_of(LINE, j),
        "Name": f"SIL{j + 1:07d}",
        "c2g__Invoice__c": ctx.id_of(INVOICE, j // LINES_PER_INVOICE),
        "c2g__LineDescription__c": PRODUCTS[d[5] % len(PRODUCTS)],
        "c2g__Quantity__c": line.quantity,
        "c2g__UnitPrice__c": line.unit_price,
        "c2g__TaxValue1__c": line.tax,
        "c2g__GeneralLedgerAccount__c": ctx.id_of(GL, _REVENUE[d[6] % len(_REVENUE)]),
    }
    ctx.audit(record, ctx.created_at(LINE, j, d), d, ctx.count("User"))
    return record


class _Transaction(NamedTuple):
    digest: bytes
    invoice: _Invoice
    total: float


def _transaction(ctx: GenContext, t: int) -> _Transaction:
    inv = _invoice(ctx, t)
    d = ctx.digest(TRANSACTION, t)
    total = inv.net + inv.tax if inv.status == "Complete" else float(u16(d, 0) % 50000 + 100)
    return _Transaction(d, inv, round(total, 2))


def transaction(ctx: GenContext, t: int) -> Record:
    """Transaction `t`: the posting of invoice `t` when that invoice is complete, else a journal."""
    tr = _transaction(ctx, t)
    d, inv = tr.digest, tr.invoice
    posted = inv.status == "Complete"
    paid = _payment_status(inv.digest, inv.status)
    record: Record = {
        "Id": ctx.id_of(TRANSACTION, t),
        "Name": f"TRN{t + 1:06d}",
        "c2g__TransactionType__c": "Invoice" if posted else "Journal",
        "c2g__DocumentNumber__c": f"SIN{t + 1:06d}" if posted else f"JNL{t + 1:06d}",
        "c2g__TransactionDate__c": date_wire(inv.created),
        "c2g__OwnerCompany__c": inv.company,
        "c2g__Account__c": inv.account if posted else None,
        "c2g__DocumentTotal__c": tr.total,
        "c2g__DocumentOutstandingTotal__c": {"Paid": 0.0, "Part Paid": round(tr.total / 2, 2)}.get(paid, tr.total),
        "OwnerId": ctx.user_id(0),
    }
    ctx.audit(record, ctx.created_at(TRANSACTION, t, d), d, users=1)
    return record


def transaction_line(ctx: GenContext, k: int) -> Record:
    """Line `k` of transaction ``k // 2``: the even line debits receivables, the odd one credits revenue."""
    tr = _transaction(ctx, k // 2)
    d = ctx.digest("c2g__codaTransactionLineItem__c", k)
    debit = k % 2 == 0
    value = tr.total if debit else -tr.total
    record: Record = {
        "Id": ctx.id_of("c2g__codaTransactionLineItem__c", k),
        "Name": f"TRL{k + 1:07d}",
        "c2g__Transaction__c": ctx.id_of(TRANSACTION, k // 2),
        "c2g__LineType__c": "Account" if debit else "Analysis",
        "c2g__GeneralLedgerAccount__c": ctx.id_of(GL, _RECEIVABLES if debit else _REVENUE[d[0] % len(_REVENUE)]),
        "c2g__Account__c": tr.invoice.account if tr.invoice.status == "Complete" else None,
        "c2g__HomeValue__c": value,
        "c2g__DocumentValue__c": value,
    }
    ctx.audit(record, ctx.created_at("c2g__codaTransactionLineItem__c", k, d), d, users=1)
    return record
