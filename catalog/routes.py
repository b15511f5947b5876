"""HTTP surface of the catalogue: service items and bundles (anyone), my applications and
the policies found for me (residents), the applications a department handles (issuers),
publishing policies (policy publishers)."""
from flask import g
from flask_smorest import Blueprint

from core.auth import BEARER, ISSUER, RESIDENT, require
from core.errors import NotFound
from catalog import applications, items, jobs, policies
from catalog.schemas import (
    ApplicationCreateSchema,
    ApplicationSchema,
    BundleSchema,
    DepartmentApplicationSchema,
    DepartmentQueueQuerySchema,
    ItemQuerySchema,
    MyPolicySchema,
    PolicyCreateSchema,
    PolicySchema,
    ServiceItemSchema,
    StatusChangeSchema,
    SubmitSchema,
)
from identity import service as identity

blp = Blueprint("catalog", __name__, url_prefix="/api/v1",
                description="Service items, one-thing bundles, applications, policies")



def _me():
    return identity.signed_in_person(g.principal_id)


# The catalogue -------------------------------------------------------------------------


def item_body(item) -> dict:
    return {"code": item.code, "name": item.name, "department": item.department,
            "conditions": item.conditions, "steps": item.steps,
            "time_limit_days": item.time_limit_days, "fee": item.fee, "materials": item.materials,
            "form": item.form, "guide": item.guide}


def bundle_body(bundle) -> dict:
    parts = items.items_of(bundle)
    return {"code": bundle.code, "name": bundle.name, "description": bundle.description,
            "items": [{"code": i.code, "name": i.name, "department": i.department,
                       "materials": i.materials} for i in parts],
            "materials": items.union_of_materials(parts),
            "departments": list(dict.fromkeys(i.department for i in parts))}


@blp.get("/service-items")
@blp.arguments(ItemQuerySchema, location="query")
@blp.response(200, ServiceItemSchema(many=True))
def service_items(query):
    """The service items with their standard elements (`?department=` to narrow)"""
    return [item_body(i) for i in items.list_items(query.get("department"))]


@blp.get("/service-items/<code>")
@blp.response(200, ServiceItemSchema)
@blp.alt_response(404, description="`not-found`")
def service_item(code):
    """One service item: one item, one standard, everywhere"""
    item = items.get_item(code)
    if item is None:
        raise NotFound("No service item has this code.")
    return item_body(item)


@blp.get("/bundles")
@blp.response(200, BundleSchema(many=True))
def bundles():
    """The one-thing bundles (一件事), each with its items and the union of their materials"""
    return [bundle_body(b) for b in items.list_bundles()]


@blp.get("/bundles/<code>")
@blp.response(200, BundleSchema)
@blp.alt_response(404, description="`not-found`")
def bundle(code):
    """One bundle: its items and the union of their materials"""
    found = items.get_bundle(code)
    if found is None:
        raise NotFound("No bundle has this code.")
    return bundle_body(found)


# My applications -----------------------------------------------------------------------


def application_body(application, name: str | None = None) -> dict:
    return {"id": application.id, "status": application.status,
            "service_item": application.item_code, "bundle": application.bundle_code,
            "name": name, "form": application.form, "missing": application.missing,
            "timeline": application.timeline, "created_at": application.created_at,
            "updated_at": application.updated_at}


def _bodies(found: list, body=application_body) -> list[dict]:
    """``body(application, name)`` of each, the names of their items or bundles read in one
    query."""
    names = applications.names_of(found)
    return [body(a, names.get(a.item_code or a.bundle_code)) for a in found]


def _with_name(application, body=application_body) -> dict:
    return _bodies([application], body)[0]


@blp.post("/me/applications")
@blp.doc(security=BEARER)
@blp.arguments(ApplicationCreateSchema)
@blp.response(201, ApplicationSchema)
@blp.alt_response(404, description="`not-found`: an unknown service item or bundle")
@require(RESIDENT)
def create_application(data):
    """Start an application for an item or a whole bundle: one form, pre-filled from my wallet

    `missing` lists the credential types I hold no valid credential of; the departments obtain
    those by data sharing.
    """
    person = _me()
    application = applications.create_application(
        person.id, person.id_number_index, item_code=data.get("service_item"),
        bundle_code=data.get("bundle"))
    body = _with_name(application)
    return body


@blp.get("/me/applications")
@blp.doc(security=BEARER)
@blp.response(200, ApplicationSchema(many=True))
@require(RESIDENT)
def my_applications():
    """My applications, newest first"""
    found = applications.applications_of(g.principal_id)
    return _bodies(found)


@blp.get("/me/applications/<application_id>")
@blp.doc(security=BEARER)
@blp.response(200, ApplicationSchema)
@blp.alt_response(404, description="`not-found`")
@require(RESIDENT)
def my_application(application_id):
    """One of my applications, with its timeline"""
    return _with_name(applications.get_application(g.principal_id, application_id))


@blp.post("/me/applications/<application_id>/submit")
@blp.doc(security=BEARER)
@blp.arguments(SubmitSchema)
@blp.response(200, ApplicationSchema)
@blp.alt_response(404, description="`not-found`")
@blp.alt_response(409, description="`wrong-status`: not a draft")
@require(RESIDENT)
def submit(data, application_id):
    """Submit: my one consent to share the materials of the whole item or bundle"""
    person = _me()
    application = applications.submit(person.id, person.id_number_index, application_id,
                                      data.get("form"))
    body = _with_name(application)
    return body


