"""What a guess at a fingerprinted key costs: `python benchmarks/fingerprint.py`.

`divio-settings show` and the start-up line print a fingerprint of each signing key. Anyone who
reads one can test guesses of the key offline; each guess costs one fingerprint. Measured here:
milliseconds per fingerprint (scrypt, N=2**14, r=8, p=1: 16 MiB), the best of 7, against the
keyed BLAKE2b of 48 bits the library printed before (and for passwords too), in this process.
`--output FILE` stores the figures (benchmarks/results/fingerprint.json is the one SECURITY.md
quotes).
"""

from __future__ import annotations

import hashlib
import sys
import timeit
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from divio_settings import redaction


def former(secret: str) -> str:
    """The fingerprint before (public fixed key, BLAKE2b, 48 bits)."""
    key = b"divio-settings fingerprint v1"
    return hashlib.blake2b(secret.encode(), key=key, digest_size=6).hexdigest()


def per_guess(function: object, repeat: int, number: int) -> float:
    guesses = iter(f"Summer{year}" for year in range(10**9))
    fingerprint = redaction.fingerprint.__wrapped__ if function == "scrypt" else former
    timer = timeit.Timer(lambda: fingerprint(next(guesses)))
    return min(timer.repeat(repeat=repeat, number=number)) / number


def main() -> int:
    import argparse
    import json

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", help="store the figures in this JSON file")
    args = parser.parse_args()
    scrypt = per_guess("scrypt", repeat=7, number=5)
    blake = per_guess("blake2b", repeat=7, number=20_000)
    figures = {
        "scrypt_ms": round(scrypt * 1000, 1),
        "former_blake2b_us": round(blake * 1e6, 2),
        "ratio": round(scrypt / blake),
    }
    if args.output:
        from machine import machine

        with open(args.output, "w") as out:
            json.dump({"machine": machine(), **figures}, out, indent=1)
            out.write("\n")
    print(
        f"a guess costs {figures['scrypt_ms']} ms (scrypt), "
        f"{figures['former_blake2b_us']} µs before (BLAKE2b): {figures['ratio']:,} ×"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
