"""Every benchmark in turn (`make bench`), each printing its own figures.

The load benchmarks need DATABASE_URL and REDIS_URL (PostgreSQL and Redis) and wrk; without
them only the in-process micro-benchmark of the code runs. Run on a quiet machine: the load
generator shares the cores with the server.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
IN_PROCESS = ["bench_codes.py"]
UNDER_LOAD = ["bench_server.py", "bench_wallet.py", "bench_oidc.py", "bench_catalog.py",
              "bench_face.py"]


def main() -> int:
    scripts = list(IN_PROCESS)
    if os.environ.get("DATABASE_URL") and os.environ.get("REDIS_URL") and shutil.which("wrk"):
        scripts += UNDER_LOAD
    else:
        print("DATABASE_URL, REDIS_URL or wrk missing: running the in-process benchmark only")
    failed = []
    for name in scripts:
        print(f"\n===== {name}", flush=True)
        if subprocess.run([sys.executable, str(BENCH / name)], cwd=BENCH.parent).returncode:
            failed.append(name)
    if failed:
        print("failed: " + ", ".join(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
