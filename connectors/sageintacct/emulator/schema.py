"""The objects the emulated gateway serves and their fields, as `lookup` describes them.

Field names and data types follow the vendor's object pages (developer.intacct.com, api-protocols.md §1.9):
RECORDNO is the integer key the gateway assigns, each object has an ID field the user gives (CUSTOMERID, …),
nested fields are dotted paths (DISPLAYCONTACT.EMAIL1), and the data types are lookup's: TEXT, ENUM, INTEGER,
DECIMAL, CURRENCY, DATE, TIMESTAMP and BOOLEAN.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from xml.sax.saxutils import escape


@dataclass(frozen=True)
class Field:
    id: str
    datatype: str = "TEXT"
    required: bool = False
    readonly: bool = False
    valid_values: tuple[str, ...] = ()


@dataclass(frozen=True)
class ObjectDef:
    name: str
    label: str
    #: The field users name records by (readByName keys, duplicate checks); None where the gateway numbers them.
    id_field: str | None
    fields: tuple[Field, ...]
    by_id: dict[str, Field] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_id", {f.id: f for f in self.fields})


KEY = Field("RECORDNO", "INTEGER", readonly=True)
AUDIT = (Field("WHENCREATED", "TIMESTAMP", readonly=True), Field("WHENMODIFIED", "TIMESTAMP", readonly=True))
STATUS = Field("STATUS", "ENUM", valid_values=("active", "inactive"))
CONTACT = tuple(
    Field(f"DISPLAYCONTACT.{name}")
    for name in ("PRINTAS", "COMPANYNAME", "FIRSTNAME", "LASTNAME", "EMAIL1", "PHONE1", "MAILADDRESS.CITY")
)


def _object(name: str, label: str, id_field: str | None, *fields: Field) -> ObjectDef:
    return ObjectDef(name, label, id_field, (KEY, *fields, *AUDIT))


OBJECTS: dict[str, ObjectDef] = {
    o.name: o
    for o in (
        _object(
            "CUSTOMER",
            "Customer",
            "CUSTOMERID",
            Field("CUSTOMERID", required=True),
            Field("NAME", required=True),
            STATUS,
            Field("CUSTTYPE"),
            Field("PARENTID"),
            Field("TERMNAME"),
            Field("CURRENCY"),
            Field("CREDITLIMIT", "CURRENCY"),
            Field("TOTALDUE", "CURRENCY", readonly=True),
            Field("ONETIME", "BOOLEAN"),
            Field("ONHOLD", "BOOLEAN"),
            Field("LASTINVOICEDATE", "DATE", readonly=True),
            Field("COMMENTS"),
            *(Field(f.id, required=f.id == "DISPLAYCONTACT.PRINTAS") for f in CONTACT),
        ),
        _object(
            "VENDOR",
            "Vendor",
            "VENDORID",
            Field("VENDORID", required=True),
            Field("NAME", required=True),
            STATUS,
            Field("VENDTYPE"),
            Field("TERMNAME"),
            Field("TOTALDUE", "CURRENCY", readonly=True),
            Field("ONHOLD", "BOOLEAN"),
            Field("COMMENTS"),
            *(Field(f.id, required=f.id == "DISPLAYCONTACT.PRINTAS") for f in CONTACT),
        ),
        _object(
            "CONTACT",
            "Contact",
            "CONTACTNAME",
            Field("CONTACTNAME", required=True),
            Field("PRINTAS", required=True),
            Field("COMPANYNAME"),
            Field("FIRSTNAME"),
            Field("LASTNAME"),
            Field("EMAIL1"),
            Field("PHONE1"),
            Field("MAILADDRESS.CITY"),
            Field("MAILADDRESS.COUNTRY"),
            STATUS,
        ),
        _object(
            "GLACCOUNT",
            "GL Account",
            "ACCOUNTNO",
            Field("ACCOUNTNO", required=True),
            Field("TITLE", required=True),
            Field("ACCOUNTTYPE", "ENUM", required=True, valid_values=("balancesheet", "incomestatement")),
            Field("NORMALBALANCE", "ENUM", required=True, valid_values=("debit", "credit")),
            Field("CATEGORY"),
            STATUS,
        ),
        _object(
            "GLBATCH",
            "Journal Entry",
            None,
            Field("BATCHNO", "INTEGER", readonly=True),
            Field("BATCH_TITLE", required=True),
            Field("JOURNAL", required=True),
            Field("BATCH_DATE", "DATE", required=True),
            Field("STATE", "ENUM", valid_values=("Draft", "Posted")),
            Field("REFERENCENO"),
        ),
        _object(
            "GLENTRY",
            "Journal Entry Line",
            None,
            Field("BATCHNO", "INTEGER", required=True),
            Field("LINE_NO", "INTEGER", readonly=True),
            Field("ACCOUNTNO", required=True),
            Field("TR_TYPE", "INTEGER", required=True, valid_values=("1", "-1")),
            Field("AMOUNT", "CURRENCY", required=True),
            Field("ENTRY_DATE", "DATE", required=True),
            Field("DEPARTMENTID"),
            Field("LOCATIONID"),
            Field("DESCRIPTION"),
        ),
        _object(
            "ARINVOICE",
            "AR Invoice",
            None,
            Field("RECORDID"),
            Field("CUSTOMERID", required=True),
            Field("WHENPOSTED", "DATE", required=True),
            Field("WHENDUE", "DATE"),
            Field("STATE", "ENUM", valid_values=("Posted", "Partially Paid", "Paid")),
            Field("TOTALENTERED", "CURRENCY", readonly=True),
            Field("TOTALPAID", "CURRENCY", readonly=True),
            Field("TOTALDUE", "CURRENCY", readonly=True),
            Field("CURRENCY"),
            Field("DESCRIPTION"),
        ),
        _object(
            "ARINVOICEITEM",
            "AR Invoice Detail",
            None,
            Field("RECORDKEY", "INTEGER", required=True),
            Field("LINE_NO", "INTEGER", readonly=True),
            Field("ACCOUNTNO", required=True),
            Field("AMOUNT", "CURRENCY", required=True),
            Field("DEPARTMENTID"),
            Field("LOCATIONID"),
            Field("ENTRYDESCRIPTION"),
        ),
        _object(
            "APBILL",
            "AP Bill",
            None,
            Field("RECORDID"),
            Field("VENDORID", required=True),
            Field("WHENPOSTED", "DATE", required=True),
            Field("WHENDUE", "DATE"),
            Field("STATE", "ENUM", valid_values=("Posted", "Partially Paid", "Paid")),
            Field("TOTALENTERED", "CURRENCY", readonly=True),
            Field("TOTALPAID", "CURRENCY", readonly=True),
            Field("TOTALDUE", "CURRENCY", readonly=True),
            Field("DESCRIPTION"),
        ),
        _object(
            "APBILLITEM",
            "AP Bill Detail",
            None,
            Field("RECORDKEY", "INTEGER", required=True),
            Field("LINE_NO", "INTEGER", readonly=True),
            Field("ACCOUNTNO", required=True),
            Field("AMOUNT", "CURRENCY", required=True),
            Field("DEPARTMENTID"),
            Field("ENTRYDESCRIPTION"),
        ),
        _object(
            "DEPARTMENT",
            "Department",
            "DEPARTMENTID",
            Field("DEPARTMENTID", required=True),
            Field("TITLE", required=True),
            Field("PARENTID"),
            STATUS,
        ),
        _object(
            "LOCATION",
            "Location",
            "LOCATIONID",
            Field("LOCATIONID", required=True),
            Field("NAME", required=True),
            Field("PARENTID"),
            STATUS,
        ),
        _object(
            "PROJECT",
            "Project",
            "PROJECTID",
            Field("PROJECTID", required=True),
            Field("NAME", required=True),
            Field("CUSTOMERID"),
            Field("BEGINDATE", "DATE"),
            Field("ENDDATE", "DATE"),
            Field("BUDGETAMOUNT", "CURRENCY"),
            Field("PERCENTCOMPLETE", "DECIMAL"),
            STATUS,
        ),
        _object(
            "EMPLOYEE",
            "Employee",
            "EMPLOYEEID",
            Field("EMPLOYEEID", required=True),
            Field("PERSONALINFO.CONTACTNAME", required=True),
            Field("TITLE"),
            Field("DEPARTMENTID"),
            Field("LOCATIONID"),
            Field("STARTDATE", "DATE"),
            STATUS,
        ),
        _object(
            "ITEM",
            "Item",
            "ITEMID",
            Field("ITEMID", required=True),
            Field("NAME", required=True),
            Field("ITEMTYPE", "ENUM", valid_values=("Inventory", "Non-Inventory", "Kit")),
            Field("BASEPRICE", "CURRENCY"),
            Field("STANDARD_COST", "CURRENCY"),
            STATUS,
        ),
    )
}


def lookup_xml(obj: ObjectDef) -> str:
    """The `<Type>` element `lookup` answers with (api-protocols.md §1.7)."""
    fields = "".join(
        f"<Field><ID>{f.id}</ID><LABEL>{escape(f.id.title())}</LABEL><DESCRIPTION/>"
        f"<REQUIRED>{str(f.required).lower()}</REQUIRED><READONLY>{str(f.readonly).lower()}</READONLY>"
        f"<DATATYPE>{f.datatype}</DATATYPE>"
        + (
            "<VALIDVALUES>" + "".join(f"<VALIDVALUE>{v}</VALIDVALUE>" for v in f.valid_values) + "</VALIDVALUES>"
            if f.valid_values
            else ""
        )
        + "<ISCUSTOM>false</ISCUSTOM></Field>"
        for f in obj.fields
    )
    return f'<Type Name="{obj.name}" DocumentType=""><Fields>{fields}</Fields><Relationships/></Type>'
