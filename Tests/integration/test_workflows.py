"""End to end: workflow files through StateMachines/workflow.asl.json on moto, reaching the real segment-runner
bootstrap through the local Lambda service; state read back the way the kernel stores it (Deploy/local/state_reader)."""

import copy
import glob
import json
import os
import subprocess
import sys
import time

import pytest

from conftest import ROOT, client, invoke, wait_execution

import resources  # Deploy/local
import state_reader

EXAMPLES = os.path.join(ROOT, "Deploy", "examples", "workflows")
CORPUS = sorted(glob.glob(os.path.join(ROOT, "Tests", "AnalemmaTests", "Fixtures", "workflows", "invalid-*.json")))
KERNEL_STATES = {"Initialize", "RunSegment", "Resume", "Finalize", "RecordFailure"}
LIMIT = 30 * 1024
with open(os.path.join(ROOT, "Functions", "segment-runner", "function.json")) as _f:
    CATALOG = json.loads(json.load(_f)["environment"]["MODEL_CATALOG"]["default"])
MODEL = {m["tier"]: m["id"] for m in CATALOG["models"]}  # one model per tier in the default catalog


def example(name):
    with open(os.path.join(EXAMPLES, name)) as f:
        return json.load(f)


@pytest.fixture(scope="module")
def engine(endpoint):
    return resources.ensure(endpoint)


@pytest.fixture(scope="module")
def aws_c(endpoint):
    return resources.clients(endpoint)


def start(sfn, engine, workflow, state_input, owner="team-a"):
    doc = {"owner_id": owner, "workflow": workflow, "input": state_input}
    return sfn.start_execution(stateMachineArn=engine["state_machine_arn"], input=json.dumps(doc))["executionArn"]


def wait(sfn, arn, seconds=60):
    return wait_execution(sfn, arn, seconds)


def history(sfn, arn):
    return sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]


