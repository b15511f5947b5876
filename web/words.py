"""Names that people read for what the API names by code: purposes, credential types, claims,
scan outcomes. Each is an English message id translated by the catalogue; an unknown code is
shown as it is."""
from __future__ import annotations

from flask_babel import gettext, lazy_gettext as _l

PURPOSES = {
    "identity-check": _l("Identity check"),
    "service-handling": _l("Service handling"),
    "transit": _l("Transit"),
    "library": _l("Library"),
}

# Credential types: the catalogue names them in Chinese; English readers get these.
TYPES = {
    "resident-id": _l("Resident ID card"),
    "household-register": _l("Household register"),
    "birth-certificate": _l("Birth certificate"),
    "business-licence": _l("Business licence"),
    "driver-licence": _l("Driver licence"),
    "social-security-card": _l("Social security card"),
    "medical-insurance-card": _l("Medical insurance card"),
}

CLAIMS = {
    "name": _l("Name"),
    "id_number": _l("ID number"),
    "birthdate": _l("Date of birth"),
    "sex": _l("Sex"),
    "address": _l("Address"),
    "valid_until": _l("Valid until"),
    "household_head": _l("Head of household"),
    "relation_to_head": _l("Relation to the head"),
    "child_name": _l("Child's name"),
    "child_id_number": _l("Child's ID number"),
    "mother_id_number": _l("Mother's ID number"),
    "father_id_number": _l("Father's ID number"),
    "uscc": _l("Unified social credit code"),
    "enterprise_name": _l("Enterprise name"),
    "legal_representative": _l("Legal representative"),
    "legal_representative_id_number": _l("Legal representative's ID number"),
    "registered_capital": _l("Registered capital"),
    "class": _l("Licence class"),
    "card_number": _l("Card number"),
    "city": _l("City"),
    "insured_city": _l("Insured city"),
    "scheme": _l("Scheme"),
    "portrait": _l("Photo"),
}

VALUES = {"male": _l("male"), "female": _l("female")}

KINDS = {"person": _l("Person"), "enterprise": _l("Enterprise")}

RELATIONS = {"parent": _l("parent"), "child": _l("child"), "spouse": _l("spouse"),
             "guardian": _l("guardian"), "other": _l("family member")}

ROLES = {"admin": _l("administrator"), "staff": _l("staff member"),
         "legal-representative": _l("legal representative")}


def purpose(code: str) -> str:
    return str(PURPOSES.get(code, code))


def type_name(vct: str, stored_name: str | None = None) -> str:
    """The type's name in the reader's language: the catalogue's own (Chinese) name for
    Chinese readers, the translation for others; the code when nothing is known."""
    if vct in TYPES:
        return str(TYPES[vct])
    return stored_name or vct


def claim_label(name: str) -> str:
    return str(CLAIMS.get(name, name))


def claim_value(value) -> str:
    if isinstance(value, (dict, list)):
        return gettext("(structured value)")
    return str(VALUES.get(value, value))
