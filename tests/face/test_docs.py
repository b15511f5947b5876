"""The API document shows the face routes' multipart bodies and their problems."""


def test_the_multipart_bodies_are_documented_whole(client):
    spec = client.get("/api/openapi.json").json
    schemas = spec["components"]["schemas"]

    def body(path, method):
        ref = spec["paths"][path][method]["requestBody"]["content"]["multipart/form-data"]["schema"]
        return schemas[ref["$ref"].rsplit("/", 1)[-1]]

    enrolment = body("/api/v1/me/face", "put")
    assert set(enrolment["properties"]) == {"image", "consent", "password"}
    assert set(enrolment["required"]) == {"image", "password"}
    enrol_answers = spec["paths"]["/api/v1/me/face"]["put"]["responses"]
    assert "`reauthentication-required`" in enrol_answers["401"]["description"]
    assert "`too-many-attempts`" in enrol_answers["429"]["description"]
    face_login = body("/api/v1/auth/face/login", "post")
    assert set(face_login["required"]) == {"username", "challenge", "image", "device_id",
                                           "device_proof"}
    assert "HMAC-SHA256" in face_login["properties"]["device_proof"]["description"]
    assert set(body("/api/v1/scans/{scan_id}/face", "post")["required"]) == {"image"}
    login = spec["paths"]["/api/v1/auth/face/login"]["post"]["responses"]
    assert {"200", "401", "422", "429", "503"} <= set(login)
    assert "`device-required`" in login["401"]["description"]
    assert "409" in spec["paths"]["/api/v1/scans/{scan_id}/face"]["post"]["responses"]
