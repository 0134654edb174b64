"""Runs a benchmark alternately on a baseline and a candidate, N runs each, and reports per line both spreads:
"within" when the candidate's [min, max] overlaps the baseline's. The order alternates (base-candidate,
candidate-base, …): the second run of a pair measured slower on this machine whichever build it was, so a fixed
order would read as a difference between the builds.

Each side is either a directory of binaries (run with this checkout's `Bench/run.py`) or a whole checkout of
another commit (a `git worktree` with its `.venv` and `.build/release` built): then that checkout's own `run.py`
runs its own binaries and stack, so code from before a change is measured with the bench it shipped with. Lines
only one side prints are listed as such, never compared.

  python Bench/compare.py --baseline .build-old/release --candidate .build/release --runs 3 [-- run.py args]
  python Bench/compare.py --baseline /tmp/before --candidate /tmp/after --runs 3 --out compare.jsonl
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def command(side, extra):
    """The command line that benchmarks one side: a checkout's own bench, or this bench on a binary directory."""
    own = os.path.join(side, "Bench", "run.py")
    if os.path.isfile(own):
        py = os.path.join(side, ".venv", "bin", "python")
        return [py if os.path.exists(py) else sys.executable, own, "--bin-dir", os.path.join(side, ".build", "release"),
                *extra]
    return [sys.executable, os.path.join(HERE, "run.py"), "--bin-dir", side, *extra]


def run(side, extra):
    side = os.path.abspath(side)
    cwd = side if os.path.isfile(os.path.join(side, "Bench", "run.py")) else None
    # Older benches made some of their local-stack clients with the environment's credentials: give them the stack's.
    env = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_DEFAULT_REGION": "us-east-1", **os.environ}
    out = subprocess.run(command(side, extra), capture_output=True, text=True, cwd=cwd, env=env)
    if out.returncode != 0:
        sys.exit(f"{side}: the bench failed ({out.returncode}):\n{out.stderr[-4000:]}")
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
    p.add_argument("--out", help="also write every run's lines and the comparison to this file")
    p.add_argument("--page", help="write the comparison as a Markdown page (generated, never edited by hand)")
    p.add_argument("--replay", help="compare the runs recorded in this --out file instead of running the benches")
    args, extra = p.parse_known_args()
    extra = [a for a in extra if a != "--"]
    log = open(args.out, "w") if args.out and not args.replay else None

    def say(obj):
        print(json.dumps(obj), flush=True)
        if log:
            log.write(json.dumps(obj) + "\n")
            log.flush()

    base, cand = [], []
    if args.replay:
        base, cand = replay(args.replay)
        args.runs = len(base)
    for i in range(0 if args.replay else args.runs):
        if i % 2 == 0:
            base.append(run(args.baseline, extra))
            cand.append(run(args.candidate, extra))
        else:
            cand.append(run(args.candidate, extra))
            base.append(run(args.baseline, extra))
        for side, runs in (("baseline", base), ("candidate", cand)):
            for (bench, metric), (value, unit) in sorted(runs[-1].items()):
                if log:
                    log.write(json.dumps({"run": i + 1, "side": side, "bench": bench, "metric": metric, "value": value,
                                          "unit": unit}) + "\n")
        print(f"# run {i + 1} of {args.runs} done", file=sys.stderr, flush=True)
    for side, mine, theirs in (("baseline", base, cand), ("candidate", cand, base)):
        for key in sorted(set(mine[0]) - set(theirs[0])):
            say({"bench": key[0], "metric": key[1], "only_in": side})
    outside = 0
    for key in sorted(set(base[0]) & set(cand[0])):
        b = [r[key][0] for r in base if key in r]
        c = [r[key][0] for r in cand if key in r]
        unit = base[0][key][1]
        overlap = min(c) <= max(b) and max(c) >= min(b)
        outside += not overlap
        say({"bench": key[0], "metric": key[1], "unit": unit, "baseline_min": min(b), "baseline_max": max(b),
             "candidate_min": min(c), "candidate_max": max(c), "candidate_median": statistics.median(c),
             "within": overlap})
    say({"lines_compared": len(set(base[0]) & set(cand[0])), "lines_outside": outside})
    if args.page:
        with open(args.page, "w") as f:
            f.write(page(args, base, cand))


def replay(path):
    """The baseline's and the candidate's runs from an --out file."""
    runs = {"baseline": {}, "candidate": {}}
    with open(path) as f:
        for line in f:
            r = json.loads(line)
            if "run" in r:
                runs[r["side"]].setdefault(r["run"], {})[(r["bench"], r["metric"])] = (r["value"], r["unit"])
    return ([runs[side][k] for k in sorted(runs[side])] for side in ("baseline", "candidate"))


def describe(side):
    """A side as its commit and the files changed in its checkout, or as its path (a binary directory)."""
    side = os.path.abspath(side)
    out = subprocess.run(["git", "-C", side, "log", "-1", "--format=%h %s"], capture_output=True, text=True)
    if out.returncode != 0 or not os.path.isfile(os.path.join(side, "Bench", "run.py")):
        return f"binaries in `{side}`"
    changed = subprocess.run(["git", "-C", side, "status", "--short", "--untracked-files=no"], capture_output=True,
                             text=True).stdout.split()[1::2]
    return f"`{out.stdout.strip()[:100]}`" + (f", with changes to {', '.join(f'`{c}`' for c in changed)}" if changed else "")


def page(args, base, cand):
    """The comparison as Markdown: per line both spreads and whether they overlap."""
    rows = [f"# Side-by-side benchmark: {args.runs} runs each, alternating",
            "",
            "Generated by `Bench/compare.py`; do not edit by hand. A line is *within* when the candidate's [min, max]",
            "overlaps the baseline's.",
            "",
            f"- baseline: {describe(args.baseline)}",
            f"- candidate: {describe(args.candidate)}",
            f"- machine: {os.cpu_count()} cores, {time.strftime('%Y-%m-%d', time.gmtime())}",
            "",
            "| bench | metric | unit | baseline min – max | candidate min – max | within |",
            "|---|---|---|---:|---:|---|"]
    for key in sorted(set(base[0]) & set(cand[0])):
        b = [r[key][0] for r in base if key in r]
        c = [r[key][0] for r in cand if key in r]
        within = min(c) <= max(b) and max(c) >= min(b)
        rows.append(f"| {key[0]} | {key[1]} | {base[0][key][1]} | {min(b):g} – {max(b):g} | {min(c):g} – {max(c):g} | "
                    f"{'yes' if within else '**no**'} |")
    for side, mine, theirs in (("baseline", base, cand), ("candidate", cand, base)):
        only = sorted(set(mine[0]) - set(theirs[0]))
        if only:
            rows += ["", f"Only the {side} printed: " + ", ".join(f"`{b}.{m}`" for b, m in only) + "."]
    return "\n".join(rows) + "\n"


if __name__ == "__main__":
    main()