# The applications a department handles ---------------------------------------------
# An issuer answers for the department of its name: the applications for its service items
# and for the bundles it leads (catalog.applications.handled_by). Drafts are the holder's.

_NOT_ISSUER = "`forbidden`: not an issuer's token"
_NOT_ACTIVE = ("`client-disabled`: an operator disabled the issuer; `token-revoked`: a token from "
               "before it was disabled; `unauthorized`, `invalid-token`, `token-expired` as on "
               "every route")
_NOT_MINE = "`not-found`: a draft, another department's application, or no application at all"


def department_body(application, name: str | None = None) -> dict:
    """What the resident sees of it, and the credentials they shared at submission."""
    return {**application_body(application, name), "shared": application.shared}


@blp.get("/issuer/applications")
@blp.doc(security=BEARER)
@blp.arguments(DepartmentQueueQuerySchema, location="query")
@blp.response(200, DepartmentApplicationSchema(many=True))
@blp.alt_response(401, description=_NOT_ACTIVE)
@blp.alt_response(403, description=_NOT_ISSUER)
@blp.alt_response(422, description="`validation-error`: a bad `status` or `limit`")
@require(ISSUER)
def department_queue(query):
    """The applications my department handles, oldest first: a work queue

    Those for my service items and for the bundles whose first item is mine; never drafts.
    `shared` names the credentials the holder shared at submission.
    """
    found = applications.department_queue(g.principal_id, status=query.get("status"),
                                          limit=query["limit"])
    return _bodies(found, department_body)


@blp.get("/issuer/applications/<application_id>")
@blp.doc(security=BEARER)
@blp.response(200, DepartmentApplicationSchema)
@blp.alt_response(401, description=_NOT_ACTIVE)
@blp.alt_response(403, description=_NOT_ISSUER)
@blp.alt_response(404, description=_NOT_MINE)
@require(ISSUER)
def department_application(application_id):
    """One application my department handles, with its timeline"""
    return _with_name(applications.department_application(g.principal_id, application_id), department_body)


@blp.post("/issuer/applications/<application_id>/status")
@blp.doc(security=BEARER)
@blp.arguments(StatusChangeSchema)
@blp.response(200, DepartmentApplicationSchema)
@blp.alt_response(401, description=_NOT_ACTIVE)
@blp.alt_response(403, description=_NOT_ISSUER)
@blp.alt_response(404, description=_NOT_MINE)
@blp.alt_response(409, description="`wrong-status`: a move the lifecycle does not allow "
                              "(submitted → accepted or rejected; accepted → completed or rejected)")
@blp.alt_response(422,
                  description="`validation-error`: a bad `status` or a `note` over 500 characters")
@require(ISSUER)
def move_application(data, application_id):
    """Answer an application: accepted, rejected or completed

    The note, if any, goes on the holder's timeline; the holder gets a notice.
    """
    application = applications.advance(application_id, data["status"], data.get("note"),
                                       issuer_id=g.principal_id)
    body = _with_name(application, department_body)
    return body


# Policies ------------------------------------------------------------------------------


def policy_body(policy) -> dict:
    return {"id": policy.id, "name": policy.name, "benefit": policy.benefit, "rules": policy.rules,
            "valid_from": policy.valid_from, "valid_until": policy.valid_until,
            "created_at": policy.created_at}


def my_policy_body(match, policy) -> dict:
    return {**policy_body(policy), "status": match.status, "found_at": match.found_at,
            "accepted_at": match.accepted_at}


@blp.post("/policies")
@blp.doc(security=BEARER)
@blp.arguments(PolicyCreateSchema)
@blp.response(201, PolicySchema)
@blp.alt_response(403, description="`not-a-policy-publisher`")
@blp.alt_response(422,
                  description="`validation-error` naming each rule with an unknown type, claim or op")
@require(ISSUER)
def publish_policy(data):
    """Publish a policy (免申即享): everyone it holds for finds it without applying

    The evaluation is a background job (synchronous on the embedded default).
    """
    policy = policies.create_policy(g.principal_id, data["name"], data["benefit"], data["rules"],
                                    valid_from=data.get("valid_from"),
                                    valid_until=data.get("valid_until"))
    body = policy_body(policy)
    jobs.enqueue(jobs.evaluate_policy_job, policy.id)
    return body


@blp.get("/me/policies")
@blp.doc(security=BEARER)
@blp.response(200, MyPolicySchema(many=True))
@require(RESIDENT)
def my_policies():
    """The policies in force that were found for me"""
    return [my_policy_body(m, p) for m, p in policies.found_for(_me().id_number_index)]


@blp.post("/me/policies/<policy_id>/accept")
@blp.doc(security=BEARER)
@blp.response(200, MyPolicySchema)
@blp.alt_response(404, description="`not-found`: not found for me, or no longer in force")
@require(RESIDENT)
def accept_policy(policy_id):
    """Take up a policy found for me"""
    match, policy = policies.accept(_me().id_number_index, policy_id)
    body = my_policy_body(match, policy)
    return body
