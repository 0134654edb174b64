"""llm nodes end to end: the real segment-runner bootstrap calls the local Gemini stand-in over the Gemini wire
format (Deploy/local/gemini_standin.py), through the model router, under the workflow state machine."""

import json
import time
import urllib.request

import pytest

import state_reader
from test_workflows import MODEL, example, start, wait, history, assert_small_payloads, engine  # noqa: F401


RESTING = {"seconds": 0}  # the longest rest a scripted throttle gives a model the segment runner calls


def gemini(endpoint, method="GET", doc=None):
    if method == "POST" and (doc or {}).get("model") in ("*", *MODEL.values()):
        for r in doc.get("responses", []):
            if r.get("status") == 429 or "retry_after" in r:
                RESTING["seconds"] = max(RESTING["seconds"], r.get("retry_after", 5))  # 5 s: RoutedModel's default rest
    req = urllib.request.Request(f"{endpoint}/_analemma/gemini", method=method,
                                 data=json.dumps(doc).encode() if doc is not None else None)
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read())


@pytest.fixture(autouse=True)
def fresh_standin(endpoint):
    gemini(endpoint, "DELETE")
    yield
    gemini(endpoint, "DELETE")
    # a warm segment-runner instance keeps a throttled model resting (as it should): let the rest end before the next
    # test expects that model to answer
    time.sleep(RESTING["seconds"])
    RESTING["seconds"] = 0


def events_of(state_dir, execution, kind):
    """The kernel events of one execution in the segment runner's log (structured JSON lines)."""
    import os
    found = []
    with open(os.path.join(state_dir, "logs", "segment-runner.log"), errors="replace") as f:
        for line in f:
            start = line.find("{")
            if start < 0:
                continue
            try:
                doc = json.loads(line[start:])
            except ValueError:
                continue
            if doc.get("event") == kind and doc.get("execution_id") == execution:
                found.append(doc)
    return found


def test_an_answer_lands_in_state_with_its_usage(sfn, endpoint, engine, state_dir):  # noqa: F811
    gemini(endpoint, "POST", {"model": MODEL["medium"], "responses": [{"text": "Three facts about solar.", "thoughts": 7}]})
    arn = start(sfn, engine, example("linear-5.json"), {"topic": "solar"})
    d = wait(sfn, arn)
    assert d["status"] == "SUCCEEDED", d
    _, fields = state_reader.read_state(endpoint, arn, ["draft", "llm_usage"])
    assert fields["draft"] == "Three facts about solar."
    used = fields["llm_usage"]["nodes"]["draft"]
    assert used["model"] == MODEL["medium"] and used["thought_tokens"] == 7 and used["estimated_cost_usd"] > 0
    assert used["route"] == "tier >= medium, cheapest"
    # the same call as a glass-box event, in OpenTelemetry GenAI terms, with the execution's ids
    [event] = events_of(state_dir, arn, "llm_call")
    assert event["gen_ai.request.model"] == MODEL["medium"] and event["owner_id"] == "team-a"
    assert int(event["gen_ai.usage.input_tokens"]) == used["input_tokens"] and event["trace_id"] == json.loads(d["output"])["trace_id"]
    sent = gemini(endpoint)["requests"]
    assert len(sent) == 1 and sent[0]["api"] == "developer" and sent[0]["model"] == MODEL["medium"]
    assert sent[0]["body"]["contents"] == [
        {"role": "user", "parts": [{"text": "Answer What changed in solar this year? in three sentences."}]}]


def test_a_throttled_primary_falls_back_to_the_next_model(sfn, endpoint, engine):  # noqa: F811
    gemini(endpoint, "POST", {"model": MODEL["medium"], "responses": [{"status": 429}]})
    arn = start(sfn, engine, example("linear-5.json"), {"topic": "solar"})
    d = wait(sfn, arn)
    assert d["status"] == "SUCCEEDED", d
    _, fields = state_reader.read_state(endpoint, arn, ["draft", "llm_usage"])
    assert fields["draft"].startswith(f"[gemini-standin {MODEL['high']}]")
    assert fields["llm_usage"]["nodes"]["draft"]["model"] == MODEL["high"]
    assert [r["model"] for r in gemini(endpoint)["requests"]] == [MODEL["medium"], MODEL["high"]]


def test_throttled_everywhere_is_retried_by_the_state_machine(sfn, endpoint, engine):  # noqa: F811
    gemini(endpoint, "POST", {"model": "*", "responses": [{"status": 429}, {"status": 503}]})
    arn = start(sfn, engine, example("linear-5.json"), {"topic": "solar"})
    d = wait(sfn, arn, seconds=90)
    assert d["status"] == "SUCCEEDED", d
    events = history(sfn, arn)
    failed = [e for e in events if e["type"] == "TaskFailed"]
    assert failed and json.loads(failed[0]["taskFailedEventDetails"]["cause"])["errorType"] == "Analemma.ModelUnavailable"
    assert len(gemini(endpoint)["requests"]) == 3
    assert_small_payloads(events)


