"""The model layer end to end, through the real segment-runner bootstrap and the Gemini stand-in: a retired model
pinned by a workflow is served by its successor (recorded and priced at the call's date), a schema node refuses a
non-conforming answer (and heals), and a throttle with Retry-After reaches the event stream."""

import datetime

import state_reader
from test_cognition import events_of, gemini, fresh_standin  # noqa: F401
from test_workflows import MODEL, history, start, wait, engine  # noqa: F401


def one_llm(config):
    return {"workflow_id": "one-llm", "version": 1, "entry": "ask", "outputs": ["answer"],
            "nodes": [{"id": "ask", "type": "llm", "reads": ["topic"], "writes": ["answer"],
                       "config": {"prompt": "Tell me about {{topic}}.", **config}}], "edges": []}


def test_a_pinned_retired_model_is_served_by_its_successor_and_priced_that_day(sfn, endpoint, engine, state_dir):  # noqa: F811
    arn = start(sfn, engine, one_llm({"model": "gemini-2.5-flash"}), {"topic": "tides"})
    d = wait(sfn, arn)
    assert d["status"] == "SUCCEEDED", d
    [sent] = gemini(endpoint)["requests"]
    assert sent["model"] == MODEL["medium"]  # the default catalog's successor of gemini-2.5-flash
    _, fields = state_reader.read_state(endpoint, arn, ["answer", "llm_usage"])
    assert fields["answer"].startswith(f"[gemini-standin {MODEL['medium']}]")
    used = fields["llm_usage"]["nodes"]["ask"]
    today = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")
    assert used["model"] == MODEL["medium"] and used["remapped_from"] == "gemini-2.5-flash" and used["priced_on"] == today
    assert "retired on 2026-12-01: remapped to its successor" in used["route"]
    [event] = events_of(state_dir, arn, "llm_call")
    assert event["remapped_from"] == "gemini-2.5-flash" and event["gen_ai.response.model"] == MODEL["medium"]


def test_a_pin_to_an_unknown_model_is_refused_before_any_call(sfn, endpoint, engine):  # noqa: F811
    d = wait(sfn, start(sfn, engine, one_llm({"model": "gemini-1.0-pro"}), {"topic": "tides"}))
    assert d["status"] == "FAILED" and d["error"] == "Analemma.ModelError" and "not in MODEL_CATALOG" in d["cause"], d
    assert gemini(endpoint)["requests"] == []


SCHEMA = {"type": "object", "properties": {"verdict": {"type": "string", "enum": ["approve", "reject"]},
                                           "score": {"type": "integer", "minimum": 0, "maximum": 10}},
          "required": ["verdict", "score"]}


def test_a_schema_node_refuses_a_non_conforming_answer_then_heals(sfn, endpoint, engine):  # noqa: F811
    gemini(endpoint, "POST", {"model": "*", "responses": [
        {"text": '{"verdict": "maybe", "score": 12}'},  # breaks the enum and the maximum
        {"text": "Answer with verdict approve or reject and a score of 0-10."},  # the heal round's fix instruction
        {"text": '{"verdict": "approve", "score": 8}'}]})
    arn = start(sfn, engine, one_llm({"response_schema": SCHEMA}), {"topic": "tides"})
    d = wait(sfn, arn)
    assert d["status"] == "SUCCEEDED", d
    _, fields = state_reader.read_state(endpoint, arn, ["answer", "heal"])
    assert fields["answer"] == {"verdict": "approve", "score": 8}  # the parsed answer, not its text
    [attempt] = fields["heal"]["attempts"]
    assert attempt["error_code"] == "Analemma.ModelNonConforming" and "$.score: above maximum 10" in attempt["error_message"]
    first = gemini(endpoint)["requests"][0]["body"]["generationConfig"]
    assert first["responseMimeType"] == "application/json" and first["responseSchema"]["type"] == "OBJECT"


def test_a_schema_node_that_never_conforms_fails_with_its_reason(sfn, endpoint, engine):  # noqa: F811
    gemini(endpoint, "POST", {"model": "*", "responses": [{"text": "Sure! The verdict is approve."}]})
    w = one_llm({"response_schema": SCHEMA})
    w["nodes"][0]["heal"] = {"max_attempts": 0}
    arn = start(sfn, engine, w, {"topic": "tides"})
    d = wait(sfn, arn)
    assert d["status"] == "FAILED" and d["error"] == "Analemma.ModelNonConforming", d
    assert "not JSON" in d["cause"]
    _, fields = state_reader.read_state(endpoint, arn)
    assert "answer" not in fields


