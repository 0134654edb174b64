"""A local stand-in for the Gemini `generateContent` API, served by the front door on the same paths as Google:

  POST /v1beta/models/{model}:generateContent                                      (x-goog-api-key)
  POST /v1/projects/{p}/locations/{l}/publishers/google/models/{model}:generateContent   (Authorization: Bearer)
  POST /upload/v1beta/files, then its session URL                                  the Files API (gemini_files)

Refuses what Google refuses: a body member that is not what Google's own SDK (`google-genai`) would send - an unknown
field anywhere, a wrong type - is a 400 INVALID_ARGUMENT naming it, as the real API answers ("Unknown name ...").

Answers deterministically: `[gemini-standin {model}] {last user text}`, with usageMetadata (~4 bytes per token);
a co-design request (JSON response asked for) gets a small valid workflow drafted from its description;
a thought signature on the part (to check it comes back verbatim), finishReason STOP. Scriptable per test:

  POST   /_analemma/gemini   {"model": "<id or *>", "responses": [{"status": 429, "retry_after": 30}, {"text": "…"}, {"block": "SAFETY"},
                              {"finish_reason": "MAX_TOKENS"}, {"status": 500},
                              {"function_call": {"name": "json_extract", "args": {…}}}], "latency_ms": 0}
  POST   /_analemma/gemini   {"batch_polls": 2, "batch_outcome": "BATCH_STATE_FAILED"}: how batch jobs end (gemini_batches)
  GET    /_analemma/gemini   the requests answered (path, model, api, body, media seen) and refused (path, model, body,
                             error), caches, batch jobs (with their bodies and token sums), files and uploads
  DELETE /_analemma/gemini   forget scripts and requests
"""

import json
import re
import threading
import time
import uuid

import gemini_batches
import gemini_caches
import gemini_files

DEVELOPER = re.compile(r"^/v1beta/models/([^/:]+):generateContent$")
VERTEX = re.compile(r"^/v1/projects/[^/]+/locations/[^/]+/publishers/google/models/([^/:]+):generateContent$")
STATUS_NAMES = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND",
                429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE"}


CODESIGN_MARKER = "The workflow to design:"


def draft_workflow(description):
    """What the stand-in drafts for `analemma codesign`: an LLM step on the description, plus a human approval when
    the description asks for one - deterministic, valid, and obviously a stand-in's work."""
    nodes = [{"id": "draft", "type": "llm", "reads": ["topic"], "writes": ["draft"],
              "config": {"prompt": f"{description[:300]}\n\nTopic: {{{{topic}}}}", "complexity": "medium"}}]
    edges, outputs = [], ["draft"]
    if any(word in description.lower() for word in ("approv", "human", "review", "sign off")):
        nodes.append({"id": "approve", "type": "hitp", "reads": ["draft"], "writes": ["approval"],
                      "config": {"question": "Approve this draft? Answer approval yes/no.\n\n{{draft}}"}})
        edges.append({"from": "draft", "to": "approve"})
        outputs.append("approval")
    return {"workflow_id": "stand-in-draft", "version": 1, "description": f"drafted by the local stand-in: {description[:200]}",
            "entry": "draft", "outputs": outputs, "nodes": nodes, "edges": edges}


def _json(status, doc):
    return status, [("Content-Type", "application/json")], json.dumps(doc).encode()


