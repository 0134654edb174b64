"""Logs and metrics as AWS users expect them, from the real bootstraps: every JSON log line of every function carries
the keys AWS Lambda Powertools users filter on, and the kernel's figures are CloudWatch Embedded Metric Format lines
that hold to the format's rules (checked here from the AWS specification, independently of our own reader), summed by
`analemma metrics`."""

import glob
import json
import os
import subprocess

from conftest import ROOT
from test_workflows import example, start, wait, engine  # noqa: F401

# https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_MetricDatum.html (Unit)
UNITS = {"Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes", "Gigabytes", "Terabytes", "Bits",
         "Kilobits", "Megabits", "Gigabits", "Terabits", "Percent", "Count", "Bytes/Second", "Kilobytes/Second",
         "Megabytes/Second", "Gigabytes/Second", "Terabytes/Second", "Bits/Second", "Kilobits/Second", "Megabits/Second",
         "Gigabits/Second", "Terabits/Second", "Count/Second", "None"}
POWERTOOLS = ("service", "cold_start", "function_name", "function_memory_size", "function_arn", "function_request_id")


def json_lines(path):
    with open(path, errors="replace") as f:
        for line in f:
            start_at = line.find("{")
            if start_at < 0:
                continue
            try:
                yield json.loads(line[start_at:])
            except ValueError:
                continue


def check_emf(doc):
    """The EMF specification's rules for one document (raises AssertionError naming the broken one)."""
    aws = doc["_aws"]
    assert isinstance(aws["Timestamp"], int) and aws["Timestamp"] > 1_600_000_000_000, aws
    directives = aws["CloudWatchMetrics"]
    assert isinstance(directives, list) and directives
    for d in directives:
        assert isinstance(d["Namespace"], str) and 1 <= len(d["Namespace"]) <= 255
        assert all(isinstance(s, list) and len(s) <= 30 for s in d["Dimensions"])
        for name in {n for s in d["Dimensions"] for n in s}:
            assert isinstance(doc.get(name), str), f"dimension {name} is not a string member"
        assert 1 <= len(d["Metrics"]) <= 100
        for m in d["Metrics"]:
            assert set(m) <= {"Name", "Unit", "StorageResolution"} and m.get("Unit", "None") in UNITS, m
            value = doc.get(m["Name"])
            assert isinstance(value, (int, float)) and not isinstance(value, bool), f"{m['Name']} is not a number"


def test_every_log_line_has_the_powertools_keys_and_every_metric_line_is_valid_emf(sfn, endpoint, engine, state_dir):  # noqa: F811
    arn = start(sfn, engine, example("linear-5.json"), {"topic": "tides"})
    assert wait(sfn, arn)["status"] == "SUCCEEDED"
    logs = sorted(glob.glob(os.path.join(state_dir, "logs", "*.log")))
    seen, metric_lines, names = 0, 0, set()
    for path in logs:
        function = os.path.basename(path)[:-4]
        if function in ("stack", "probe", "probe-init-fail"):
            continue
        for doc in json_lines(path):
            if "_aws" in doc:
                check_emf(doc)
                metric_lines += 1
                names |= {m["Name"] for d in doc["_aws"]["CloudWatchMetrics"] for m in d["Metrics"]}
                continue
            if "level" not in doc:
                continue
            assert doc.get("service") == function and doc.get("function_name") == function, (path, doc)
            if "requestId" in doc:  # a line written while an invocation ran: every invocation key
                missing = [k for k in POWERTOOLS if k not in doc]
                assert not missing, (path, missing, doc)
                assert doc["function_request_id"] == doc["requestId"] and isinstance(doc["cold_start"], bool)
                assert isinstance(doc["function_memory_size"], int)
                seen += 1
    assert seen > 10 and metric_lines > 5
    assert {"CheckpointBytes", "CheckpointPuts", "HydratedBytes", "InputTokens", "ExecutionCostUSD"} <= names, names
    binary = os.path.join(ROOT, os.environ.get("ANALEMMA_BIN_DIR", ".build/release"), "analemma")
    r = subprocess.run([binary, "metrics", os.path.join(state_dir, "logs", "segment-runner.log")], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    report = [json.loads(line) for line in r.stdout.splitlines()]
    puts = next(m for m in report if m["metric"] == "CheckpointPuts" and m["dimensions"] == {"service": "segment-runner"})
    checkpoints = [d for d in json_lines(os.path.join(state_dir, "logs", "segment-runner.log")) if d.get("event") == "checkpoint" and "_aws" not in d]
    assert puts["count"] == len(checkpoints) >= 3 and puts["unit"] == "Count"  # one metric line per checkpoint event
    assert puts["sum"] == sum(int(d["s3_puts"]) for d in checkpoints)
    tokens = [m for m in report if m["metric"] == "InputTokens"]
    assert any("model" in m["dimensions"] for m in tokens) and all(m["sum"] > 0 for m in tokens)