def pending_token(sfn, endpoint, arn, seconds=30):
    """The task token of the human step, once the ask step has recorded it in state."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        _, fields = state_reader.read_state(endpoint, arn, ["pending_human"])
        if "pending_human" in fields:
            return fields["pending_human"]
        assert sfn.describe_execution(executionArn=arn)["status"] == "RUNNING"
        time.sleep(0.2)
    pytest.fail("no question was recorded")


def kernel_outputs(events):
    """Every payload a kernel step handed to the state machine (state outputs of the kernel Task states)."""
    return [(e["stateExitedEventDetails"]["name"], e["stateExitedEventDetails"]["output"])
            for e in events if "stateExitedEventDetails" in e and e["stateExitedEventDetails"]["name"] in KERNEL_STATES]


def assert_small_payloads(events):
    outputs = kernel_outputs(events)
    assert outputs, "no kernel step ran"
    for name, output in outputs:
        assert len(output.encode()) <= LIMIT, f"{name} returned {len(output)} bytes"


def aws_cli(endpoint, *args):
    env = dict(os.environ, AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test", AWS_DEFAULT_REGION="us-east-1")
    aws = os.path.join(os.path.dirname(sys.executable), "aws")
    return subprocess.run([aws, "--endpoint-url", endpoint, *args], capture_output=True, text=True, env=env, timeout=60)


def test_linear_five_nodes_runs_to_its_output(sfn, endpoint, engine):
    arn = start(sfn, engine, example("linear-5.json"), {"topic": "solar power"})
    d = wait(sfn, arn)
    assert d["status"] == "SUCCEEDED", d
    out = json.loads(d["output"])
    assert out["output"] == {
        "headline": "What changed in solar power this year?",
        "summary": {"text": f"[gemini-standin {MODEL['medium']}] Answer What changed in solar power this year? in three sentences.",
                    "steps": ["search", "read", "summarise"]}}
    assert out["owner_id"] == "team-a" and out["execution_id"] == arn and out["cursor"]["status"] == "done"
    m, fields = state_reader.read_state(endpoint, arn)
    assert fields["question"] == "What changed in solar power this year?" and fields["owner_id"] == "team-a"
    usage = fields["llm_usage"]
    assert usage["nodes"]["draft"]["model"] == MODEL["medium"] and usage["total"]["calls"] == 1
    assert usage["nodes"]["draft"]["input_tokens"] > 0 and usage["nodes"]["draft"]["output_tokens"] > 0
    # segments: [frame, plan] | [draft] | [headline, summarise]: three run steps after the first checkpoint
    assert m["segment_index"] == 3 and fields["cursor"]["step"] == 3
    assert_small_payloads(history(sfn, arn))


@pytest.mark.parametrize("severity,route", [("high", "paged on-call for DB down"), ("low", "queued DB down")])
def test_branching_takes_the_matching_edge(sfn, endpoint, engine, severity, route):
    arn = start(sfn, engine, example("branching.json"), {"ticket": {"title": "DB down", "severity": severity}})
    d = wait(sfn, arn)
    assert d["status"] == "SUCCEEDED", d
    out = json.loads(d["output"])["output"]
    assert out == {"severity": severity, "route_taken": route, "reply": f"[gemini-standin {MODEL['medium']}] Tell the customer: {route}"}
    _, fields = state_reader.read_state(endpoint, arn, ["cursor"])
    taken = "triage->page_oncall" if severity == "high" else "triage->queue"
    assert fields["cursor"]["traversals"][taken] == 1 and len(fields["cursor"]["traversals"]) == 3


def test_human_step_is_resumed_through_the_cli(sfn, endpoint, engine):
    arn = start(sfn, engine, example("research-brief.json"), {"topic": "tidal energy"})
    pending = pending_token(sfn, endpoint, arn)
    assert pending["node"] == "review" and pending["expects"] == ["approval", "notes"]
    assert pending["question"].startswith("Approve this draft?") and "tidal energy" in pending["question"]
    r = aws_cli(endpoint, "stepfunctions", "send-task-success", "--task-token", pending["task_token"],
                "--task-output", json.dumps({"approval": "yes", "notes": "ship it"}))
    assert r.returncode == 0, r.stderr
    d = wait(sfn, arn)
    assert d["status"] == "SUCCEEDED", d
    out = json.loads(d["output"])["output"]
    assert out["approval"] == "yes" and out["final"].endswith("Reviewer notes: ship it")
    _, fields = state_reader.read_state(endpoint, arn)
    assert "pending_human" not in fields and fields["notes"] == "ship it"
    events = history(sfn, arn)
    assert_small_payloads(events)
    # the answer entered the payload at AskHuman and left it at Resume
    resumed = [o for n, o in kernel_outputs(events) if n == "Resume"]
    assert resumed and all("human_response" not in json.loads(o) for o in resumed)


def test_bounded_loop_ends_in_a_named_failure(sfn, endpoint, engine):
    """decide -> draft has max_traversals 3: the fourth "no" leaves no edge to take."""
    arn = start(sfn, engine, example("research-brief.json"), {"topic": "loops"})
    for round_ in range(4):
        pending = pending_token(sfn, endpoint, arn)
        sfn.send_task_success(taskToken=pending["task_token"], output=json.dumps({"approval": "no"}))
        deadline = time.time() + 30
        while round_ < 3 and time.time() < deadline:  # wait for the next question (a new token)
            _, f = state_reader.read_state(endpoint, arn, ["pending_human"])
            if f.get("pending_human", {}).get("task_token") not in (None, pending["task_token"]):
                break
            time.sleep(0.2)
    d = wait(sfn, arn)
    assert d["status"] == "FAILED" and d["error"] == "Analemma.NoRoute", d
    assert "decide->draft (max_traversals 3)" in d["cause"]
    _, fields = state_reader.read_state(endpoint, arn, ["failure", "cursor"])
    assert fields["failure"]["code"] == "Analemma.NoRoute" and fields["cursor"]["status"] == "failed"
    assert fields["cursor"]["traversals"]["decide->draft"] == 3


def next_question(sfn, endpoint, arn, after_token, seconds=30):
    """The pending question once it carries a task token other than `after_token` (the human is asked again)."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        _, fields = state_reader.read_state(endpoint, arn, ["pending_human"])
        pending = fields.get("pending_human")
        if pending and pending["task_token"] != after_token:
            return pending
        assert sfn.describe_execution(executionArn=arn)["status"] == "RUNNING"
        time.sleep(0.2)
    pytest.fail("the human was not asked again")


