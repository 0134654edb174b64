"""Our Gemini wire format against an independent reference: Google's own SDK, `google-genai` (pinned in
Deploy/local/requirements.txt). What the real segment-runner bootstrap and the `analemma` CLI send is recorded by the
stand-in; each member must validate as the SDK's type with unknown fields forbidden and survive the SDK's own
round trip unchanged (so every name is the wire name); a fixed call must be what the SDK itself sends; every stand-in
answer must validate as the SDK's response type; and the SDK itself must be able to talk to the stand-in, on both the
Gemini Developer API and Vertex AI paths."""

import json
import urllib.error
import urllib.request

import google.auth.credentials
import pytest
from google import genai
from google.genai import errors, types
from pydantic import TypeAdapter

from test_cognition import cli, gemini, fresh_standin  # noqa: F401
from test_workflows import MODEL, start, wait, engine  # noqa: F401

MEMBERS = {"contents": TypeAdapter(list[types.Content]), "systemInstruction": TypeAdapter(types.Content),
           "generationConfig": TypeAdapter(types.GenerationConfig), "tools": TypeAdapter(list[types.Tool])}


class StaticToken(google.auth.credentials.Credentials):
    """A bearer token that never expires (the stand-in checks only that one is sent)."""

    def __init__(self):
        super().__init__()
        self.token = "test-token"

    def refresh(self, request):
        self.token = "test-token"


def sdk(endpoint, api):
    if api == "developer":
        return genai.Client(api_key="test-key", http_options=types.HttpOptions(base_url=endpoint, api_version="v1beta"))
    return genai.Client(vertexai=True, project="test-project", location="global", credentials=StaticToken(),
                        http_options=types.HttpOptions(base_url=endpoint, api_version="v1"))


def upper_enums(doc):
    """Enum values in upper case (the SDK's enums take any case and dump their upper-case names)."""
    if isinstance(doc, dict):
        return {k: (v.upper() if k in ("type", "thinkingLevel") and isinstance(v, str) else upper_enums(v)) for k, v in doc.items()}
    if isinstance(doc, list):
        return [upper_enums(v) for v in doc]
    return doc


def assert_conforms(body):
    """Each member validates as its SDK type (extra fields forbidden) and the SDK's wire dump of it is the same JSON."""
    assert set(body) <= set(MEMBERS), f"members the SDK does not know: {set(body) - set(MEMBERS)}"
    for name, value in body.items():
        adapter = MEMBERS[name]
        parsed = adapter.validate_json(json.dumps(value))
        dumped = json.loads(adapter.dump_json(parsed, by_alias=True, exclude_none=True))
        assert dumped == upper_enums(value), f"{name}: the SDK reads it differently:\n{dumped}\n!=\n{value}"


SCHEMA = {"type": "object", "properties": {"verdict": {"type": "string", "enum": ["approve", "reject"]},
                                           "score": {"type": "integer", "minimum": 0, "maximum": 10}},
          "required": ["verdict", "score"], "propertyOrdering": ["verdict", "score"]}


def judge(**config):
    return {"workflow_id": "judge", "version": 1, "entry": "judge", "outputs": ["verdict"],
            "nodes": [{"id": "judge", "type": "llm", "reads": ["topic"], "writes": ["verdict"],
                       "config": {"prompt": "Judge {{topic}}.", **config}}], "edges": []}


