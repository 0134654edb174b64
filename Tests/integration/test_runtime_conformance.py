"""The Swift runtime loop (real static `bootstrap`) through the local Lambda service's Invoke + Runtime APIs."""

import base64
import json
import os
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from conftest import functions_state, invoke, raw_invoke


def test_success_returns_the_handler_output(lam):
    payload = {"action": "echo", "nested": {"list": [1, 2, 3], "text": "héllo ✓"}}
    r, out = invoke(lam, payload)
    assert r["StatusCode"] == 200
    assert "FunctionError" not in r
    assert r["ExecutedVersion"] == "$LATEST"
    assert out == payload


def test_handler_error_type_reaches_the_caller_and_the_instance_survives(lam):
    _, before = invoke(lam, {"action": "context"})
    r, out = invoke(lam, {"action": "fail", "errorType": "Analemma.InvalidEvent", "message": "field x is missing"})
    assert r["FunctionError"] == "Unhandled"
    assert out == {"errorType": "Analemma.InvalidEvent", "errorMessage": "field x is missing", "stackTrace": []}
    _, after = invoke(lam, {"action": "context"})
    assert after["pid"] == before["pid"], "a handler error must not end the process"


def test_crash_is_runtime_exit_error_and_the_next_call_gets_a_new_instance(lam):
    _, before = invoke(lam, {"action": "context"})
    r, out = invoke(lam, {"action": "crash", "exitCode": 3})
    assert r["FunctionError"] == "Unhandled"
    assert out["errorType"] == "Runtime.ExitError"
    assert "exit status 3" in out["errorMessage"]
    r, after = invoke(lam, {"action": "context"})
    assert "FunctionError" not in r
    assert after["pid"] != before["pid"]


def test_timeout_kills_the_instance_and_reports_sandbox_timedout(lam):
    r, out = invoke(lam, {"action": "sleep", "seconds": 10})
    assert r["FunctionError"] == "Unhandled"
    assert out["errorType"] == "Sandbox.Timedout"
    assert "timed out after 3.00 seconds" in out["errorMessage"]
    r, after = invoke(lam, {"action": "sleep", "seconds": 0.05})
    assert "FunctionError" not in r


def test_oversized_response_is_a_clear_error_not_a_crash(lam):
    _, before = invoke(lam, {"action": "context"})
    r, out = invoke(lam, {"action": "big", "bytes": 6 * 1024 * 1024 + 1})
    assert r["FunctionError"] == "Unhandled"
    assert out["errorType"] == "Analemma.ResponseTooLarge"
    assert "6291457 bytes" in out["errorMessage"]
    _, after = invoke(lam, {"action": "context"})
    assert after["pid"] == before["pid"]


def test_a_response_just_under_the_limit_arrives_whole(lam):
    r = lam.invoke(FunctionName="probe", Payload=json.dumps({"action": "big", "bytes": 6 * 1024 * 1024 - 64}))
    assert "FunctionError" not in r
    assert len(r["Payload"].read()) == 6 * 1024 * 1024 - 64


def test_handler_sees_deadline_trace_id_and_context_per_invocation(endpoint):
    seen = []
    for _ in range(2):
        trace = f"Root=1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]};Parent=0123456789abcdef;Sampled=1"
        context = base64.b64encode(json.dumps({"custom": {"k": "v"}}).encode()).decode()
        before = time.time() * 1000
        status, headers, body = raw_invoke(endpoint, "probe", b'{"action":"context"}', {
            "X-Amzn-Trace-Id": trace, "X-Amz-Client-Context": context, "X-Amz-Tenant-Id": "tenant-42"})
        assert status == 200, body
        out = json.loads(body)
        assert out["traceId"] == trace
        assert out["envTraceId"] == trace, "_X_AMZN_TRACE_ID must be set for each invocation"
        assert json.loads(out["clientContext"]) == {"custom": {"k": "v"}}
        assert out["tenantId"] == "tenant-42"
        deadline = int(out["deadlineMs"])
        assert before < deadline <= time.time() * 1000 + 3000
        assert 0 < int(out["remainingMs"]) <= 3000
        assert out["functionArn"] == "arn:aws:lambda:us-east-1:123456789012:function:probe"
        seen.append(out)
    assert seen[0]["requestId"] != seen[1]["requestId"]


