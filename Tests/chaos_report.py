"""`make chaos`'s figures, one line per rate, from the JSON lines test_chaos.py appended; exits 1 unless every
execution was correct and no invariant was violated at every rate."""

import json
import sys


def main(path):
    rows = [json.loads(line) for line in open(path)]
    ok = bool(rows)
    for r in rows:
        print(f"chaos {r['rate']:.0%}: executions correct {r['correct']}/{r['executions']}, faults injected {r['faults']} "
              f"in {r['calls']} calls, invariant violations {r['violations']}")
        ok = ok and r["correct"] == r["executions"] and r["violations"] == 0
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
