"""Micro-benchmark of the code format, in one process: signs/s and offline verifies/s beside
raw Ed25519 verifies/s measured in the same run, so the ratio compares across machines.

    .venv/bin/python bench/bench_codes.py [--seconds 2]

Offline verification (``codes.format.verify_code``: base45, CBOR, header, signature, claims,
expiry) should reach at least 80% of the raw verify rate: the signature dominates.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: E402

from codes.format import Claims, CodeSigner, Keyring, new_cti, parse_code, sig_structure, verify_code  # noqa: E402
from codes.render import make_qr, render  # noqa: E402


def rate(fn, seconds: float) -> float:
    """Calls per second of ``fn`` over about ``seconds`` (batches of 200, best of three)."""
    best = 0.0
    for _ in range(3):
        calls, started = 0, time.perf_counter()
        deadline = started + seconds / 3
        while True:
            for _ in range(200):
                fn()
            calls += 200
            now = time.perf_counter()
            if now >= deadline:
                break
        best = max(best, calls / (now - started))
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="time spent on each figure")
    args = parser.parse_args()

    key = Ed25519PrivateKey.generate()
    public = key.public_key()
    signer = CodeSigner("ab3dk9", key)
    keyring = Keyring({"ab3dk9": public})
    exp = int(time.time()) + 30
    claims = Claims("k3m9p2q7x4", exp, new_cti())
    code = signer.sign(claims)
    signed = parse_code(code)
    message = sig_structure(signed.protected, signed.payload)
    signature = signed.signature
    now = time.time()

    raw_verify = rate(lambda: public.verify(signature, message), args.seconds)
    raw_sign = rate(lambda: key.sign(message), args.seconds)
    signs = rate(lambda: signer.sign(Claims("k3m9p2q7x4", exp, new_cti())), args.seconds)
    verifies = rate(lambda: verify_code(code, keyring, now), args.seconds)
    renders = rate(lambda: render(code, "png"), min(args.seconds, 1.0))

    print(f"code: {len(code)} characters, QR version {make_qr(code).version} at M")
    print(f"raw Ed25519 sign        {raw_sign:10.0f} /s  {1e6 / raw_sign:7.1f} µs")
    print(f"sign a code             {signs:10.0f} /s  {1e6 / signs:7.1f} µs  "
          f"({signs / raw_sign:.0%} of raw sign)")
    print(f"raw Ed25519 verify      {raw_verify:10.0f} /s  {1e6 / raw_verify:7.1f} µs")
    print(f"verify a code offline   {verifies:10.0f} /s  {1e6 / verifies:7.1f} µs  "
          f"({verifies / raw_verify:.0%} of raw verify)")
    print(f"render a PNG            {renders:10.0f} /s  {1e3 / renders:7.2f} ms")
    print(f"ratio verify/raw: {verifies / raw_verify:.2f}")


if __name__ == "__main__":
    main()
