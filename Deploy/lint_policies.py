"""Lints the IAM policies of Deploy/template.yaml with parliament (duo-labs), after resolving the template's
intrinsics to concrete ARNs. A finding fails `make lint-template` unless it is listed in ACCEPTED with the reason.

  .venv/bin/python Deploy/lint_policies.py
"""

import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "local"))

from parliament import analyze_policy_string  # noqa: E402

import iam  # noqa: E402
import template  # noqa: E402

# (issue, action) -> why it stands
ACCEPTED = {
    ("RESOURCE_MISMATCH", "states:DescribeExecution"):
        "parliament wants every resource format of the action, including Express executions "
        "(express:<machine>:<id>:<id>); the workflow is a Standard state machine, whose executions are execution:<machine>:<id>",
}


def findings():
    roles = iam.Roles(template.load())
    for role, docs in roles.policies.items():
        for doc in docs:
            for f in analyze_policy_string(json.dumps(doc)).findings:
                details = f.detail if isinstance(f.detail, list) else [f.detail]
                for d in details:
                    action = d.get("action") if isinstance(d, dict) else None
                    yield role, f.issue, action, d


def main():
    failed = 0
    for role, issue, action, detail in findings():
        reason = ACCEPTED.get((issue, action))
        print(f"{'accepted' if reason else 'FINDING '} {role}: {issue} {action or ''} {detail if not reason else '- ' + reason}")
        failed += reason is None
    print(f"parliament: {failed} finding(s) not accepted in Deploy/template.yaml's policies")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