@pytest.mark.parametrize("answer,error,names", [
    ({"owner_id": "mallory", "approval": "yes"}, "Analemma.ProtectedField", "owner_id"),
    ({"approval": "yes", "is_admin": True}, "Analemma.InvalidHumanResponse", "is_admin"),
    (["yes"], "Analemma.InvalidHumanResponse", "JSON object"),
])
def test_a_refused_answer_asks_again_with_the_reason_then_a_good_one_is_accepted(sfn, endpoint, engine, answer, error, names):
    arn = start(sfn, engine, example("research-brief.json"), {"topic": "x"})
    first = pending_token(sfn, endpoint, arn)
    sfn.send_task_success(taskToken=first["task_token"], output=json.dumps(answer))
    again = next_question(sfn, endpoint, arn, first["task_token"])
    assert again["attempt"] == 2 and names in again["refusal"] and "previous answer was refused" in again["question"], again
    _, fields = state_reader.read_state(endpoint, arn)
    assert fields["owner_id"] == "team-a" and "approval" not in fields and "is_admin" not in fields  # nothing merged
    sfn.send_task_success(taskToken=again["task_token"], output=json.dumps({"approval": "yes"}))
    d = wait(sfn, arn)
    assert d["status"] == "SUCCEEDED", d


def test_answers_refused_three_times_fail_the_step_with_the_reason(sfn, endpoint, engine):
    arn = start(sfn, engine, example("research-brief.json"), {"topic": "x"})
    token = pending_token(sfn, endpoint, arn)["task_token"]
    for attempt in range(3):
        sfn.send_task_success(taskToken=token, output=json.dumps({"approval": "yes", "is_admin": True}))
        if attempt < 2:
            token = next_question(sfn, endpoint, arn, token)["task_token"]
    d = wait(sfn, arn)
    assert d["status"] == "FAILED" and d["error"] == "Analemma.InvalidHumanResponse", d
    assert "is_admin" in d["cause"] and "3 answers refused" in d["cause"]
    _, fields = state_reader.read_state(endpoint, arn)
    assert fields["owner_id"] == "team-a" and "is_admin" not in fields and fields["failure"]["nodes"] == ["review"]


def test_unanswered_human_step_times_out_with_a_clear_failure(sfn, endpoint, engine):
    w = example("research-brief.json")
    next(n for n in w["nodes"] if n["id"] == "review")["timeout_seconds"] = 2
    arn = start(sfn, engine, w, {"topic": "x"})
    pending_token(sfn, endpoint, arn)
    d = wait(sfn, arn, seconds=30)
    assert d["status"] == "FAILED" and d["error"] == "Analemma.HumanTimeout", d
    assert d["cause"].startswith('node "review" was not answered within 2 s')
    _, fields = state_reader.read_state(endpoint, arn, ["failure", "pending_human"])
    assert fields["failure"]["code"] == "Analemma.HumanTimeout" and fields["pending_human"]["node"] == "review"


def test_failing_skill_fails_cleanly_with_state_intact(sfn, endpoint, engine, aws_c):
    arn = start(sfn, engine, example("failing-skill.json"), {"topic": "x", "mode": "break"})
    d = wait(sfn, arn)
    assert d["status"] == "FAILED" and d["error"] == "Analemma.SkillFailed", d
    # one heal round (the node's heal.max_attempts), then the original error, named
    assert d["cause"] == 'node "flaky" (skill fail): the upstream index is unavailable (still failing after 1 heal round)'
    m, fields = state_reader.read_state(endpoint, arn)
    # the failed segment committed nothing; its failure is recorded; every manifest still reads back whole
    assert fields["topic"] == "x" and "query" not in fields and "result" not in fields
    assert fields["failure"]["nodes"] == ["prepare", "flaky", "after"] and fields["cursor"]["status"] == "failed"
    assert [a["outcome"] for a in fields["heal"]["attempts"]] == ["failed again"] and fields["heal"].get("active") is None
    for manifest in state_reader.history(aws_c, arn):
        assert manifest["state"] == "COMMITTED"
        state_reader.read_fields(aws_c, manifest)
    assert_small_payloads(history(sfn, arn))
    ok = start(sfn, engine, example("failing-skill.json"), {"topic": "x", "mode": "fine"})
    assert wait(sfn, ok)["status"] == "SUCCEEDED"


