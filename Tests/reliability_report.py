"""`make reliability`: the figures from the lines the fault-plan, concurrency, bad-input and fuzz runs appended.

Exits 1 unless violations and crashes are 0 and every expected suite reported."""

import collections
import json
import sys

EXPECTED = ["commit", "gc/crash", "gc/lost-answer", "sweep/crash", "sweep/lost-answer", "concurrency/executions",
            "concurrency/one-head", "bad-input", "forged-identifiers", "bad-input/figures", "instance-death", "long-runs",
            "continue-as-new", "fuzz"]


def main(path):
    rows = collections.OrderedDict()
    for line in open(path):
        r = json.loads(line)
        t = rows.setdefault(r["suite"], collections.Counter())
        for k in ("scenarios", "fault_points", "violations", "bad_inputs", "crashes", "inputs", "clear_error", "state_changed",
                  "wrongly_allowed"):
            t[k] += r.get(k, 0)
        t["runs"] += 1
    print(f"{'suite':<24}{'runs':>6}{'scenarios':>11}{'fault points':>14}{'bad inputs':>12}{'fuzz inputs':>13}"
          f"{'violations':>12}{'crashes':>9}")
    for suite, t in rows.items():
        print(f"{suite:<24}{t['runs']:>6}{t['scenarios']:>11}{t['fault_points']:>14}{t['bad_inputs']:>12}{t['inputs']:>13}"
              f"{t['violations']:>12}{t['crashes']:>9}")
    total = sum(rows.values(), collections.Counter())
    print(f"{'total':<24}{total['runs']:>6}{total['scenarios']:>11}{total['fault_points']:>14}{total['bad_inputs']:>12}"
          f"{total['inputs']:>13}{total['violations']:>12}{total['crashes']:>9}")
    print(f"bad inputs and forged identifiers: {total['bad_inputs']} cases, {total['clear_error']} clear errors, {total['crashes']} crashes, "
          f"{total['state_changed']} changed state, {total['wrongly_allowed']} wrongly allowed")
    for key in ("scenarios", "fault_points", "bad_inputs", "inputs", "violations", "crashes", "clear_error", "state_changed",
                "wrongly_allowed"):
        print(json.dumps({"bench": "reliability", "metric": key, "value": total[key], "unit": "count"}))
    missing = [s for s in EXPECTED if s not in rows]
    if missing:
        print(f"reliability: no figures from {missing} (did those runs fail before reporting?)")
    ok = not missing and total["violations"] == 0 and total["crashes"] == 0 and total["state_changed"] == 0 \
        and total["wrongly_allowed"] == 0
    print("reliability: " + ("0 violations, 0 crashes" if ok else "FAILED"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
