"""`make fuzz`: libFuzzer over the kernel's decoders (Tests/Fuzz/FuzzTargets.swift) for a bounded time.

Seeds from real inputs (seeds.py), findings (crashing inputs) kept in .local/fuzz/findings; reproduce one with the
plain build: `.build/release/analemma-fuzz <file>`. Prints JSON lines; exits 1 on a finding.
"""

import argparse
import json
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import seeds  # noqa: E402


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--seconds", type=int, default=60)
    p.add_argument("--binary", default=os.path.join(ROOT, ".build-fuzz", "release", "analemma-fuzz"))
    p.add_argument("--work", default=os.path.join(ROOT, ".local", "fuzz"))
    args = p.parse_args()
    corpus, findings = os.path.join(args.work, "corpus"), os.path.join(args.work, "findings")
    seeds.main(corpus)
    os.makedirs(findings, exist_ok=True)
    before = set(os.listdir(findings))
    r = subprocess.run([args.binary, corpus, f"-max_total_time={args.seconds}", "-rss_limit_mb=2048", "-max_len=65536",
                        "-timeout=10", f"-artifact_prefix={findings}/", "-print_final_stats=1"],
                       capture_output=True, text=True, timeout=args.seconds + 300)
    runs = int(m.group(1)) if (m := re.search(r"Done (\d+) runs", r.stderr)) else 0
    new = sorted(set(os.listdir(findings)) - before)
    line = {"suite": "fuzz", "inputs": runs, "crashes": len(new), "violations": len(new), "seconds": args.seconds}
    print(json.dumps({"bench": "fuzz", "metric": "inputs", "value": runs, "unit": "inputs"}))
    print(json.dumps({"bench": "fuzz", "metric": "findings", "value": len(new), "unit": "inputs"}))
    if os.environ.get("ANALEMMA_RELIABILITY_REPORT"):
        with open(os.environ["ANALEMMA_RELIABILITY_REPORT"], "a") as f:
            f.write(json.dumps(line) + "\n")
    if new or (r.returncode != 0 and runs == 0):
        print(r.stderr[-3000:], file=sys.stderr)
        print(f"fuzz: {len(new)} finding(s) in {findings}: {new}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
