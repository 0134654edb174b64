"""Seed corpus for `make fuzz`: real inputs of each decoder, prefixed with its selector byte (FuzzTargets.names)."""

import glob
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def seeds():
    for path in sorted(glob.glob(os.path.join(ROOT, "Deploy", "examples", "workflows", "*.json"))) + sorted(
            glob.glob(os.path.join(ROOT, "Tests", "AnalemmaTests", "Fixtures", "workflows", "*.json"))):
        yield 0, open(path, "rb").read()
    for path in sorted(glob.glob(os.path.join(ROOT, "Functions", "*", "events", "*.json"))):
        yield 1, open(path, "rb").read()
        yield 4, open(path, "rb").read()
        yield 5, open(path, "rb").read()
    yield 2, b"v1.team-a.4102444800." + b"0" * 64
    yield 2, b"v1.a.b.c.1.deadbeef"
    yield 3, b"s3://b/owners/team-a/blocks/" + b"a" * 64
    yield 3, b"s3://b/owners/team-a/../team-b/x"


def main(out):
    os.makedirs(out, exist_ok=True)
    n = 0
    for i, (selector, body) in enumerate(seeds()):
        with open(os.path.join(out, f"seed-{i:03d}"), "wb") as f:
            f.write(bytes([selector]) + body)
        n += 1
    print(f"{n} seeds in {out}")


if __name__ == "__main__":
    main(sys.argv[1])
