"""Result rows: the platform's JSON records, parent nesting, ORDER BY, LIMIT/OFFSET, COUNT(), FIELDS() and the
name-resolution errors. The sample data is described in test_soql_where.py.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from connectors.salesforce.emulator.soql import QueryResult, SoqlError, execute, parse
from connectors.salesforce.emulator.soql.render import Rows

from .conftest import NOW, MemoryCatalog

Rows_ = Callable[..., list[dict[str, Any]]]


def test_record_shape_uses_canonical_names_in_select_order(catalog: MemoryCatalog, rows: Rows_) -> None:
    acme = catalog.records("Account")[0]
    found = rows("select NAME, id, annualrevenue, isactive__C, createddate FROM account WHERE Name = 'Acme'")
    assert found == [
        {
            "attributes": {"type": "Account", "url": f"/services/data/v59.0/sobjects/Account/{acme['Id']}"},
            "Name": "Acme",
            "Id": acme["Id"],
            "AnnualRevenue": 1000000,
            "IsActive__c": True,
            "CreatedDate": "2024-05-10T12:00:00.000+0000",
        }
    ]
    assert list(found[0]) == ["attributes", "Name", "Id", "AnnualRevenue", "IsActive__c", "CreatedDate"]


def test_url_prefix_and_object_name(catalog: MemoryCatalog, run: Callable[..., QueryResult]) -> None:
    result = run("SELECT LastName FROM contact WHERE LastName = 'Smith'", url_prefix="/services/data/v61.0")
    smith = catalog.records("Contact")[0]
    assert result.object_name == "Contact" and result.total_size == 1
    assert result.rows[0]["attributes"]["url"] == f"/services/data/v61.0/sobjects/Contact/{smith['Id']}"


def test_missing_keys_render_as_null(catalog: MemoryCatalog, rows: Rows_) -> None:
    catalog.add("Account", Name="Sparse")
    assert rows("SELECT Name, Industry, OwnerId FROM Account WHERE Name = 'Sparse'")[0]["Industry"] is None


def test_parent_fields_nest_under_the_relationship(catalog: MemoryCatalog, rows: Rows_) -> None:
    jo = catalog.records("User")[0]
    found = rows("SELECT owner.name, Name, OWNER.Email FROM Account WHERE Industry = 'Banking' OR Industry = null")
    owner = {
        "attributes": {"type": "User", "url": f"/services/data/v59.0/sobjects/User/{jo['Id']}"},
        "Name": "Jo",
        "Email": "jo@example.com",
    }
    assert found == [
        {"attributes": found[0]["attributes"], "Owner": owner, "Name": "Acme"},
        {"attributes": found[1]["attributes"], "Owner": None, "Name": "Globex"},
        {"attributes": found[2]["attributes"], "Owner": owner, "Name": "Initech_%"},
    ]


def test_two_level_parents_nest_twice(catalog: MemoryCatalog, rows: Rows_) -> None:
    acme = catalog.records("Account")[0]
    found = rows("SELECT LastName, Account.Owner.Name, Account.Name FROM Contact ORDER BY LastName")
    assert [r["LastName"] for r in found] == ["Jones", "Orphan", "Smith"]
    assert found[1]["Account"] is None
    smith_account = found[2]["Account"]
    assert smith_account["attributes"] == {
        "type": "Account",
        "url": f"/services/data/v59.0/sobjects/Account/{acme['Id']}",
    }
    assert smith_account["Owner"]["Name"] == "Jo" and smith_account["Name"] == "Acme"
    assert list(smith_account) == ["attributes", "Owner", "Name"]


def test_reference_field_and_relationship_side_by_side(catalog: MemoryCatalog, rows: Rows_) -> None:
    jo = catalog.records("User")[0]
    row = rows("SELECT OwnerId, Owner.Id FROM Account WHERE Name = 'Acme'")[0]
    assert row["OwnerId"] == jo["Id"] and row["Owner"]["Id"] == jo["Id"]


def test_polymorphic_parent_takes_its_type_from_the_id(catalog: MemoryCatalog, rows: Rows_) -> None:
    found = rows("SELECT Title, Parent.Id, Parent.LastName FROM Note ORDER BY Title")
    acme, smith = catalog.records("Account")[0], catalog.records("Contact")[0]
    assert [row["Parent"] for row in found] == [
        {"attributes": {"type": "Account", "url": f"/services/data/v59.0/sobjects/Account/{acme['Id']}"},
         "Id": acme["Id"], "LastName": None},
        {"attributes": {"type": "Contact", "url": f"/services/data/v59.0/sobjects/Contact/{smith['Id']}"},
         "Id": smith["Id"], "LastName": "Smith"},
    ]  # fmt: skip


def test_self_relationships_and_the_depth_limit(
    catalog: MemoryCatalog, rows: Rows_, error: Callable[[str], SoqlError]
) -> None:
    top = catalog.add("Account", Name="Top")
    middle = catalog.add("Account", Name="Middle", ParentId=top["Id"])
    catalog.add("Account", Name="Leaf", ParentId=middle["Id"])
    found = rows("SELECT Parent.Parent.Name FROM Account WHERE Name = 'Leaf'")
    assert found[0]["Parent"]["Parent"]["Name"] == "Top"
    assert rows("SELECT Name FROM Account WHERE Parent.Parent.Parent.Parent.Parent.Name = null")
    err = error("SELECT Parent.Parent.Parent.Parent.Parent.Parent.Name FROM Account")
    assert err.error_code == "MALFORMED_QUERY" and "ERROR at Row:1:Column:8" in err.message


def test_dangling_parent_renders_null(catalog: MemoryCatalog, rows: Rows_) -> None:
    catalog.add("Account", Name="Lost", OwnerId="005Xq9999999999AAA")
    assert rows("SELECT Name, Owner.Name FROM Account WHERE Name = 'Lost'")[0]["Owner"] is None


@pytest.mark.parametrize(
    ("order", "expected"),
    [
        ("Name", ["Acme", "acme labs", "Globex", "Initech_%", "Umbrella"]),
        ("Name DESC", ["Umbrella", "Initech_%", "Globex", "acme labs", "Acme"]),
        ("NumberOfEmployees", ["Umbrella", "Globex", "acme labs", "Acme", "Initech_%"]),
        ("NumberOfEmployees ASC NULLS LAST", ["Globex", "acme labs", "Acme", "Initech_%", "Umbrella"]),
        ("NumberOfEmployees DESC", ["Initech_%", "Acme", "acme labs", "Globex", "Umbrella"]),
        ("NumberOfEmployees DESC NULLS FIRST", ["Umbrella", "Initech_%", "Acme", "acme labs", "Globex"]),
        ("Industry, Name DESC", ["Globex", "Initech_%", "Acme", "Umbrella", "acme labs"]),
        ("Industry DESC, NumberOfEmployees", ["Umbrella", "acme labs", "Acme", "Initech_%", "Globex"]),
        ("Owner.Name, Name", ["Globex", "acme labs", "Umbrella", "Acme", "Initech_%"]),
        ("IsActive__c DESC, CreatedDate", ["Initech_%", "Acme", "Umbrella", "acme labs", "Globex"]),
        ("LastActivityDate DESC NULLS FIRST", ["Globex", "Umbrella", "acme labs", "Acme", "Initech_%"]),
        ("Code__c", ["Globex", "acme labs", "Acme", "Initech_%", "Umbrella"]),  # case-sensitive: ABC < abc
    ],
)
def test_order_by(names: Callable[[str], list[str]], order: str, expected: list[str]) -> None:
    assert names(f"ORDER BY {order}") == expected


def test_order_by_ties_keep_insertion_order(catalog: MemoryCatalog, names: Callable[[str], list[str]]) -> None:
    for name in ("ACME", "acme", "Acme"):
        catalog.add("Account", Name=name, Industry="Tie")
    assert names("WHERE Industry = 'tie' ORDER BY Name") == ["ACME", "acme", "Acme"]
    assert names("WHERE Industry = 'tie' ORDER BY Name DESC") == ["ACME", "acme", "Acme"]


def test_order_by_unsortable_field(error: Callable[[str], SoqlError]) -> None:
    err = error("SELECT Id FROM Account ORDER BY Description")
    assert err.error_code == "INVALID_FIELD"
    assert err.message.endswith("ERROR at Row:1:Column:33\nfield 'Description' can not be sorted in a query call")


@pytest.mark.parametrize(
    ("tail", "expected"),
    [
        ("ORDER BY Name LIMIT 2", ["Acme", "acme labs"]),
        ("ORDER BY Name LIMIT 2 OFFSET 2", ["Globex", "Initech_%"]),
        ("ORDER BY Name OFFSET 4", ["Umbrella"]),
        ("ORDER BY Name OFFSET 9", []),
        ("LIMIT 0", []),
    ],
)
def test_limit_and_offset(names: Callable[[str], list[str]], tail: str, expected: list[str]) -> None:
    assert names(tail) == expected


def test_total_size_counts_rows_after_limit(run: Callable[..., QueryResult]) -> None:
    assert run("SELECT Id FROM Account").total_size == 5
    assert run("SELECT Id FROM Account LIMIT 3 OFFSET 1").total_size == 3


@pytest.mark.parametrize(
    ("query", "size"),
    [
        ("SELECT COUNT() FROM Account", 5),
        ("SELECT COUNT() FROM Account WHERE Industry = 'banking'", 2),
        ("SELECT COUNT() FROM Account LIMIT 3", 3),
        ("SELECT COUNT() FROM Account LIMIT 3 OFFSET 4", 1),
        ("SELECT COUNT() FROM Account WHERE Name = 'nobody'", 0),
    ],
)
def test_count(run: Callable[..., QueryResult], query: str, size: int) -> None:
    result = run(query)
    assert (result.object_name, result.total_size, list(result.rows)) == ("Account", size, [])


def test_count_still_checks_its_names(error: Callable[[str], SoqlError]) -> None:
    assert error("SELECT COUNT() FROM Account WHERE Nme = 'x'").error_code == "INVALID_FIELD"
    assert error("SELECT COUNT() FROM Account ORDER BY Nme").error_code == "INVALID_FIELD"


def test_count_with_query_all(run: Callable[..., QueryResult]) -> None:
    assert run("SELECT COUNT() FROM Account", include_deleted=True).total_size == 6


def test_fields_functions(rows: Rows_) -> None:
    standard = rows("SELECT FIELDS(STANDARD) FROM Account WHERE Name = 'Acme'")[0]
    custom = rows("SELECT FIELDS(CUSTOM) FROM Account WHERE Name = 'Acme' LIMIT 200")[0]
    everything = rows("SELECT FIELDS(ALL) FROM Account WHERE Name = 'Acme' LIMIT 1")[0]
    assert list(custom) == ["attributes", "IsActive__c", "Tags__c", "Code__c"]
    assert "IsActive__c" not in standard and standard["Industry"] == "Banking"
    assert list(everything)[1:] == [
        "Id", "Name", "Industry", "AnnualRevenue", "NumberOfEmployees", "IsActive__c", "CreatedDate",
        "LastActivityDate", "OwnerId", "Tags__c", "Code__c", "Description", "ParentId",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("query", "label"),
    [
        ("SELECT Name, name FROM Account", "Name"),
        ("SELECT Owner.Name, owner.NAME FROM Account", "Owner.Name"),
        ("SELECT Id, FIELDS(STANDARD) FROM Account", "Id"),
        ("SELECT a.Name, Name FROM Account a", "Name"),
    ],
)
def test_duplicate_field_selected(error: Callable[[str], SoqlError], query: str, label: str) -> None:
    err = error(query)
    assert (err.error_code, err.message) == ("INVALID_FIELD", f"duplicate field selected: {label}")


def test_unknown_field_message_is_the_platforms(error: Callable[[str], SoqlError]) -> None:
    err = error("SELECT Nme FROM Account")
    assert err.error_code == "INVALID_FIELD"
    assert err.message == (
        "\nSELECT Nme FROM Account\n       ^\nERROR at Row:1:Column:8\n"
        "No such column 'Nme' on entity 'Account'. If you are attempting to use a custom field, be sure to append "
        "the '__c' after the custom field name. Please reference your WSDL or the describe call for the "
        "appropriate names."
    )


def test_unknown_parent_field_names_the_parent_entity(error: Callable[[str], SoqlError]) -> None:
    err = error("SELECT Id,\n  Owner.Nme FROM Account")
    assert err.error_code == "INVALID_FIELD"
    assert err.message.startswith(
        "\n  Owner.Nme FROM Account\n  ^\nERROR at Row:2:Column:3\nNo such column 'Nme' on entity 'User'."
    )


def test_unknown_relationship(error: Callable[[str], SoqlError]) -> None:
    err = error("SELECT Id, Boss.Name FROM Account")
    assert err.error_code == "INVALID_FIELD"
    assert err.message == (
        "\nSELECT Id, Boss.Name FROM Account\n           ^\nERROR at Row:1:Column:12\n"
        "Didn't understand relationship 'Boss' in field path. If you are attempting to use a custom relationship, "
        "be sure to append the '__r' after the custom relationship name. Please reference your WSDL or the "
        "describe call for the appropriate names."
    )


def test_a_reference_field_is_not_a_relationship(error: Callable[[str], SoqlError]) -> None:
    assert error("SELECT OwnerId.Name FROM Account").error_code == "INVALID_FIELD"


def test_unknown_object(error: Callable[[str], SoqlError]) -> None:
    err = error("SELECT Id FROM Acount")
    assert err.error_code == "INVALID_TYPE"
    assert err.message == (
        "\nSELECT Id FROM Acount\n               ^\nERROR at Row:1:Column:16\n"
        "sObject type 'Acount' is not supported. If you are attempting to use a custom object, be sure to append "
        "the '__c' after the entity name. Please reference your WSDL or the describe call for the appropriate names."
    )


def test_rows_render_lazily_per_page(catalog: MemoryCatalog) -> None:
    for index in range(50):
        catalog.add("Account", Name=f"Bulk {index:02d}", OwnerId=catalog.records("User")[0]["Id"])
    result = execute(parse("SELECT Name, Owner.Name FROM Account WHERE Name LIKE 'Bulk%'"), catalog, now=NOW)
    assert isinstance(result.rows, Rows) and len(result.rows) == result.total_size == 50
    page = result.rows[10:20]
    assert [row["Name"] for row in page] == [f"Bulk {index:02d}" for index in range(10, 20)]
    assert result.rows[-1]["Name"] == "Bulk 49" and result.rows[0]["Owner"]["Name"] == "Jo"
    assert [row["Name"] for row in result.rows][:2] == ["Bulk 00", "Bulk 01"]


def test_results_are_a_snapshot_of_the_query(catalog: MemoryCatalog) -> None:
    records = catalog.records("Account")
    before = list(records)
    execute(parse("SELECT Name FROM Account ORDER BY Name DESC"), catalog, now=NOW)
    assert list(catalog.records("Account")) == before  # sorting never reorders the catalog's own list
