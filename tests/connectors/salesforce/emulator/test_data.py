"""Generated data: deterministic, complete, consistent across objects, realistic, and fast to start."""

from __future__ import annotations

import time
from collections import Counter

import pytest

from connectors.salesforce.emulator import SalesforceEmulator, ids
from connectors.salesforce.emulator.store import Store


def test_ids_have_the_case_safe_suffix() -> None:
    assert ids.to18("001D000000IqhSL") == "001D000000IqhSLIAZ"
    assert ids.normalize("001D000000IqhSL") == "001D000000IqhSLIAZ"
    assert ids.normalize("001d000000iqhsliaz") == "001D000000IqhSLIAZ"  # the suffix restores the case
    assert ids.normalize("0011000000IqhSLIAZ!") is None
    assert ids.normalize("0019000000IqhSL5AZ") is None  # a digit marked upper case
    for serial in (1, 61, 62, 3844, 916132831, 916132832, 10**12):
        made = ids.make_id("a0I", serial)
        assert ids.normalize(made) == made and ids.serial_of(made) == serial


def test_same_seed_same_data_other_seed_other_data() -> None:
    first, again, other = Store("certinia", 50, seed=1), Store("certinia", 50, seed=1), Store("certinia", 50, seed=2)
    for name in ("Account", "Contact", "c2g__codaInvoice__c", "pse__Timecard_Header__c"):
        assert first.records(name) == again.records(name)
        assert first.records(name) != other.records(name)


def test_a_record_is_the_same_read_alone_or_with_all_the_others() -> None:
    alone, whole = Store("certinia", 300, seed=4), Store("certinia", 300, seed=4)
    for name in ("Account", "c2g__codaTransactionLineItem__c"):
        record_id = whole.records(name)[123]["Id"]
        assert alone.get(record_id) == whole.get(record_id)


@pytest.mark.parametrize("profile", ["financialforce", "certinia"])
def test_every_record_has_exactly_its_objects_fields(profile: str) -> None:
    store = Store(profile, 40)
    for spec in store.specs():
        names = {field.name for field in spec.definition.fields}
        for record in store.records(spec.name):
            assert set(record) == names, spec.name


def test_lookups_point_at_existing_records_of_the_right_object() -> None:
    store = Store("certinia", 200, seed=3)
    for spec in store.specs():
        for field in spec.definition.fields:
            if field.type != "reference":
                continue
            for record in store.records(spec.name):
                value = record[field.name]
                if value is not None:
                    target = store.get(value)
                    assert target is not None, (spec.name, field.name, value)
                    assert store.spec_for_id(value).name in field.reference_to  # type: ignore[union-attr]


def test_accounting_documents_agree() -> None:
    store = Store("financialforce", 100)
    lines = Counter[str]()
    for line in store.records("c2g__codaInvoiceLineItem__c"):
        lines[line["c2g__Invoice__c"]] += line["c2g__NetValue__c"]
    for invoice in store.records("c2g__codaInvoice__c"):
        assert invoice["c2g__NetTotal__c"] == pytest.approx(lines[invoice["Id"]])
        assert invoice["c2g__InvoiceTotal__c"] == pytest.approx(
            invoice["c2g__NetTotal__c"] + invoice["c2g__TaxTotal__c"]
        )
        if invoice["c2g__Transaction__c"]:
            posted = store.get(invoice["c2g__Transaction__c"])
            assert posted is not None and posted["c2g__DocumentNumber__c"] == invoice["Name"]
            assert posted["c2g__DocumentTotal__c"] == pytest.approx(invoice["c2g__InvoiceTotal__c"])
    balance = Counter[str]()
    for line in store.records("c2g__codaTransactionLineItem__c"):
        balance[line["c2g__Transaction__c"]] += line["c2g__HomeValue__c"]
    assert all(total == pytest.approx(0) for total in balance.values())


def test_timecards_book_their_assignments_hours() -> None:
    store = Store("certinia", 100)
    for card in store.records("pse__Timecard_Header__c"):
        assignment = store.get(card["pse__Assignment__c"])
        assert assignment is not None
        assert (card["pse__Project__c"], card["pse__Resource__c"]) == (
            assignment["pse__Project__c"],
            assignment["pse__Resource__c"],
        )
        days = [card[f"pse__{day}_Hours__c"] for day in ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday")]
        assert card["pse__Total_Hours__c"] >= sum(days)


def test_values_are_realistic_and_include_hard_strings() -> None:
    store = Store("certinia", 2000)
    accounts = store.records("Account")
    names = {account["Name"] for account in accounts}
    assert {"O'Brien & Søn", "100% Pure_Water"} <= names
    assert any(account["Industry"] is None for account in accounts)
    assert any(account["ParentId"] for account in accounts)
    created = [account["CreatedDate"] for account in accounts]
    assert created == sorted(created) and created[0][:4] == "2016" and created[-1][:4] == "2025"
    contacts = store.records("Contact")
    assert all("@" in contact["Email"] for contact in contacts if contact["Email"])
    assert len({contact["AccountId"] for contact in contacts}) > 500


def test_starting_is_instant_at_any_size() -> None:
    started = time.perf_counter()
    with SalesforceEmulator("certinia", records=1_000_000) as sf:
        elapsed = time.perf_counter() - started
        assert sf.url.startswith("http://127.0.0.1:")
    assert elapsed < 0.5


def test_generating_100k_accounts_is_fast() -> None:
    store = Store("financialforce", 100_000)
    started = time.process_time()  # CPU time: other processes on a busy machine don't count against it
    assert len(store.records("Account")) == 100_000
    assert time.process_time() - started < 4.0  # 2.8 s on an idle 2-CPU machine of this kind (at 216f7fa too)