def test_a_blocked_prompt_fails_cleanly_with_state_intact(sfn, endpoint, engine):  # noqa: F811
    gemini(endpoint, "POST", {"model": "*", "responses": [{"block": "SAFETY"}]})
    arn = start(sfn, engine, example("linear-5.json"), {"topic": "solar"})
    d = wait(sfn, arn)
    assert d["status"] == "FAILED" and d["error"] == "Analemma.ModelBlocked", d
    assert "blocked the prompt: SAFETY" in d["cause"]
    _, fields = state_reader.read_state(endpoint, arn)
    assert fields["failure"]["nodes"] == ["draft"] and "draft" not in fields and fields["plan"]["topic"] == "solar"


def test_a_failing_segment_heals_once_and_succeeds(sfn, endpoint, engine):  # noqa: F811
    gemini(endpoint, "POST", {"model": MODEL["medium"], "responses": [{"text": "Use the mirror URL instead."}]})
    arn = start(sfn, engine, example("self-healing.json"), {"source": "https://example.com/a"})
    d = wait(sfn, arn)
    assert d["status"] == "SUCCEEDED", d
    assert json.loads(d["output"])["output"] == {"result": "fetched after healing"}
    _, fields = state_reader.read_state(endpoint, arn, ["heal", "cursor"])
    [attempt] = fields["heal"]["attempts"]
    assert attempt["instruction"] == "Use the mirror URL instead." and attempt["outcome"] == "healed"
    assert attempt["error_code"] == "Analemma.SkillFailed" and "404" in attempt["error_message"]
    assert fields["cursor"]["heals"] == {"fetch": 1}
    # visible in the execution history: RunSegment failed, Heal ran, RunSegment again
    entered = [e["stateEnteredEventDetails"]["name"] for e in history(sfn, arn) if "stateEnteredEventDetails" in e]
    assert entered.count("Heal") == 1 and entered.count("RunSegment") == 2
    prompt = gemini(endpoint)["requests"][0]["body"]["contents"][0]["parts"][0]["text"]
    assert "the source URL answers 404" in prompt and '"id":"fetch"' in prompt


@pytest.mark.parametrize("rounds", [0, 2])
def test_healing_is_bounded_and_the_final_failure_names_the_original_error(sfn, endpoint, engine, rounds):  # noqa: F811
    w = example("self-healing.json")
    w["nodes"][0]["config"]["unless_healed"] = False
    w["nodes"][0]["heal"] = {"max_attempts": rounds}
    arn = start(sfn, engine, w, {"source": "x"})
    d = wait(sfn, arn)
    assert d["status"] == "FAILED" and d["error"] == "Analemma.SkillFailed", d
    suffix = "" if rounds == 0 else f" (still failing after {rounds} heal rounds)"
    assert d["cause"] == 'node "fetch" (skill fail): the source URL answers 404' + suffix
    entered = [e["stateEnteredEventDetails"]["name"] for e in history(sfn, arn) if "stateEnteredEventDetails" in e]
    assert entered.count("Heal") == rounds + 1 and entered.count("RunSegment") == rounds + 1
    _, fields = state_reader.read_state(endpoint, arn)
    attempts = fields.get("heal", {}).get("attempts", [])
    assert [a["round"] for a in attempts] == list(range(1, rounds + 1))
    assert all(a["outcome"] == "failed again" for a in attempts)
    assert len(gemini(endpoint)["requests"]) == rounds


def test_an_llm_node_calls_a_skill_as_a_tool(sfn, endpoint, engine):  # noqa: F811
    gemini(endpoint, "POST", {"model": MODEL["medium"], "responses": [
        {"function_call": {"name": "json_extract", "args": {"from": "plan", "path": "steps[0]"}}},
        {"text": "Start with: search."}]})
    arn = start(sfn, engine, example("tool-use.json"), {"topic": "tides"})
    d = wait(sfn, arn)
    assert d["status"] == "SUCCEEDED", d
    _, fields = state_reader.read_state(endpoint, arn, ["answer", "llm_usage"])
    assert fields["answer"] == "Start with: search."
    used = fields["llm_usage"]["nodes"]["research"]
    assert used["calls"] == 1 and used["tool_calls"] == [
        {"name": "json_extract", "args": '{"from":"plan","path":"steps[0]"}', "ok": True}]
    first, second = gemini(endpoint)["requests"]
    assert first["model"] == second["model"] == MODEL["medium"]
    names = [f["name"] for f in first["body"]["tools"][0]["functionDeclarations"]]
    assert names == ["json_extract", "template"]
    user, model_turn, results = second["body"]["contents"]
    assert user["role"] == "user" and "which step comes first for tides" in user["parts"][0]["text"]
    assert model_turn["parts"][0] == {"functionCall": {"name": "json_extract", "args": {"from": "plan", "path": "steps[0]"}},
                                      "thoughtSignature": "Y2FsbA=="}
    assert results == {"role": "user", "parts": [{"functionResponse": {"name": "json_extract", "response": {"result": "search"}}}]}