@pytest.mark.parametrize("path", CORPUS, ids=[os.path.basename(p) for p in CORPUS])
def test_invalid_workflows_are_rejected_before_any_state_is_written(sfn, endpoint, engine, aws_c, path):
    with open(path) as f:
        case = json.load(f)
    owner = "rejected-" + os.path.basename(path)[len("invalid-"):-len(".json")]
    arn = start(sfn, engine, case["workflow"], {"topic": "x"}, owner=owner)
    d = wait(sfn, arn)
    assert d["status"] == "FAILED" and d["error"] == "Analemma.InvalidWorkflow", d
    message = d["cause"]
    assert not message.startswith("{"), "the Cause is the refusal's message, not the raw error document"
    assert f'"{case["expect_node"]}"' in message and case["expect"] in message
    assert state_reader.read_state(endpoint, arn) == (None, {})
    assert state_reader.history(aws_c, arn) == []
    listed = aws_c["s3"].list_objects_v2(Bucket=engine["bucket"], Prefix=f"owners/{owner}/")
    assert listed.get("KeyCount", 0) == 0


@pytest.mark.parametrize("start_input,expected", [
    ({"workflow": {}}, '"owner_id" (a string) is required'),
    ({"owner_id": "../x", "workflow": {}}, "is not 1–128 of [A-Za-z0-9._-]"),
    ({"owner_id": "o"}, '"workflow" (the definition object) is required'),
])
def test_bad_execution_input_is_rejected_by_name(sfn, engine, start_input, expected):
    arn = sfn.start_execution(stateMachineArn=engine["state_machine_arn"], input=json.dumps(start_input))["executionArn"]
    d = wait(sfn, arn)
    assert d["status"] == "FAILED" and d["error"] == "Analemma.InvalidEvent", d
    assert expected in d["cause"]


def test_input_cannot_set_protected_fields(sfn, engine):
    arn = start(sfn, engine, example("linear-5.json"), {"topic": "t", "owner_id": "mallory"})
    d = wait(sfn, arn)
    assert d["status"] == "FAILED" and d["error"] == "Analemma.ProtectedField", d
    assert '"owner_id"' in d["cause"]


def test_large_state_never_enters_the_payload(sfn, endpoint, engine):
    """A 400 KB field goes in (by pointer: StartExecution takes 262,144 bytes), is copied by a skill, and comes out
    of finalize as an S3 pointer: every kernel step's payload stays under 30 KB."""
    w = {"workflow_id": "big", "entry": "copy", "outputs": ["copy", "size_note"], "nodes": [
        {"id": "copy", "type": "skill", "skill": "json_transform", "reads": ["corpus"], "writes": ["copy"],
         "config": {"value": "$.corpus"}},
        {"id": "note", "type": "skill", "skill": "template", "reads": ["corpus"], "writes": ["size_note"],
         "config": {"template": "first item: {{corpus[0].id}}"}}],
        "edges": [{"from": "copy", "to": "note"}]}
    corpus = [{"id": i, "text": "lorem ipsum %06d " % i * 4} for i in range(4000)]
    key = f"owners/team-a/inputs/corpus-{time.time_ns()}.json"  # over StartExecution's 262,144 bytes: by pointer
    client("s3", endpoint).put_object(Bucket=engine["bucket"], Key=key, Body=json.dumps({"corpus": corpus}).encode())
    doc = {"owner_id": "team-a", "workflow": w, "input": {"$pointer": f"s3://{engine['bucket']}/{key}"}}
    arn = sfn.start_execution(stateMachineArn=engine["state_machine_arn"], input=json.dumps(doc))["executionArn"]
    d = wait(sfn, arn)
    assert d["status"] == "SUCCEEDED", d
    assert len(d["output"]) <= LIMIT
    out = json.loads(d["output"])["output"]
    assert out["size_note"] == "first item: 0"
    pointer = out["copy"]["$pointer"]
    assert pointer.startswith(f"s3://{engine['bucket']}/owners/team-a/executions/"), pointer
    assert "/payloads/" in pointer
    bucket, key = pointer[len("s3://"):].split("/", 1)
    assert json.loads(client("s3", endpoint).get_object(Bucket=bucket, Key=key)["Body"].read()) == corpus
    assert_small_payloads(history(sfn, arn))


