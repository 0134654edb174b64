"""Integration tests against the local stack over the real wire (boto3, aws CLI, raw HTTP).

`make integration` starts a fresh stack and sets ANALEMMA_ENDPOINT; without it these tests fail loudly
instead of silently skipping.
"""

import json
import os
import sys
import urllib.request

import boto3
import pytest
from botocore.config import Config

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "Deploy", "local"))
sys.path.insert(0, os.path.join(ROOT, "Deploy"))
os.environ.setdefault("AWS_ACCESS_KEY_ID", "test")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "test")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")


def _endpoint():
    url = os.environ.get("ANALEMMA_ENDPOINT")
    if not url:
        pytest.fail("ANALEMMA_ENDPOINT is not set: run the integration tests through `make integration`")
    return url


@pytest.fixture(scope="session")
def endpoint():
    return _endpoint()


@pytest.fixture(scope="session")
def state_dir():
    return os.path.join(ROOT, os.environ.get("ANALEMMA_STATE_DIR", ".local/test"))


def client(service, endpoint):
    return boto3.client(service, endpoint_url=endpoint, region_name="us-east-1",
                        config=Config(read_timeout=120, retries={"max_attempts": 0}))


@pytest.fixture(scope="session")
def lam(endpoint):
    return client("lambda", endpoint)


@pytest.fixture(scope="session")
def sfn(endpoint):
    return client("stepfunctions", endpoint)


@pytest.fixture(scope="session")
def s3(endpoint):
    return client("s3", endpoint)


def invoke(lam, payload, name="probe", **kwargs):
    """Invokes and returns (response, decoded JSON payload)."""
    r = lam.invoke(FunctionName=name, Payload=json.dumps(payload).encode(), **kwargs)
    body = r["Payload"].read()
    return r, json.loads(body) if body else None


def raw_invoke(endpoint, name, payload, headers=None):
    """The Invoke API over plain HTTP, for headers boto3 does not expose. Returns (status, headers, body)."""
    req = urllib.request.Request(f"{endpoint}/2015-03-31/functions/{name}/invocations", data=payload,
                                 method="POST", headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def wait_execution(sfn, execution_arn, seconds=120, fail=True):
    """DescribeExecution once it is no longer RUNNING; after `seconds` fails the test (or, with fail=False, answers
    a RUNNING description saying so)."""
    import time
    deadline = time.time() + seconds
    while time.time() < deadline:
        d = sfn.describe_execution(executionArn=execution_arn)
        if d["status"] != "RUNNING":
            return d
        time.sleep(0.1)
    if not fail:
        return {"status": "RUNNING", "cause": f"still running after {seconds} s"}
    pytest.fail(f"{execution_arn} still RUNNING after {seconds} s")


def functions_state(endpoint):
    with urllib.request.urlopen(f"{endpoint}/_analemma/functions", timeout=10) as r:
        return json.loads(r.read())


def pytest_runtest_logreport(report):
    """`make reliability`: one line per bad-input case (ANALEMMA_RELIABILITY_REPORT), failed cases counted as violations;
    a crashed instance fails its case (the error must be a coded Analemma.* error from a live instance)."""
    path = os.environ.get("ANALEMMA_RELIABILITY_REPORT")
    if not path or report.when != "call":
        return
    for name, suite in (("test_instance_death.py", "instance-death"), ("test_long_runs.py", "long-runs"),
                        ("test_continue_as_new.py", "continue-as-new")):
        if name in report.nodeid:
            with open(path, "a") as f:
                f.write(json.dumps({"suite": suite, "scenarios": 1, "violations": int(report.failed)}) + "\n")
            return
    suites = {"test_bad_events_get": "bad-input", "test_a_forged_identifier_is_refused": "forged-identifiers"}
    suite = next((name for test, name in suites.items() if test in report.nodeid), None)
    if suite is None:
        return
    crashed = report.failed and any(word in str(report.longrepr) for word in ("Runtime.ExitError", "Sandbox.Timedout"))
    with open(path, "a") as f:
        f.write(json.dumps({"suite": suite, "bad_inputs": 1, "violations": int(report.failed), "crashes": int(crashed),
                            "case": report.nodeid.split("::", 1)[1]}) + "\n")
