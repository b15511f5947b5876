"""GET /me, and how identity appears in the OpenAPI document."""
from core.extensions import db
from core.tokens import client_token
from identity.models import Person
from tests.helpers import auth_headers, resident

PROBLEM = "application/problem+json"


def test_me_is_the_masked_profile_with_the_assurance_level(client):
    r = resident(client)
    response = client.get("/api/v1/me", headers=r["headers"])
    assert response.status_code == 200
    assert response.json == r["profile"]
    assert response.json["assurance_level"] == 1
    assert isinstance(response.json["assurance_level"], int)


def test_me_refreshes_a_stale_stored_assurance_level(client):
    r = resident(client)
    person = db.session.get(Person, r["profile"]["id"])
    person.assurance_level = 3  # as if the credential behind it had lapsed unnoticed
    db.session.commit()
    assert client.get("/api/v1/me", headers=r["headers"]).json["assurance_level"] == 1
    db.session.expire_all()
    assert db.session.get(Person, r["profile"]["id"]).assurance_level == 1


def test_me_needs_a_residents_access_token(client):
    response = client.get("/api/v1/me")
    assert response.status_code == 401 and response.mimetype == PROBLEM
    assert response.headers["WWW-Authenticate"] == "Bearer"
    machine = client_token("sp-1", "service-point")["access_token"]
    assert client.get("/api/v1/me", headers=auth_headers(machine)).status_code == 403
    assert client.get("/api/v1/me", headers=auth_headers("not-a-token")).status_code == 401


def test_me_for_a_person_who_is_gone_is_401(client):
    r = resident(client)
    db.session.delete(db.session.get(Person, r["profile"]["id"]))
    db.session.commit()
    response = client.get("/api/v1/me", headers=r["headers"])
    assert response.status_code == 401 and response.json["type"].endswith("/invalid-token")


def test_the_openapi_document_describes_identity(client):
    spec = client.get("/api/openapi.json").json
    paths = spec["paths"]
    for path, method in [("/api/v1/residents", "post"), ("/api/v1/auth/login", "post"),
                         ("/api/v1/auth/refresh", "post"), ("/api/v1/auth/logout", "post"),
                         ("/api/v1/auth/totp", "post"), ("/api/v1/auth/totp/confirm", "post"),
                         ("/api/v1/me", "get")]:
        assert method in paths[path], path
    assert paths["/api/v1/me"]["get"]["security"] == [{"bearerAuth": []}]
    assert paths["/api/v1/auth/logout"]["post"]["security"] == [{"bearerAuth": []}]
    assert "security" not in paths["/api/v1/residents"]["post"]
    registration = paths["/api/v1/residents"]["post"]
    assert {"201", "409", "422"} <= set(registration["responses"])
    assert {"401", "429"} <= set(paths["/api/v1/auth/login"]["post"]["responses"])
    schemas = spec["components"]["schemas"]
    assert set(schemas["Registration"]["required"]) == {"name", "id_number", "phone", "password"}
    assert "assurance_level" in schemas["Profile"]["properties"]
    assert "password" not in schemas["Profile"]["properties"]
