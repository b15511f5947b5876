"""The README's "Try it" block runs as it stands, on a fresh copy of the repository.

The block is taken from README.md between its markers and run with bash, unchanged, in a copy
of the working tree without ``instance/`` (a fresh clone: no database, no secrets yet), with
``PORT`` a free port. Its ``make run`` runs for real, with one difference from a fresh clone:
``STAMP`` (passed through ``MAKEFLAGS``) names a stamp newer than the requirements, so make
does not install again into the virtualenv this suite runs in (``make test`` just did).
Everything else, the migration, the seed, gunicorn, every curl, is what a newcomer runs.
It ends with the scan's answer; each earlier step's answer is checked too.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
_LEFT_OUT = shutil.ignore_patterns(".venv", "instance", ".git", "__pycache__", ".pytest_cache",
                                   ".hypothesis", "results")

pytestmark = pytest.mark.xdist_group("try-it")


def try_it_block() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("<!-- try it: begin -->", 1)[1].split("<!-- try it: end -->", 1)[0]
    lines = section.strip().splitlines()
    assert lines[0] == "```sh" and lines[-1] == "```", "the block is one ```sh fence"
    return "\n".join(lines[1:-1]) + "\n"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _json_lines(output: str) -> list:
    found = []
    for line in output.splitlines():
        try:
            found.append(json.loads(line))
        except ValueError:
            pass
    return found


def test_the_block_starts_with_make_run_and_takes_everything_from_answers():
    block = try_it_block()
    assert "make run" in block and "$ACCESS" in block and "$SP" in block
    assert "..." not in block and "<" not in block.replace("2> /dev/null", "")  # no placeholders
    assert "jq" not in block


@pytest.mark.skipif(shutil.which("make") is None or shutil.which("curl") is None,
                    reason="needs make and curl")
def test_the_try_it_block_runs_as_pasted(tmp_path):
    clone = tmp_path / "onecode"
    shutil.copytree(ROOT, clone, ignore=_LEFT_OUT, symlinks=True)  # copy2: mtimes kept
    (clone / ".venv").symlink_to(Path(sys.prefix))
    stamp = tmp_path / "installed-stamp"
    stamp.touch()  # newer than every requirements file copied above
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "ENCRYPTION_KEY", "PUBLIC_URL")}
    env.update(PORT=str(_free_port()), MAKEFLAGS=f"STAMP={stamp}", WEB_CONCURRENCY="1")
    process = subprocess.Popen(["bash", "-e", "-o", "pipefail", "-c", try_it_block()],
                               cwd=clone, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True, start_new_session=True)
    try:
        output, _ = process.communicate(timeout=120)
    finally:
        try:
            os.killpg(process.pid, signal.SIGTERM)  # make run and gunicorn, left in the background
        except ProcessLookupError:
            pass
        process.wait()
    log = (clone / "instance" / "run.log")
    detail = output + "\n--- instance/run.log ---\n" + (log.read_text() if log.exists() else "")
    assert process.returncode == 0, detail
    wallet, notices, verified, scanned = _json_lines(output)[-4:]
    assert "driver-licence" in [c["type"] for c in wallet["certificates"]], detail
    assert any(n["kind"] == "credential" for n in notices), detail
    assert verified["valid"] is True and verified["disclosed"] == {"name": "张三丰", "class": "C1"}, detail
    assert scanned["scan_id"] and scanned["subject"]["kind"] == "person", detail
    assert scanned["subject"]["display_name"].startswith("张"), detail


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_make_run_says_what_it_does_while_it_installs(tmp_path):
    # -n: what make would run when the virtualenv is not installed yet (no stamp), run nothing
    planned = subprocess.run(["make", "-n", "run", f"STAMP={tmp_path / 'not-installed'}"],
                             cwd=ROOT, capture_output=True, text=True, check=True).stdout
    lines = planned.splitlines()
    first_install = next(i for i, line in enumerate(lines) if "pip install" in line)
    assert any("make: installing" in line for line in lines[:first_install])
    assert any("echo" in line and "installed" in line for line in lines)