def test_an_invalid_schema_is_refused_when_the_workflow_starts(sfn, endpoint, engine):  # noqa: F811
    d = wait(sfn, start(sfn, engine, one_llm({"response_schema": {"type": "object", "oneOf": []}}), {"topic": "x"}))
    assert d["status"] == "FAILED" and d["error"] == "Analemma.InvalidWorkflow", d
    assert "\"oneOf\" is not a field of Gemini's Schema" in d["cause"] and gemini(endpoint)["requests"] == []


def test_a_throttle_with_retry_after_rests_the_model_and_says_so(sfn, endpoint, engine, state_dir):  # noqa: F811
    gemini(endpoint, "POST", {"model": MODEL["medium"], "responses": [{"status": 429, "retry_after": 3}]})
    arn = start(sfn, engine, one_llm({}), {"topic": "tides"})
    d = wait(sfn, arn)
    assert d["status"] == "SUCCEEDED", d
    assert [r["model"] for r in gemini(endpoint)["requests"]] == [MODEL["medium"], MODEL["high"]]
    [event] = events_of(state_dir, arn, "llm_call")
    assert event["gen_ai.response.model"] == MODEL["high"]
    assert event["fallbacks"] == f"{MODEL['medium']}: Analemma.ModelThrottled, resting 3000 ms"


TABLES = "High water at the harbour mouth comes 40 minutes before the quay. " * 80


def test_a_stable_prefix_is_cached_once_and_reused_by_the_next_call(sfn, endpoint, engine, state_dir):  # noqa: F811
    config = {"system": "You read tide tables.", "context": "Tables:\n{{tables}}", "cache_ttl_seconds": 600}
    w = {"workflow_id": "two-questions", "version": 1, "entry": "high", "outputs": ["high", "low"],
         "nodes": [{"id": "high", "type": "llm", "reads": ["tables"], "writes": ["high"],
                    "config": {"prompt": "When is high water?", **config}},
                   {"id": "low", "type": "llm", "reads": ["tables"], "writes": ["low"],
                    "config": {"prompt": "When is low water?", **config}}],
         "edges": [{"from": "high", "to": "low"}]}
    arn = start(sfn, engine, w, {"tables": TABLES})
    d = wait(sfn, arn)
    assert d["status"] == "SUCCEEDED", d
    seen = gemini(endpoint)
    [made] = seen["cache_requests"]
    assert made["status"] == 200 and made["body"]["ttl"] == "600s" and made["body"]["model"] == f"models/{MODEL['medium']}"
    assert TABLES in made["body"]["contents"][0]["parts"][0]["text"]
    [cache] = seen["caches"]
    for r in seen["requests"]:
        assert r["body"]["cachedContent"] == cache["name"] and "systemInstruction" not in r["body"]
        assert len(r["body"]["contents"]) == 1  # only the question follows the cached prefix
    _, fields = state_reader.read_state(endpoint, arn, ["llm_usage"])
    assert fields["llm_usage"]["total"]["cached_tokens"] == 2 * cache["tokens"]
    notes = [e["cache"] for e in events_of(state_dir, arn, "llm_call")]
    assert notes[0].startswith(f"created {cache['name']}") and notes[1] == f"reused {cache['name']}"


def test_a_throttle_mid_exchange_waits_and_never_changes_the_model(sfn, endpoint, engine, state_dir):  # noqa: F811
    from test_workflows import example
    gemini(endpoint, "POST", {"model": MODEL["medium"], "responses": [
        {"function_call": {"name": "json_extract", "args": {"from": "plan", "path": "steps[0]"}}},
        {"status": 429, "retry_after": 1}, {"text": "Start with: search."}]})
    arn = start(sfn, engine, example("tool-use.json"), {"topic": "tides"})
    d = wait(sfn, arn)
    assert d["status"] == "SUCCEEDED", d
    assert [r["model"] for r in gemini(endpoint)["requests"]] == [MODEL["medium"]] * 3  # never the high-tier fallback
    [event] = events_of(state_dir, arn, "llm_call")
    assert int(event["waited_ms"]) >= 900 and "waited" in event["fallbacks"]  # one call of the node: no segment rerun
    assert not [e for e in history(sfn, arn) if e["type"] == "TaskFailed"]  # the segment never failed and reran