def test_a_replayed_step_returns_its_first_result_and_a_stale_one_is_refused(lam, engine):
    """Lambda retries: the runner invoked again with the same payload must not run the segment twice; a retried `run`
    that ran segments in a row (up to SEGMENTS_PER_INVOCATION, 64) finds the head that many commits on."""
    execution = f"arn:aws:states:us-east-1:123456789012:execution:direct:{time.time_ns()}"
    start_doc = {"owner_id": "team-a", "workflow": loop_workflow(100), "input": {}}
    _, k0 = invoke(lam, {"action": "initialize", "execution_id": execution, "start": start_doc}, name="segment-runner")
    assert k0["cursor"]["status"] == "continue" and k0["version"] == 1, k0
    _, again = invoke(lam, {"action": "initialize", "execution_id": execution, "start": start_doc}, name="segment-runner")
    assert again == k0
    _, k1 = invoke(lam, {"action": "run", "kernel": k0}, name="segment-runner")
    assert k1["cursor"]["status"] == "continue" and k1["version"] == 65, k1  # 64 segments in a row, each committed
    _, replay = invoke(lam, {"action": "run", "kernel": k0}, name="segment-runner")
    assert replay == k1
    _, k2 = invoke(lam, {"action": "run", "kernel": k1}, name="segment-runner")
    assert k2["cursor"]["status"] == "done" and k2["version"] > 65 + 1, k2
    r, stale = invoke(lam, {"action": "run", "kernel": k0}, name="segment-runner")  # more than 64 commits behind
    assert r.get("FunctionError") and stale["errorType"] == "Analemma.ConcurrentWrite", stale
    forged = copy.deepcopy(k1)
    forged["cursor"]["workflow"] = "s3://analemma-state/owners/someone-else/workflows/x.json"
    r, refused = invoke(lam, {"action": "run", "kernel": forged}, name="segment-runner")
    assert refused["errorType"] == "Analemma.ForgedPointer" and "cursor" in refused["errorMessage"], refused
    # Another owner replaying the start learns nothing of the execution; so does the same owner with another workflow.
    r, other = invoke(lam, {"action": "initialize", "execution_id": execution, "start": {**start_doc, "owner_id": "team-b"}},
                      name="segment-runner")
    assert other["errorType"] == "Analemma.ForgedPointer" and k0["manifest_id"] not in json.dumps(other), other
    changed = {**start_doc, "workflow": {**start_doc["workflow"], "description": "another"}}
    r, other = invoke(lam, {"action": "initialize", "execution_id": execution, "start": changed}, name="segment-runner")
    assert other["errorType"] == "Analemma.ForgedPointer", other
    # A payload claiming a map in flight on a run that has none (here: its cursor says fan_out) is refused.
    fanned = copy.deepcopy(k2)
    fanned["cursor"]["status"] = "fan_out"
    fanned["cursor"]["fanout"] = {"node": "a", "bucket": "elsewhere", "key": "k", "prefix": "p", "items": 1, "chunks": 1,
                                  "chunk_size": 1, "max_concurrency": 1, "tolerated_failure_percentage": 0, "step": 1}
    fanned["map_agg"] = {"stats": {"bucket": "elsewhere", "map_run_arn": "arn:x:y", "result_files": {"FAILED": [{"Key": "k"}]}}}
    r, refused = invoke(lam, {"action": "map_done", "kernel": fanned}, name="segment-runner")
    assert refused["errorType"] == "Analemma.ForgedPointer", refused


@pytest.mark.parametrize("name,ok", [("initialize.json", True), ("initialize-invalid.json", False)])
def test_sample_events_do_what_they_say(lam, engine, name, ok):
    with open(os.path.join(ROOT, "Functions", "segment-runner", "events", name)) as f:
        event = json.load(f)
    event["execution_id"] += f"-{time.time_ns()}"
    r, out = invoke(lam, event, name="segment-runner")
    if ok:
        assert "FunctionError" not in r and out["cursor"]["status"] == "continue", out
    else:
        assert out["errorType"] == "Analemma.InvalidWorkflow" and "no-such-skill" in out["errorMessage"], out


PAYLOAD_LIMIT = 4096  # nothing that grows with steps, nodes or items rides in the Step Functions payload


def loop_workflow(traversals):
    return {"workflow_id": "loop", "entry": "a", "outputs": ["done"], "nodes": [
        {"id": "a", "type": "route"}, {"id": "b", "type": "route"},
        {"id": "c", "type": "skill", "skill": "template", "writes": ["done"], "config": {"template": "looped"}}],
        "edges": [{"from": "a", "to": "b"}, {"from": "b", "to": "a", "max_traversals": traversals}, {"from": "b", "to": "c"}]}


