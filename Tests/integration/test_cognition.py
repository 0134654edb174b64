"""llm nodes end to end: the real segment-runner bootstrap calls the local Gemini stand-in over the Gemini wire
format (Deploy/local/gemini_standin.py), through the model router, under the workflow state machine."""

import json
import urllib.request

import pytest

import state_reader
from test_workflows import MODEL, example, start, wait, history, assert_small_payloads, engine  # noqa: F401


def gemini(endpoint, method="GET", doc=None):
    req = urllib.request.Request(f"{endpoint}/_analemma/gemini", method=method,
                                 data=json.dumps(doc).encode() if doc is not None else None)
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read())


@pytest.fixture(autouse=True)
def fresh_standin(endpoint):
    gemini(endpoint, "DELETE")
    yield
    gemini(endpoint, "DELETE")


def test_an_answer_lands_in_state_with_its_usage(sfn, endpoint, engine):  # noqa: F811
    gemini(endpoint, "POST", {"model": MODEL["medium"], "responses": [{"text": "Three facts about solar.", "thoughts": 7}]})
    arn = start(sfn, engine, example("linear-5.json"), {"topic": "solar"})
    d = wait(sfn, arn)
    assert d["status"] == "SUCCEEDED", d
    _, fields = state_reader.read_state(endpoint, arn, ["draft", "llm_usage"])
    assert fields["draft"] == "Three facts about solar."
    used = fields["llm_usage"]["nodes"]["draft"]
    assert used["model"] == MODEL["medium"] and used["thought_tokens"] == 7 and used["estimated_cost_usd"] > 0
    assert used["route"] == "tier >= medium, cheapest"
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
