"""Where a request's time goes: the hot routes run in-process under pyinstrument.

    DATABASE_URL=postgresql://... REDIS_URL=redis://... .venv/bin/python bench/profile_routes.py [route]

route is one of code, scans, login (default: all). Prints each profile's call tree; the
test client stands in for gunicorn, so the tree is the app's own work.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import bench_env, fresh_database, require_services  # noqa: E402


def main() -> None:
    from pyinstrument import Profiler

    wanted = sys.argv[1:] or ["code", "scans", "login"]
    database_url, redis_url = require_services()
    os.environ.update(bench_env(fresh_database(database_url, "profile"), redis_url, CODE_TTL_SECONDS=60))
    import json

    from flask_migrate import upgrade

    from app import create_app
    from tests.helpers import registration_data

    app = create_app()
    with app.app_context():
        upgrade()
    client = app.test_client()
    person = registration_data()
    assert client.post("/api/v1/residents", json=person).status_code == 201
    login = {"username": person["phone"], "password": person["password"]}
    headers = {"Authorization": "Bearer " + client.post("/api/v1/auth/login", json=login).json["access_token"]}
    sp = json.loads(app.test_cli_runner().invoke(
        args=["service-point", "create", "Profile counter", "--purpose", "identity-check"]).output)
    sp_headers = {"Authorization": "Bearer " + client.post("/api/v1/service-points/token", json=sp).json["access_token"]}

    def profile(name, n, fn):
        fn()  # warm up
        profiler = Profiler(interval=0.0002)
        profiler.start()
        for _ in range(n):
            fn()
        profiler.stop()
        print(f"\n===== {name}: {n} requests, {profiler.last_session.duration / n * 1000:.3f} ms each")
        print(profiler.output_text(unicode=False, color=False, show_all=False))

    if "code" in wanted:
        profile("GET /me/code (cached code)", 2000, lambda: client.get("/api/v1/me/code", headers=headers))
    if "scans" in wanted:
        from sqlalchemy import select

        from core.extensions import db
        from codes.service import issue_code
        from identity.models import Person

        with app.app_context():
            handle = db.session.scalar(select(Person.handle))
            codes = iter([issue_code(handle).code for _ in range(501)])

        def scan():
            response = client.post("/api/v1/scans", json={"code": next(codes), "purpose": "identity-check"},
                                   headers=sp_headers)
            assert response.status_code == 201, response.json
        profile("POST /scans", 500, scan)
    if "login" in wanted:
        profile("POST /auth/login", 40, lambda: client.post("/api/v1/auth/login", json=login))


if __name__ == "__main__":
    main()
