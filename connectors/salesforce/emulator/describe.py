"""Describe payloads: the global sObject list, one object's basic info, and the full describe with its fields.

Keys follow the platform's DescribeGlobalResult / DescribeSObjectResult / DescribeFieldResult JSON (the full
key set, so clients that read any of them find it); values come from the object specs. Payloads depend only
on the object and the API version, so they are rendered once and cached as bytes.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import orjson

from .model import FieldDef
from .schema import ObjectSpec
from .store import Store

_SOAP_TYPES = {
    "id": "tns:ID",
    "reference": "tns:ID",
    "boolean": "xsd:boolean",
    "int": "xsd:int",
    "double": "xsd:double",
    "currency": "xsd:double",
    "percent": "xsd:double",
    "date": "xsd:date",
    "datetime": "xsd:dateTime",
    "time": "xsd:time",
}
_MASTER_RECORD_TYPE = "012000000000000AAA"


def _urls(name: str, prefix: str) -> dict[str, str]:
    base = f"{prefix}/sobjects/{name}"
    return {"sobject": base, "describe": f"{base}/describe", "rowTemplate": f"{base}/{{ID}}"}


def global_entry(spec: ObjectSpec, prefix: str) -> dict[str, Any]:
    """The object's entry in ``GET /sobjects``, also the ``objectDescribe`` of its basic-info resource."""
    obj = spec.definition
    return {
        "activateable": False,
        "associateEntityType": None,
        "associateParentEntity": None,
        "createable": obj.createable,
        "custom": obj.custom,
        "customSetting": False,
        "deepCloneable": False,
        "deletable": obj.deletable,
        "deprecatedAndHidden": False,
        "feedEnabled": not obj.custom,
        "hasSubtypes": False,
        "isInterface": False,
        "isSubtype": False,
        "keyPrefix": obj.key_prefix,
        "label": obj.label,
        "labelPlural": obj.label_plural,
        "layoutable": obj.queryable,
        "mergeable": False,
        "mruEnabled": obj.queryable,
        "name": obj.name,
        "queryable": obj.queryable,
        "replicateable": obj.queryable,
        "retrieveable": obj.queryable,
        "searchable": obj.queryable,
        "triggerable": obj.queryable,
        "undeletable": obj.deletable,
        "updateable": obj.updateable,
        "urls": _urls(obj.name, prefix),
    }


def _field(spec: ObjectSpec, field: FieldDef) -> dict[str, Any]:
    text_like = field.type not in _SOAP_TYPES
    default = spec.defaults.get(field.name)
    auto_number = field.name in spec.auto_number
    return {
        "aggregatable": field.groupable or field.type in ("int", "double", "currency", "percent"),
        "aiPredictionField": False,
        "autoNumber": auto_number,
        "byteLength": field.length * 3 if text_like else 18 if field.type in ("id", "reference") else 0,
        "calculated": field.calculated,
        "calculatedFormula": spec.formulas.get(field.name),
        "cascadeDelete": field.name in spec.master_detail,
        "caseSensitive": field.case_sensitive,
        "compoundFieldName": None,
        "controllerName": None,
        "createable": field.createable,
        "custom": field.custom,
        "defaultValue": None if field.type == "picklist" else default,
        "defaultValueFormula": None,
        "defaultedOnCreate": field.defaulted_on_create,
        "dependentPicklist": False,
        "deprecatedAndHidden": False,
        "digits": field.digits,
        "displayLocationInDecimal": False,
        "encrypted": False,
        "externalId": field.external_id,
        "extraTypeInfo": None,
        "filterable": field.filterable,
        "filteredLookupInfo": None,
        "formulaTreatNullNumberAsZero": False,
        "groupable": field.groupable,
        "highScaleNumber": False,
        "htmlFormatted": False,
        "idLookup": field.name == "Id" or field.external_id,
        "inlineHelpText": None,
        "label": field.label,
        "length": field.length,
        "mask": None,
        "maskType": None,
        "name": field.name,
        "nameField": field.name == "Name",
        "namePointing": False,
        "nillable": field.nillable,
        "permissionable": field.nillable and not field.calculated and field.createable,
        "picklistValues": [
            {"active": True, "defaultValue": value == default, "label": value, "validFor": None, "value": value}
            for value in field.picklist_values
        ],
        "polymorphicForeignKey": False,
        "precision": field.precision,
        "queryByDistance": False,
        "referenceTargetField": None,
        "referenceTo": list(field.reference_to),
        "relationshipName": field.relationship_name,
        "relationshipOrder": 0 if field.name in spec.master_detail else None,
        "restrictedDelete": False,
        "restrictedPicklist": False,
        "scale": field.scale,
        "searchPrefilterable": False,
        "soapType": _SOAP_TYPES.get(field.type, "xsd:string"),
        "sortable": field.sortable,
        "type": field.type,
        "unique": field.unique,
        "updateable": field.updateable,
        "writeRequiresMasterRead": False,
    }


class Describer:
    """Renders and caches the describe payloads of one store's profile, by canonical object name and prefix."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self.global_describe = cache(self._global_describe)
        self.basic_info = cache(self._basic_info)
        self.describe = cache(self._describe)

    def _global_describe(self, prefix: str) -> bytes:
        entries = [global_entry(spec, prefix) for spec in self._store.specs()]
        return orjson.dumps({"encoding": "UTF-8", "maxBatchSize": 200, "sobjects": entries})

    def _spec(self, name: str) -> ObjectSpec:
        spec = self._store.spec(name)
        assert spec is not None, name
        return spec

    def _basic_info(self, name: str, prefix: str) -> bytes:
        return orjson.dumps({"objectDescribe": global_entry(self._spec(name), prefix), "recentItems": []})

    def _describe(self, name: str, prefix: str) -> bytes:
        spec = self._spec(name)
        payload = global_entry(spec, prefix)
        payload["urls"] |= {"layouts": f"{prefix}/sobjects/{spec.name}/describe/layouts"}
        payload |= {
            "actionOverrides": [],
            "childRelationships": self._child_relationships(spec),
            "compactLayoutable": spec.definition.queryable,
            "defaultImplementation": None,
            "extendedBy": None,
            "extendsInterfaces": None,
            "fields": [_field(spec, field) for field in spec.definition.fields],
            "implementedBy": None,
            "implementsInterfaces": None,
            "listviewable": None,
            "lookupLayoutable": None,
            "namedLayoutInfos": [],
            "networkScopeFieldName": None,
            "recordTypeInfos": [
                {
                    "active": True,
                    "available": True,
                    "defaultRecordTypeMapping": True,
                    "developerName": "Master",
                    "master": True,
                    "name": "Master",
                    "recordTypeId": _MASTER_RECORD_TYPE,
                    "urls": {"layout": f"{prefix}/sobjects/{spec.name}/describe/layouts/{_MASTER_RECORD_TYPE}"},
                }
            ],
            "searchLayoutable": spec.definition.queryable,
            "sobjectDescribeOption": "FULL",
            "supportedScopes": [{"label": "All", "name": "everything"}],
        }
        return orjson.dumps(payload)

    def _child_relationships(self, spec: ObjectSpec) -> list[dict[str, Any]]:
        return [
            {
                "cascadeDelete": field in child.master_detail,
                "childSObject": child.name,
                "deprecatedAndHidden": False,
                "field": field,
                "junctionIdListNames": [],
                "junctionReferenceTo": [],
                "relationshipName": child.child_relationships.get(field),
                "restrictedDelete": False,
            }
            for child, field in self._store.children(spec.name)
        ]