def test_every_request_the_segment_runner_sends_validates_as_the_sdks_types(sfn, endpoint, engine):  # noqa: F811
    """Every hint on the wire at once, a tool exchange, and a co-design over Vertex: all as the SDK reads them."""
    gemini(endpoint, "POST", {"model": MODEL["medium"], "responses": [{"text": '{"verdict": "approve", "score": 8}'}]})
    w = judge(system="You are a strict judge.", temperature=0.1, top_p=0.9, max_output_tokens=512, stop_sequences=["END"],
              response_schema=SCHEMA, thinking_level="low", complexity="medium")
    d = wait(sfn, start(sfn, engine, w, {"topic": "tides"}))
    assert d["status"] == "SUCCEEDED", d
    gemini(endpoint, "POST", {"model": MODEL["medium"], "responses": [
        {"function_call": {"name": "json_extract", "args": {"from": "plan", "path": "steps[0]"}}}, {"text": "search"}]})
    from test_workflows import example
    assert wait(sfn, start(sfn, engine, example("tool-use.json"), {"topic": "tides"}))["status"] == "SUCCEEDED"
    vertex = cli(endpoint, "codesign", "summarise a topic", env={
        "MODEL_PROVIDER": "vertex", "VERTEX_ENDPOINT": endpoint, "VERTEX_PROJECT": "p", "VERTEX_ACCESS_TOKEN": "t"})
    assert vertex.returncode == 0, vertex.stderr
    seen = gemini(endpoint)
    assert seen["refused"] == []
    sent = seen["requests"]
    assert [r["api"] for r in sent] == ["developer"] * 3 + ["vertex"]
    for r in sent:
        assert_conforms(r["body"])
    config = sent[0]["body"]["generationConfig"]
    assert config["responseSchema"]["type"] == "OBJECT" and config["thinkingConfig"] == {"thinkingLevel": "LOW"}
    assert sent[1]["body"]["tools"][0]["functionDeclarations"][0]["parameters"]["type"] == "OBJECT"


@pytest.mark.parametrize("api", ["developer", "vertex"])
def test_a_fixed_call_is_what_the_sdk_itself_sends(sfn, endpoint, engine, api):  # noqa: F811
    hints = {"system": "Be brief.", "temperature": 0.2, "max_output_tokens": 256, "response_mime_type": "application/json",
             "response_schema": {"type": "object", "properties": {"summary": {"type": "string"}}}, "thinking_level": "low"}
    gemini(endpoint, "POST", {"model": "*", "responses": [{"text": '{"summary": "The Moon."}'}]})
    w = judge(**hints)
    w["nodes"][0]["config"]["prompt"] = "Summarise: {{topic}}"
    d = wait(sfn, start(sfn, engine, w, {"topic": "tides"}))
    assert d["status"] == "SUCCEEDED", d
    config = types.GenerateContentConfig(
        system_instruction="Be brief.", temperature=0.2, max_output_tokens=256, response_mime_type="application/json",
        response_schema={"type": "object", "properties": {"summary": {"type": "string"}}},
        thinking_config=types.ThinkingConfig(thinking_level="LOW"))
    client = sdk(endpoint, api)  # kept: a collected client closes its connection pool
    answer = client.models.generate_content(model=MODEL["medium"], contents="Summarise: tides", config=config)
    assert answer.text == f"[gemini-standin {MODEL['medium']}] Summarise: tides"
    ours, theirs = gemini(endpoint)["requests"]
    assert theirs["api"] == api
    # the SDK sends thinkingConfig under its Python names ({"thinking_level": ...}); the API takes both spellings, so
    # that member is compared as the SDK reads it, and everything else as JSON
    ours_thinking = ours["body"]["generationConfig"].pop("thinkingConfig")
    theirs_thinking = theirs["body"]["generationConfig"].pop("thinkingConfig")
    assert types.ThinkingConfig.model_validate(ours_thinking) == types.ThinkingConfig.model_validate(theirs_thinking)
    assert ours["body"] == theirs["body"]


SCRIPTS = [{}, {"text": "Three facts.", "thoughts": 7}, {"function_call": {"name": "template", "args": {"template": "x"}}},
           {"block": "SAFETY"}, {"finish_reason": "MAX_TOKENS"}]


