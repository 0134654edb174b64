"""Runs a workflow file through the Analemma state machine with the plain aws CLI, and prints how it ends.

  python Deploy/run.py WORKFLOW.json [--input '{"topic": "…"}' | --input @input.json] [--owner ID]
                       [--answer '{"approval": "yes"}' ...] [--endpoint URL | --aws --state-machine-arn ARN]

Local (default, `make run`): talks to the local stack at --endpoint and creates its resources first.
AWS (--aws): the same execution input goes to your deployed state machine; the CLI uses your AWS profile.

The execution input is `{"owner_id": …, "workflow": <the file>, "input": <--input>}`; the script prints the exact
`aws stepfunctions start-execution` command it runs. When the workflow waits for a human, each --answer is sent
in turn with `aws stepfunctions send-task-success`; with none left, the script prints the question and the
command to answer it, and exits 2 (the execution keeps waiting until the node's timeout_seconds).
Exit status: 0 succeeded, 1 failed/timed out/aborted, 2 waiting for a human.
"""

import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "local"))


def aws(args, *command):
    """Runs the aws CLI and returns its JSON output."""
    argv = ["aws", *command, "--output", "json"]
    if not args.aws:
        argv[1:1] = ["--endpoint-url", args.endpoint, "--region", "us-east-1"]
    env = dict(os.environ)
    if not args.aws:
        env.setdefault("AWS_ACCESS_KEY_ID", "test")
        env.setdefault("AWS_SECRET_ACCESS_KEY", "test")
    bin_dir = os.path.dirname(sys.executable)  # the venv's aws CLI when run from it
    env["PATH"] = bin_dir + os.pathsep + env.get("PATH", "")
    r = subprocess.run(argv, capture_output=True, text=True, env=env)
    if r.returncode != 0:
        sys.exit(f"aws {' '.join(command[:2])} failed: {r.stderr.strip()}")
    return json.loads(r.stdout) if r.stdout.strip() else {}


def load_json(value, what):
    try:
        if value.startswith("@"):
            with open(value[1:]) as f:
                return json.load(f)
        return json.loads(value)
    except (OSError, ValueError) as e:
        sys.exit(f"{what}: {e}")


def pending_task(history):
    """(token, node) of a human task still waiting, from the execution history (newest first), else None."""
    for event in history:
        if event["type"] in ("TaskSucceeded", "TaskFailed", "TaskTimedOut", "TaskStateExited"):
            return None
        details = event.get("taskScheduledEventDetails")
        if details and details.get("resource") == "invoke.waitForTaskToken":
            payload = json.loads(details["parameters"])["Payload"]
            return payload["task_token"], payload["kernel"]["cursor"]["hitp"]["node"]
    return None


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("workflow")
    p.add_argument("--input", default="{}", help="state fields as JSON, or @file")
    p.add_argument("--owner", default="demo", help="owner_id (protected from then on)")
    p.add_argument("--answer", action="append", default=[], help="a human answer (JSON object, or @file), in order")
    p.add_argument("--endpoint", default=os.environ.get("ANALEMMA_ENDPOINT", "http://127.0.0.1:4566"))
    p.add_argument("--aws", action="store_true", help="use the real AWS account of your CLI profile")
    p.add_argument("--state-machine-arn", help="default: the local stack's analemma-workflow")
    p.add_argument("--timeout", type=float, default=600, help="seconds to wait for the end")
    args = p.parse_args()
    workflow = load_json("@" + args.workflow, "workflow")
    document = {"owner_id": args.owner, "workflow": workflow, "input": load_json(args.input, "--input")}
    if args.aws and not args.state_machine_arn:
        sys.exit("--aws needs --state-machine-arn (the deployed workflow state machine)")
    arn = args.state_machine_arn
    if not arn:
        import resources
        arn = resources.ensure(args.endpoint)["state_machine_arn"]
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(document, f)
    print(f"$ aws stepfunctions start-execution --state-machine-arn {arn} --input file://{f.name}")
    execution = aws(args, "stepfunctions", "start-execution", "--state-machine-arn", arn, "--input", f"file://{f.name}")["executionArn"]
    os.unlink(f.name)
    print(f"execution {execution}")
    answers = list(args.answer)
    deadline = time.time() + args.timeout
    answered = set()
    while time.time() < deadline:
        status = aws(args, "stepfunctions", "describe-execution", "--execution-arn", execution)
        if status["status"] != "RUNNING":
            break
        history = aws(args, "stepfunctions", "get-execution-history", "--execution-arn", execution)["events"]
        task = pending_task(sorted(history, key=lambda e: -e["id"]))
        if task and task[0] not in answered:
            token, node = task
            if not answers:
                question = "(see pending_human in the execution's state)"
                if not args.aws:
                    import state_reader
                    _, fields = state_reader.read_state(args.endpoint, execution, ["pending_human"])
                    if fields.get("pending_human", {}).get("task_token") != token:
                        time.sleep(0.3)  # the ask step is still recording the question
                        continue
                    question = fields["pending_human"]["question"]
                print(f"\nnode {node!r} asks:\n  {question}\nanswer with:\n  aws stepfunctions send-task-success "
                      f"--task-token {shlex.quote(token)} --task-output '{{...}}'")
                return 2
            answer = load_json(answers.pop(0), "--answer")
            print(f"answering {node!r}: {json.dumps(answer)}")
            aws(args, "stepfunctions", "send-task-success", "--task-token", token, "--task-output", json.dumps(answer))
            answered.add(token)
        time.sleep(0.3)
    else:
        print(f"still running after {args.timeout:.0f} s")
        return 1
    print(f"status {status['status']}")
    if status["status"] == "SUCCEEDED":
        print(json.dumps(json.loads(status["output"]).get("output"), indent=2))
        return 0
    print(f"error  {status.get('error')}\ncause  {status.get('cause')}")
    return 1


if __name__ == "__main__":
    sys.exit(main())