@pytest.mark.parametrize("identifier", [
    "probe",
    "probe:$LATEST",
    "123456789012:function:probe",
    "arn:aws:lambda:eu-west-1:111122223333:function:probe",
    "arn:aws:lambda:us-west-2:999999999999:function:probe:live",
])
def test_function_found_by_name_or_any_arn_ending_in_it(lam, identifier):
    r, out = invoke(lam, {"action": "context"}, name=identifier)
    assert "FunctionError" not in r
    if identifier.startswith("arn:"):
        assert out["functionArn"] == identifier


def test_unknown_function_is_resource_not_found(lam):
    with pytest.raises(lam.exceptions.ResourceNotFoundException) as e:
        lam.invoke(FunctionName="no-such-function", Payload=b"{}")
    assert "no-such-function" in str(e.value)


def test_request_over_6mb_is_rejected_before_the_function_runs(endpoint):
    status, headers, body = raw_invoke(endpoint, "probe", b'{"a":"' + b"x" * (6 * 1024 * 1024) + b'"}')
    assert status == 413
    assert headers.get("X-Amzn-ErrorType") == "RequestTooLargeException"


def test_non_json_payload_is_rejected(endpoint):
    status, headers, _ = raw_invoke(endpoint, "probe", b"not json")
    assert status == 400
    assert headers.get("X-Amzn-ErrorType") == "InvalidRequestContentException"


def test_init_failure_reports_the_init_error_type(lam):
    r, out = invoke(lam, {"action": "echo"}, name="probe-init-fail")
    assert r["FunctionError"] == "Unhandled"
    assert out["errorType"] == "Analemma.InvalidConfiguration"
    assert "PROBE_FAIL_INIT" in out["errorMessage"]


def test_event_invocation_is_accepted_and_runs(lam, state_dir):
    marker = f"event-{uuid.uuid4()}"
    r = lam.invoke(FunctionName="probe", InvocationType="Event", Payload=json.dumps({"action": "log", "message": marker}))
    assert r["StatusCode"] == 202
    log = os.path.join(state_dir, "logs", "probe.log")
    for _ in range(100):
        if os.path.exists(log) and marker in open(log).read():
            break
        time.sleep(0.1)
    lines = [line for line in open(log) if marker in line]
    assert lines, "the Event invocation never ran"
    doc = json.loads(lines[0].split("] ", 1)[1])  # logFormat JSON: one JSON object per line
    assert doc["message"] == marker and doc["level"] == "INFO" and doc["requestId"]


def test_log_type_tail_returns_the_invocation_log(lam):
    marker = f"tail-{uuid.uuid4()}"
    r = lam.invoke(FunctionName="probe", LogType="Tail", Payload=json.dumps({"action": "log", "message": marker}))
    r["Payload"].read()
    assert marker in base64.b64decode(r["LogResult"]).decode()


def test_concurrent_invocations_scale_out_up_to_the_instance_limit(lam, endpoint):
    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(lambda _: invoke(lam, {"action": "sleep", "seconds": 0.8}), range(6)))
    assert all("FunctionError" not in r for r, _ in results)
    pids = {out["pid"] for _, out in results}
    assert 2 <= len(pids) <= 4, pids
    assert len(functions_state(endpoint)["probe"]["instances"]) <= 4


def test_long_poll_next_that_returns_after_30s_still_works(lam, endpoint):
    invoke(lam, {"action": "context"})
    before = functions_state(endpoint)["probe"]
    assert any(i["state"] == "idle" for i in before["instances"])
    time.sleep(31)  # every warm instance now sits in GET /next for over 30 s
    r, out = invoke(lam, {"action": "context"})
    assert "FunctionError" not in r
    after = functions_state(endpoint)["probe"]
    assert after["spawned"] == before["spawned"], "the invocation must reach an instance that long-polled, not a new one"
    assert int(out["pid"]) in {i["pid"] for i in before["instances"]}


def test_a_rebuilt_binary_retires_idle_instances(lam, endpoint):
    _, before = invoke(lam, {"action": "context"})
    binary = os.path.join(os.environ.get("ANALEMMA_BIN_DIR", ".build/release"), "probe")
    os.utime(binary)  # what a rebuild does to the version the service sees
    r, after = invoke(lam, {"action": "context"})
    assert "FunctionError" not in r
    assert after["pid"] != before["pid"]
