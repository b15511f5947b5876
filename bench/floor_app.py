"""The floor of a scan: what any durable scan must cost, and nothing else.

Verify the code's Ed25519 signature (the JWKS in FLOOR_JWKS_FILE), gate single use with Redis
``SET NX``, write one row (unique nonce) and commit synchronously. FLOOR_DB_WRITE=0 leaves the
write out (verify + SET NX only). Served by bench/bench_scan_path.py under the repository's
gunicorn settings, beside the real scan.
"""
import json
import os
import time

import redis
from flask import Flask, request
from sqlalchemy import create_engine, text

from codes.format import CodeError, Keyring, verify_code

app = Flask(__name__)
keyring = Keyring.from_jwks(json.load(open(os.environ["FLOOR_JWKS_FILE"])))
store = redis.Redis.from_url(os.environ["REDIS_URL"])
engine = create_engine(os.environ["DATABASE_URL"].replace("postgresql://", "postgresql+psycopg://"),
                       pool_size=10, max_overflow=10)
WRITE = os.environ.get("FLOOR_DB_WRITE", "1") == "1"


@app.post("/floor/scans")
def floor_scan():
    try:
        claims = verify_code(request.get_json()["code"], keyring, time.time())
    except CodeError:
        return {"error": "invalid"}, 422
    if not store.set(f"floor:{{{claims.cti.hex()}}}", 1, nx=True, ex=120):
        return {"error": "used"}, 409
    if WRITE:
        with engine.begin() as connection:
            connection.execute(text("INSERT INTO floor_scans (nonce, sub, at) "
                                    "VALUES (:n, :s, now())"), {"n": claims.cti.hex(), "s": claims.sub})
    return {"subject": claims.sub}, 201