@pytest.mark.parametrize("script", SCRIPTS, ids=["default", "thoughts", "function_call", "blocked", "max_tokens"])
def test_every_stand_in_answer_validates_as_the_sdks_response_type(endpoint, script):
    gemini(endpoint, "POST", {"model": "*", "responses": [script]})
    body = json.dumps({"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}).encode()
    req = urllib.request.Request(f"{endpoint}/v1beta/models/m:generateContent", data=body, method="POST",
                                 headers={"Content-Type": "application/json", "x-goog-api-key": "k"})
    with urllib.request.urlopen(req, timeout=10) as r:
        raw = r.read()
    parsed = types.GenerateContentResponse.model_validate_json(raw)
    assert json.loads(parsed.model_dump_json(by_alias=True, exclude_none=True)) == json.loads(raw)


@pytest.mark.parametrize("api", ["developer", "vertex"])
def test_the_sdk_itself_talks_to_the_stand_in(endpoint, api):
    client = sdk(endpoint, api)
    r = client.models.generate_content(model="gemini-test", contents="What is a tide?")
    assert r.text == "[gemini-standin gemini-test] What is a tide?" and r.usage_metadata.prompt_token_count == 4
    gemini(endpoint, "POST", {"model": "gemini-test", "responses": [
        {"function_call": {"name": "lookup", "args": {"q": "tide"}}}, {"status": 429, "retry_after": 7}]})
    tool = types.Tool(function_declarations=[types.FunctionDeclaration(
        name="lookup", description="look a word up", parameters={"type": "object", "properties": {"q": {"type": "string"}}})])
    call = client.models.generate_content(model="gemini-test", contents="Look up tide.",
                                          config=types.GenerateContentConfig(tools=[tool]))
    assert call.function_calls[0].name == "lookup" and call.function_calls[0].args == {"q": "tide"}
    with pytest.raises(errors.ClientError) as refused:
        client.models.generate_content(model="gemini-test", contents="again")
    assert refused.value.code == 429 and refused.value.status == "RESOURCE_EXHAUSTED"
    assert refused.value.details["error"]["details"][0]["retryDelay"] == "7s"
    assert [r["api"] for r in gemini(endpoint)["requests"]] == [api] * 3


def test_the_stand_in_refuses_what_google_refuses(endpoint):
    """An unknown member or field is a 400 naming it, as Google answers; nothing is recorded as answered."""
    for body, name in [({"contents": [{"role": "user", "parts": [{"text": "hi"}]}], "generation_confg": {}}, "generation_confg"),
                       ({"contents": [{"role": "user", "parts": [{"txt": "hi"}]}]}, "txt")]:
        req = urllib.request.Request(f"{endpoint}/v1beta/models/m:generateContent", data=json.dumps(body).encode(),
                                     method="POST", headers={"x-goog-api-key": "k"})
        with pytest.raises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(req, timeout=10)
        error = json.loads(e.value.read())["error"]
        assert e.value.code == 400 and error["status"] == "INVALID_ARGUMENT" and f'Unknown name "{name}"' in error["message"]
    seen = gemini(endpoint)
    assert seen["requests"] == [] and len(seen["refused"]) == 2


TABLES = "High water at the harbour mouth comes 40 minutes before the quay. " * 80  # ~1,300 tokens: above the minimum


@pytest.mark.parametrize("api", ["developer", "vertex"])
def test_the_sdk_caches_a_prefix_at_the_stand_in_and_is_billed_its_cached_tokens(endpoint, api):
    client = sdk(endpoint, api)
    cache = client.caches.create(model="gemini-test", config=types.CreateCachedContentConfig(
        contents=[types.Content(role="user", parts=[types.Part(text=TABLES)])], system_instruction="You read tide tables.",
        ttl="600s"))
    assert cache.usage_metadata.total_token_count > 1024 and cache.expire_time is not None
    r = client.models.generate_content(model="gemini-test", contents="When is high water?",
                                       config=types.GenerateContentConfig(cached_content=cache.name))
    assert r.usage_metadata.cached_content_token_count == cache.usage_metadata.total_token_count
    assert r.usage_metadata.prompt_token_count > r.usage_metadata.cached_content_token_count
    with pytest.raises(errors.ClientError) as small:
        client.caches.create(model="gemini-test", config=types.CreateCachedContentConfig(
            contents=[types.Content(role="user", parts=[types.Part(text="too short")])]))
    assert small.value.code == 400 and "too small" in small.value.message
    with pytest.raises(errors.ClientError) as both:  # a cache and a system instruction of its own: Google refuses
        client.models.generate_content(model="gemini-test", contents="x", config=types.GenerateContentConfig(
            cached_content=cache.name, system_instruction="again"))
    assert both.value.code == 400


def test_a_stand_in_cache_validates_as_the_sdks_cached_content(endpoint):
    body = json.dumps({"model": "models/m", "ttl": "600s", "contents": [{"role": "user", "parts": [{"text": TABLES}]}]})
    req = urllib.request.Request(f"{endpoint}/v1beta/cachedContents", data=body.encode(), method="POST",
                                 headers={"x-goog-api-key": "k"})
    with urllib.request.urlopen(req, timeout=10) as r:
        raw = r.read()
    parsed = types.CachedContent.model_validate_json(raw)
    assert parsed.name.startswith("cachedContents/") and parsed.model == "models/m"
    assert json.loads(parsed.model_dump_json(by_alias=True, exclude_none=True)).keys() == json.loads(raw).keys()


def test_a_fixed_batch_is_what_the_sdk_itself_sends_and_the_sdk_reads_the_job(sfn, endpoint, engine):  # noqa: F811
    from test_batch_mode import batch_map
    w = batch_map(llm={"system": "Be brief.", "temperature": 0.2, "max_output_tokens": 256})
    d = wait(sfn, start(sfn, engine, w, {"docs": ["tides", "kelp"]}), seconds=60)
    assert d["status"] == "SUCCEEDED", d
    [ours] = gemini(endpoint)["batches"]
    config = types.GenerateContentConfig(system_instruction="Be brief.", temperature=0.2, max_output_tokens=256)
    client = sdk(endpoint, "developer")
    job = client.batches.create(
        model=MODEL["medium"], config=types.CreateBatchJobConfig(display_name=ours["display_name"]),
        src=[types.InlinedRequest(contents=f"Summarise: {doc}", config=config, metadata={"key": str(i)})
             for i, doc in enumerate(["tides", "kelp"])])
    assert job.state == types.JobState.JOB_STATE_PENDING
    theirs = gemini(endpoint)["batches"][1]
    assert ours["body"] == theirs["body"]
    while (job := client.batches.get(name=job.name)).state != types.JobState.JOB_STATE_SUCCEEDED:
        assert job.state == types.JobState.JOB_STATE_RUNNING
    answers = {r.metadata["key"]: r.response.text for r in job.dest.inlined_responses}
    assert answers == {"0": f"[gemini-standin {MODEL['medium']}] Summarise: tides",
                       "1": f"[gemini-standin {MODEL['medium']}] Summarise: kelp"}
    assert gemini(endpoint)["requests"] == []


def test_the_stand_in_refuses_a_batch_google_would_refuse(endpoint):
    def create(body):
        req = urllib.request.Request(f"{endpoint}/v1beta/models/{MODEL['medium']}:batchGenerateContent", method="POST",
                                     data=json.dumps(body).encode(), headers={"x-goog-api-key": "k"})
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read())
    turn = {"role": "user", "parts": [{"text": "hi"}]}
    for bad, why in [({"batch": {"inputConfig": {"requests": {"requests": [{"request": {"contents": [turn]}}]}}}}, "display_name"),
                     ({"batch": {"displayName": "x", "inputConfig": {"requests": {"requests": [
                         {"request": {"contents": [turn], "temprature": 1}}]}}}}, "temprature"),
                     ({"batch": {"displayName": "x", "inputConfig": {}}}, "input_config"),
                     ({"batch": {"displayName": "x", "state": "BATCH_STATE_SUCCEEDED", "inputConfig": {}}}, "state")]:
        status, doc = create(bad)
        assert status == 400 and why in doc["error"]["message"], (bad, doc)
    assert gemini(endpoint)["batches"] == []