def state_outputs(sfn, arn):
    return [e["stateExitedEventDetails"] for e in history_all(sfn, arn) if "stateExitedEventDetails" in e]


def history_all(sfn, arn):
    events, token = [], None
    while True:
        page = sfn.get_execution_history(executionArn=arn, maxResults=1000, **({"nextToken": token} if token else {}))
        events += page["events"]
        token = page.get("nextToken")
        if not token:
            return events


@pytest.mark.parametrize("workflow", [loop_workflow(150), {
    "workflow_id": "wide", "entry": "n0", "outputs": ["f999"],
    "nodes": [{"id": f"n{i}", "type": "skill", "skill": "template", "writes": [f"f{i}"], "config": {"template": "x"}}
              for i in range(1000)],
    "edges": [{"from": f"n{i}", "to": f"n{i + 1}"} for i in range(999)]}], ids=["150-traversal loop", "1000-node workflow"])
def test_the_payload_stays_small_at_every_transition(sfn, engine, workflow):
    arn = start(sfn, engine, workflow, {})
    d = wait(sfn, arn, seconds=300)
    assert d["status"] == "SUCCEEDED", d
    outputs = state_outputs(sfn, arn)
    assert len(outputs) > 3  # segments run in a row: the loop's 150 rounds take a few RunSegment transitions
    biggest = max(outputs, key=lambda o: len(o["output"].encode()))
    assert len(biggest["output"].encode()) <= PAYLOAD_LIMIT, (biggest["name"], len(biggest["output"]))


def test_a_workflow_and_input_too_large_for_start_execution_are_given_by_pointer(sfn, endpoint, engine, aws_c):
    """StartExecution takes at most 262,144 bytes; larger workflows and inputs go by pointer into the owner's prefix."""
    bucket = engine["bucket"]
    topic = "wind " * 60_000  # 300 KB: over StartExecution's limit inline
    aws_c["s3"].put_object(Bucket=bucket, Key="owners/team-a/inputs/big-input.json", Body=json.dumps({"topic": topic}).encode())
    aws_c["s3"].put_object(Bucket=bucket, Key="owners/team-a/inputs/linear-5.json", Body=json.dumps(example("linear-5.json")).encode())
    doc = {"owner_id": "team-a", "workflow": {"$pointer": f"s3://{bucket}/owners/team-a/inputs/linear-5.json"},
           "input": {"$pointer": f"s3://{bucket}/owners/team-a/inputs/big-input.json"}}
    arn = sfn.start_execution(stateMachineArn=engine["state_machine_arn"], input=json.dumps(doc))["executionArn"]
    d = wait(sfn, arn)
    assert d["status"] == "SUCCEEDED", d
    _, fields = state_reader.read_state(endpoint, arn, ["topic", "question"])
    assert fields["topic"] == topic and fields["question"].startswith("What changed in wind wind")
    # A pointer into another owner's prefix is refused before anything is written.
    doc["input"] = {"$pointer": f"s3://{bucket}/owners/team-b/inputs/big-input.json"}
    arn = sfn.start_execution(stateMachineArn=engine["state_machine_arn"], input=json.dumps(doc))["executionArn"]
    d = wait(sfn, arn)
    assert d["status"] == "FAILED" and d["error"] == "Analemma.ForgedPointer", d
    assert state_reader.head(aws_c, arn) == (None, 0)


def test_start_execution_refuses_an_input_over_262144_bytes_as_aws_does(sfn, engine):
    def doc(size):
        base = json.dumps({"owner_id": "team-a", "workflow": example("linear-5.json"), "input": {"topic": ""}})
        return base.replace('"topic": ""', '"topic": "' + "x" * (size - len(base.encode())) + '"')
    accepted = doc(262_144)
    assert len(accepted.encode()) == 262_144
    arn = sfn.start_execution(stateMachineArn=engine["state_machine_arn"], input=accepted)["executionArn"]
    assert wait(sfn, arn)["status"] == "SUCCEEDED"
    with pytest.raises(sfn.exceptions.ClientError) as refused:
        sfn.start_execution(stateMachineArn=engine["state_machine_arn"], input=doc(262_145))
    assert refused.value.response["Error"]["Code"] == "ValidationException"
    assert "262144" in refused.value.response["Error"]["Message"]
