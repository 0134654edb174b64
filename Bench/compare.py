"""Runs `Bench/run.py` alternately on two sets of binaries (a baseline and a candidate), N runs each, and reports
per line both spreads: "within" when the candidate's [min, max] overlaps the baseline's. The order alternates
(base-candidate, candidate-base, …): the second run of a pair measured slower on this machine whichever build it
was, so a fixed order would read as a difference between the builds.

  python Bench/compare.py --baseline .build-old/release --candidate .build/release --runs 3 [-- run.py args]
"""

import argparse
import json
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def run(bin_dir, extra):
    out = subprocess.run([sys.executable, os.path.join(HERE, "run.py"), "--bin-dir", bin_dir, *extra],
                         check=True, capture_output=True, text=True)
    lines = {}
    for line in out.stdout.splitlines():
        if line.startswith("{"):
            r = json.loads(line)
            lines[(r["bench"], r["metric"])] = (r["value"], r["unit"])
    return lines


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--baseline", required=True)
    p.add_argument("--candidate", required=True)
    p.add_argument("--runs", type=int, default=3)
    args, extra = p.parse_known_args()
    extra = [a for a in extra if a != "--"]
    base, cand = [], []
    for i in range(args.runs):
        if i % 2 == 0:
            base.append(run(args.baseline, extra))
            cand.append(run(args.candidate, extra))
        else:
            cand.append(run(args.candidate, extra))
            base.append(run(args.baseline, extra))
        print(f"# run {i + 1} of {args.runs} done", file=sys.stderr, flush=True)
    outside = 0
    for key in sorted(set(base[0]) & set(cand[0])):
        b = [r[key][0] for r in base if key in r]
        c = [r[key][0] for r in cand if key in r]
        unit = base[0][key][1]
        overlap = min(c) <= max(b) and max(c) >= min(b)
        outside += not overlap
        print(json.dumps({"bench": key[0], "metric": key[1], "unit": unit, "baseline_min": min(b), "baseline_max": max(b),
                          "candidate_min": min(c), "candidate_max": max(c), "candidate_median": statistics.median(c),
                          "within": overlap}), flush=True)
    print(json.dumps({"lines_outside": outside}), flush=True)


if __name__ == "__main__":
    main()