def test_a_model_that_never_stops_calling_tools_is_bounded(sfn, endpoint, engine):  # noqa: F811
    call = {"function_call": {"name": "template", "args": {"template": "{{plan.topic}}"}}}
    gemini(endpoint, "POST", {"model": MODEL["medium"], "responses": [call] * 4})
    w = example("tool-use.json")
    w["nodes"][1]["heal"] = {"max_attempts": 0}
    arn = start(sfn, engine, w, {"topic": "tides"})
    d = wait(sfn, arn)
    assert d["status"] == "FAILED" and d["error"] == "Analemma.SkillFailed", d
    assert "still calls tools after max_steps 4" in d["cause"]
    assert len(gemini(endpoint)["requests"]) == 4


def cli(endpoint, *args, env=None):
    import os
    import subprocess
    from conftest import ROOT
    with open(os.path.join(ROOT, "Functions", "segment-runner", "function.json")) as f:
        catalog = json.load(f)["environment"]["MODEL_CATALOG"]["default"]
    env = {**os.environ, "MODEL_PROVIDER": "gemini", "MODEL_CATALOG": catalog, "GEMINI_ENDPOINT": endpoint,
           "GEMINI_API_KEY": "k", **(env or {})}
    binary = os.path.join(ROOT, os.environ.get("ANALEMMA_BIN_DIR", ".build/release"), "analemma")
    return subprocess.run([binary, *args], capture_output=True, text=True, env=env, timeout=60)


def test_codesign_repairs_a_draft_with_the_orchestrators_errors(endpoint):
    bad = {"workflow_id": "w", "entry": "a", "nodes": [{"id": "a", "type": "route"}], "edges": [{"from": "a", "to": "ghost"}]}
    good = {"workflow_id": "w", "entry": "a", "nodes": [{"id": "a", "type": "route"}], "edges": []}
    gemini(endpoint, "POST", {"model": MODEL["high"], "responses": [{"text": json.dumps(bad)}, {"text": json.dumps(good)}]})
    r = cli(endpoint, "codesign", "a workflow with one routing node")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == good and "valid after 2 round(s)" in r.stderr
    first, second = gemini(endpoint)["requests"]
    assert "a workflow with one routing node" in first["body"]["contents"][0]["parts"][0]["text"]
    assert first["body"]["generationConfig"]["responseMimeType"] == "application/json"
    feedback = second["body"]["contents"][-1]["parts"][0]["text"]
    assert '"ghost"' in feedback and "refers to an unknown node" in feedback


def test_codesign_gives_up_after_its_repairs_and_says_why(endpoint):
    bad = {"workflow_id": "w", "entry": "nowhere", "nodes": [], "edges": []}
    gemini(endpoint, "POST", {"model": "*", "responses": [{"text": json.dumps(bad)}] * 3})
    r = cli(endpoint, "codesign", "--repairs", "2", "anything")
    assert r.returncode == 1 and "no valid workflow after 3 rounds" in r.stderr and '"nowhere"' in r.stderr


def test_codesign_on_the_unscripted_stand_in_drafts_a_valid_workflow(endpoint):
    """What `make codesign` gives a newcomer without a Gemini key: a valid draft, with the human step asked for."""
    r = cli(endpoint, "codesign", "summarise a topic, then ask a human to approve")
    assert r.returncode == 0, r.stderr
    w = json.loads(r.stdout)
    assert [n["type"] for n in w["nodes"]] == ["llm", "hitp"] and "valid after 1 round(s)" in r.stderr


def test_validate_command_accepts_examples_and_names_the_node_of_each_invalid_one(tmp_path, endpoint):
    import glob
    import os
    from conftest import ROOT
    examples = [p for p in glob.glob(os.path.join(ROOT, "Deploy", "examples", "workflows", "*.json")) if "schema" not in p]
    ok = cli(endpoint, "validate", *examples)
    assert ok.returncode == 0 and ok.stdout.count(": valid,") == len(examples), ok.stdout
    for path in glob.glob(os.path.join(ROOT, "Tests", "AnalemmaTests", "Fixtures", "workflows", "invalid-*.json")):
        with open(path) as f:
            case = json.load(f)
        target = tmp_path / os.path.basename(path)
        target.write_text(json.dumps(case["workflow"]))
        r = cli(endpoint, "validate", str(target))
        assert r.returncode == 1 and f'"{case["expect_node"]}"' in r.stdout and case["expect"] in r.stdout, r.stdout
