"""The acceptance path as a person types it: the aws CLI against the local endpoint."""

import json
import os
import subprocess
import sys
import time

import asl

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")
AWS = os.path.join(os.path.dirname(sys.executable), "aws")


def aws(endpoint, *args):
    out = subprocess.run([AWS, "--endpoint-url", endpoint, "--output", "json", *args], check=True,
                         capture_output=True, text=True, timeout=60)
    return json.loads(out.stdout) if out.stdout.strip() else None


def test_aws_lambda_invoke_runs_the_real_bootstrap(endpoint, tmp_path):
    out = tmp_path / "out.json"
    meta = aws(endpoint, "lambda", "invoke", "--function-name", "probe", "--payload", '{"action":"context"}', str(out))
    assert meta["StatusCode"] == 200 and "FunctionError" not in meta
    seen = json.loads(out.read_text())
    assert seen["functionArn"].endswith(":function:probe") and int(seen["pid"]) > 0


def test_aws_stepfunctions_task_completes_and_catches_by_error_type(endpoint, tmp_path):
    definition = tmp_path / "machine.json"
    definition.write_text(asl.load(os.path.join(FIXTURES, "probe-catch.asl.json"),
                                   {"ProbeFunctionArn": "arn:aws:lambda:us-east-1:123456789012:function:probe"}))
    machine = aws(endpoint, "stepfunctions", "create-state-machine", "--name", f"cli-{int(time.time() * 1000)}",
                  "--role-arn", "arn:aws:iam::123456789012:role/r", "--definition", f"file://{definition}")
    results = {}
    for label, payload in (("ok", {"action": "echo", "x": 1}),
                           ("caught", {"action": "fail", "errorType": "Analemma.InvalidEvent"})):
        run = aws(endpoint, "stepfunctions", "start-execution", "--state-machine-arn", machine["stateMachineArn"],
                  "--input", json.dumps(payload))
        for _ in range(300):
            d = aws(endpoint, "stepfunctions", "describe-execution", "--execution-arn", run["executionArn"])
            if d["status"] != "RUNNING":
                break
            time.sleep(0.1)
        results[label] = d
    assert results["ok"]["status"] == "SUCCEEDED"
    assert json.loads(results["ok"]["output"]) == {"action": "echo", "x": 1}
    assert results["caught"]["status"] == "SUCCEEDED"
    assert json.loads(results["caught"]["output"])["caught"]["Error"] == "Analemma.InvalidEvent"