def _error(status, message, retry_after=None):
    """Google's error body; a retry hint as the API gives it: a `Retry-After` header and a `google.rpc.RetryInfo`."""
    error = {"code": status, "message": message, "status": STATUS_NAMES.get(status, "UNKNOWN")}
    if retry_after is None:
        return _json(status, {"error": error})
    error["details"] = [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": f"{retry_after}s"}]
    code, headers, body = _json(status, {"error": error})
    return code, headers + [("Retry-After", str(retry_after))], body


_MEMBERS = None


def _members():
    """The request members the API takes, each with the `google-genai` type that must validate it."""
    global _MEMBERS
    if _MEMBERS is None:
        from google.genai import types
        from pydantic import TypeAdapter
        _MEMBERS = {"contents": TypeAdapter(list[types.Content]), "systemInstruction": TypeAdapter(types.Content),
                    "generationConfig": TypeAdapter(types.GenerationConfig), "tools": TypeAdapter(list[types.Tool]),
                    "toolConfig": TypeAdapter(types.ToolConfig), "safetySettings": TypeAdapter(list[types.SafetySetting]),
                    "cachedContent": TypeAdapter(str)}
        snake = {re.sub(r"([A-Z])", lambda m: "_" + m.group(1).lower(), k): v for k, v in _MEMBERS.items()}
        _MEMBERS.update(snake)  # the API takes proto field names as well as their JSON names
    return _MEMBERS


def refusal(request, members=None, extra=()):
    """Why Google would refuse this body (None when it would not): generateContent's members unless told others
    (`extra`: string members a request also takes where it is nested, like a batch request's `model`)."""
    if not isinstance(request, dict):
        return "Invalid JSON payload received. Expected an object."
    members = members or _members()
    for name, value in request.items():
        if name in extra and isinstance(value, str):
            continue
        if name not in members:
            return f'Invalid JSON payload received. Unknown name "{name}": Cannot find field.'
        try:
            members[name].validate_json(json.dumps(value))
        except ValueError as e:  # pydantic.ValidationError
            first = e.errors()[0]
            where = ".".join(str(p) for p in (name, *first["loc"]))
            if first["type"] == "extra_forbidden":
                return f'Invalid JSON payload received. Unknown name "{first["loc"][-1]}" at \'{where}\': Cannot find field.'
            return f"Invalid value at '{where}': {first['msg']}"
    if members is _MEMBERS and not request.get("contents"):
        return "* GenerateContentRequest.contents: contents is not specified"
    return None


class GeminiStandIn:
    def __init__(self):
        self.lock = threading.Lock()
        self.scripts = {}  # model or "*" -> [response spec]
        self.latency = 0.0
        self.requests = []
        self.refused = []
        self.caches = gemini_caches.Caches(_error, _json)
        self.cache_requests = []
        self.batches = gemini_batches.Batches(_error, _json)
        self.files = gemini_files.Files(_error, _json)

    def handle(self, method, path, headers, body):
        """(status, headers, body) for stand-in paths, else None."""
        if path == "/_analemma/gemini":
            return self._control(method, body)
        dev, vertex = DEVELOPER.match(path), VERTEX.match(path)
        caching = gemini_caches.DEVELOPER.match(path) or gemini_caches.VERTEX.match(path)
        if self.files.matches(method, path):
            with self.lock:
                return self.files.handle(path, headers, body, f"http://{headers.get('Host', '127.0.0.1')}")
        if self.batches.matches(method, path):
            if not headers.get("x-goog-api-key"):
                return _error(401, "API key missing: send x-goog-api-key")
            try:
                request = json.loads(body) if method == "POST" else None
            except ValueError as e:
                return _error(400, f"Invalid JSON payload received: {e}")
            with self.lock:
                return self.batches.handle(method, path, body, request, refusal, self._batch_answer)
        if method != "POST" or not (dev or vertex or caching):
            return None
        if dev and not headers.get("x-goog-api-key"):
            return _error(401, "API key missing: send x-goog-api-key")
        if vertex and not headers.get("Authorization", "").startswith("Bearer "):
            return _error(401, "Request is missing required authentication credential")
        if caching and not headers.get("x-goog-api-key") and not headers.get("Authorization", "").startswith("Bearer "):
            return _error(401, "Request is missing required authentication credential")
        try:
            request = json.loads(body)
        except ValueError as e:
            return _error(400, f"Invalid JSON payload received: {e}")
        if caching:
            with self.lock:
                answer = self.caches.create(path, request, refusal)
                self.cache_requests.append({"path": path, "body": request, "status": answer[0]})
            return answer
        model = (dev or vertex).group(1)
        why = refusal(request)
        if why:
            with self.lock:
                self.refused.append({"path": path, "model": model, "body": request, "error": why})
            return _error(400, why)
        with self.lock:
            problem, media = self.files.check(request, vertex=bool(vertex))
            if problem:
                self.refused.append({"path": path, "model": model, "body": request, "error": problem[1]})
        if problem:
            return _error(*problem)
        with self.lock:
            cache, refused = self.caches.use(request, model)
        if refused:
            return refused
        with self.lock:
            self.requests.append({"path": path, "model": model, "api": "developer" if dev else "vertex", "body": request,
                                  "media": media})
            spec = self._script(model)
            latency = self.latency
        if latency:
            time.sleep(latency)
        if "status" in spec:
            return _error(spec["status"], spec.get("message", f"scripted {spec['status']} for {model}"), spec.get("retry_after"))
        return _json(200, self._answer(model, request, spec, cache, len(body), media))

    def _script(self, model):
        queue = self.scripts.get(model) or self.scripts.get("*") or []
        return queue.pop(0) if queue else {}

    def _batch_answer(self, model, request):
        """(status, doc) for one request of a batch job: what generateContent would answer (scripts apply, in order)."""
        spec = self._script(model)
        if "status" in spec:
            return spec["status"], json.loads(_error(spec["status"], spec.get("message", f"scripted {spec['status']}"))[2])
        return 200, self._answer(model, request, spec, None, len(json.dumps(request)))

    def _answer(self, model, request, spec, cache, size, media=()):
        """The GenerateContentResponse for a request the stand-in accepted."""
        prompt = "".join(p.get("text") or "" for p in request["contents"][-1].get("parts") or [])
        if "block" in spec:
            return {"promptFeedback": {"blockReason": spec["block"]},
                    "usageMetadata": {"promptTokenCount": (len(prompt) + 3) // 4, "totalTokenCount": (len(prompt) + 3) // 4}}
        if "function_call" in spec:
            call = spec["function_call"]
            return {
                "candidates": [{"content": {"role": "model", "parts": [
                    {"functionCall": {"name": call["name"], "args": call.get("args", {})}, "thoughtSignature": "Y2FsbA=="}]},
                    "finishReason": "STOP", "index": 0}],
                "usageMetadata": {"promptTokenCount": (size + 3) // 4, "candidatesTokenCount": 10, "totalTokenCount": (size + 3) // 4 + 10},
                "modelVersion": model}
        default = f"[gemini-standin {model}] {prompt}"
        if media:  # what it was shown, so a test can tell the bytes arrived (sha256 prefixes of each part)
            default += " [saw " + "; ".join(f"{m['mimeType']} {m['size']} bytes {m['via']} sha256:{m['sha256'][:16]}" for m in media) + "]"
        wants_json = (request.get("generationConfig") or {}).get("responseMimeType") == "application/json"
        if wants_json and CODESIGN_MARKER in prompt:  # the co-design assistant's first draft: a small valid workflow
            default = json.dumps(draft_workflow(prompt.split(CODESIGN_MARKER, 1)[1].strip()))
        text = spec.get("text", default)
        # every turn and the system instruction count; a cache's tokens are part of the prompt, billed as cached
        cached = cache["tokens"] if cache else 0
        images = sum(1 for m in media if m["mimeType"].startswith("image/"))  # Gemini counts 258 tokens an image
        usage = {"promptTokenCount": gemini_caches.text_tokens(request.get("systemInstruction"), *request["contents"]) + cached + 258 * images,
                 "candidatesTokenCount": (len(text.encode()) + 3) // 4, "thoughtsTokenCount": spec.get("thoughts", 0)}
        usage["totalTokenCount"] = sum(usage.values())
        if cached:
            usage["cachedContentTokenCount"] = cached
        return {
            "candidates": [{"content": {"role": "model", "parts": [{"text": text, "thoughtSignature": "c3RhbmRpbg=="}]},
                            "finishReason": spec.get("finish_reason", "STOP"), "index": 0}],
            "usageMetadata": usage, "modelVersion": model, "responseId": uuid.uuid4().hex[:16]}

    def _control(self, method, body):
        with self.lock:
            if method == "POST":
                doc = json.loads(body or b"{}")
                self.scripts.setdefault(doc.get("model", "*"), []).extend(doc.get("responses", []))
                if "latency_ms" in doc:
                    self.latency = doc["latency_ms"] / 1000
                if "batch_polls" in doc:
                    self.batches.polls = int(doc["batch_polls"])
                if "batch_outcome" in doc:
                    self.batches.outcome = doc["batch_outcome"]
                if "batch_get_errors" in doc:
                    self.batches.get_errors = int(doc["batch_get_errors"])
                return _json(200, {"scripted": sum(len(q) for q in self.scripts.values())})
            if method == "DELETE":
                self.scripts, self.requests, self.refused, self.latency = {}, [], [], 0.0
                self.caches.entries, self.cache_requests = {}, []
                self.batches = gemini_batches.Batches(_error, _json)
                self.files = gemini_files.Files(_error, _json)
                return _json(200, {"reset": True})
            return _json(200, {"requests": self.requests, "refused": self.refused, "caches": self.caches.listing(),
                               "cache_requests": self.cache_requests, "batches": self.batches.listing(), "files": self.files.listing()})
