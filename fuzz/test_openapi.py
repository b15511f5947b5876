"""``make fuzz``: requests generated from /api/openapi.json, sent to the app in process.

Each answer must be no 5xx and must match the document: a documented status code, a
documented content type, a body that fits the documented schema and the documented headers.
Routes that need a bearer token get a valid one of the kind they take (a demo resident's, a
demo service point's, a demo issuer's; a registered partner's Basic credentials on the OAuth
routes that authenticate a client), so their validation and their answers are exercised, not
only the 401 (which the generated cases without the header still reach).
Settings: ``fuzz/harness.py``.
"""
from __future__ import annotations

import schemathesis

from core.auth import RESIDENT
from fuzz.harness import (EXAMPLES, SEED, DemoTokens, Tally, TimeBox, bearer_kinds, build_app,
                          demo_ids)

CHECKS = ("not_a_server_error", "status_code_conformance", "content_type_conformance",
          "response_schema_conformance", "response_headers_conformance")

app = build_app()
tokens = DemoTokens(app)
kinds = bearer_kinds(app)
tally = Tally()
ids = demo_ids(app, tokens)
config = schemathesis.Config.from_dict({
    "seed": SEED,
    # Half the time a path parameter names something that exists.
    "dictionaries": {name: {"values": values} for name, values in ids.items()},
    "parameters": {f"path.{name}": {"dictionary": name, "probability": 0.5} for name in ids},
    "generation": {"max-examples": EXAMPLES, "database": "none"},
    "checks": {"enabled": False, **{name: {"enabled": True} for name in CHECKS}},
})
schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app, config=config)
time_box = TimeBox(len(list(schema.get_all_operations())))


@schema.parametrize()
def test_answers_match_the_document(case):
    operation = case.operation.label
    if not time_box.open(operation):
        return
    kind = kinds.get((case.operation.method.upper(), case.operation.path))
    response = case.call_and_validate(headers=tokens.header(kind))
    tally.note(operation, case.method.upper(), response.status_code)
    if kind == RESIDENT and case.path == "/api/v1/auth/logout" and response.status_code == 204:
        tokens.renew(RESIDENT)
