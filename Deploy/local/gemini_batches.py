"""The stand-in's Batch API (Developer API only, as Google serves it), answered with the stand-in's own answers:

  POST /v1beta/models/{model}:batchGenerateContent   {"batch": {"displayName", "inputConfig": {"requests": {"requests":
                                                      [{"request": GenerateContentRequest, "metadata": {...}}]}}}}
  GET  /v1beta/batches/{id}                          the job as an Operation: BATCH_STATE_PENDING, then RUNNING, then
                                                      SUCCEEDED with metadata.output.inlinedResponses.inlinedResponses

Refuses what Google refuses: an unknown member anywhere (each request checked as generateContent's body), no
displayName or inputConfig, inline requests over 20 MB, an unknown job (404). A job stays RUNNING for `batch_polls`
GETs (default 1; scripted through the control endpoint, with `batch_outcome` to end it FAILED, CANCELLED or EXPIRED,
and `batch_get_errors` to answer the next GETs 503).
https://ai.google.dev/api/batch-api
"""

import re
import time
import uuid

DEVELOPER = re.compile(r"^/v1beta/models/([^/:]+):batchGenerateContent$")
JOB = re.compile(r"^/v1beta/(batches/[A-Za-z0-9_-]+)$")
MAX_INLINE_BYTES = 20 * 1024 * 1024
BATCH_TYPE = "type.googleapis.com/google.ai.generativelanguage.v1beta.GenerateContentBatch"
OUTPUT_TYPE = "type.googleapis.com/google.ai.generativelanguage.v1beta.GenerateContentBatchOutput"


def _stamp(t):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int(t % 1 * 1e6):06d}Z"


class Batches:
    def __init__(self, error, respond):
        self.error, self.respond = error, respond
        self.jobs = {}  # name -> job
        self.polls = 1
        self.outcome = "BATCH_STATE_SUCCEEDED"
        self.get_errors = 0  # the next GETs answered 503 (a poll that fails; the job runs on)

    def matches(self, method, path):
        return (method == "POST" and DEVELOPER.match(path)) or (method == "GET" and JOB.match(path))

    def handle(self, method, path, body, request, refuse, answer):
        """`refuse(doc, members=None)` names a bad generateContent member; `answer(model, request)` is (status, doc)."""
        create = DEVELOPER.match(path)
        if method == "GET":
            return self._get(JOB.match(path).group(1))
        if len(body) > MAX_INLINE_BYTES:
            return self.error(400, f"Request payload size exceeds the limit: {MAX_INLINE_BYTES} bytes.")
        why = self._refusal(request, refuse)
        if why:
            return self.error(400, why)
        model = create.group(1)
        batch = request["batch"]
        items = batch["inputConfig"]["requests"]["requests"]
        responses = []
        for item in items:
            status, doc = answer(model, item["request"])
            entry = {"response": doc} if status == 200 else {"error": doc["error"]}
            if "metadata" in item:
                entry["metadata"] = item["metadata"]
            responses.append(entry)
        now = time.time()
        name = "batches/" + uuid.uuid4().hex[:16]
        self.jobs[name] = {"name": name, "model": f"models/{model}", "displayName": batch["displayName"], "created": now,
                           "polls_left": self.polls, "outcome": self.outcome, "responses": responses, "body": request,
                           "gets": 0}
        return self.respond(200, self._operation(self.jobs[name], "BATCH_STATE_PENDING"))

    def _refusal(self, request, refuse):
        if not isinstance(request, dict) or set(request) - {"batch"} or not isinstance(request.get("batch"), dict):
            extra = sorted(set(request) - {"batch"}) if isinstance(request, dict) else []
            return f'Invalid JSON payload received. Unknown name "{extra[0]}": Cannot find field.' if extra else \
                "* BatchGenerateContentRequest.batch: batch is not specified"
        batch = request["batch"]
        for key in batch:
            if key not in ("displayName", "display_name", "inputConfig", "input_config", "priority"):
                return f'Invalid JSON payload received. Unknown name "{key}" at \'batch\': Cannot find field.'
        if not isinstance(batch.get("displayName"), str) or not batch["displayName"]:
            return "* GenerateContentBatch.display_name: display_name is required"
        config = batch.get("inputConfig")
        if not isinstance(config, dict) or set(config) - {"requests", "fileName"} or len(config) != 1:
            return "* GenerateContentBatch.input_config: exactly one of requests or fileName is required"
        if "fileName" in config:
            return "the stand-in serves inline requests only (fileName needs the Files API)"
        inner = config["requests"]
        if not isinstance(inner, dict) or set(inner) != {"requests"} or not isinstance(inner["requests"], list):
            return "Invalid value at 'batch.input_config.requests': expected {\"requests\": [...]}"
        if not inner["requests"]:
            return "* GenerateContentBatch.input_config.requests: at least one request is required"
        for i, item in enumerate(inner["requests"]):
            if not isinstance(item, dict) or set(item) - {"request", "metadata"} or "request" not in item:
                return f"Invalid value at 'batch.input_config.requests.requests[{i}]': an InlinedRequest has request and metadata only"
            if "metadata" in item and not isinstance(item["metadata"], dict):
                return f"Invalid value at 'batch.input_config.requests.requests[{i}].metadata': expected an object"
            why = refuse(item["request"], None, extra={"model"})
            if why:
                return f"batch.input_config.requests.requests[{i}].request: {why}"
        return None

    def _get(self, name):
        job = self.jobs.get(name)
        if job is None:
            return self.error(404, f"Batch {name} not found.")
        job["gets"] += 1
        if self.get_errors > 0:
            self.get_errors -= 1
            return self.error(503, "The service is currently unavailable.")
        if job["polls_left"] > 0:
            job["polls_left"] -= 1
            return self.respond(200, self._operation(job, "BATCH_STATE_RUNNING"))
        return self.respond(200, self._operation(job, job["outcome"]))

    def _operation(self, job, state):
        now = time.time()
        meta = {"@type": BATCH_TYPE, "name": job["name"], "model": job["model"], "displayName": job["displayName"],
                "createTime": _stamp(job["created"]), "updateTime": _stamp(now), "state": state,
                "batchStats": {"requestCount": str(len(job["responses"]))}}
        operation = {"name": job["name"], "metadata": meta}
        if state == "BATCH_STATE_SUCCEEDED":
            output = {"inlinedResponses": {"inlinedResponses": job["responses"]}}
            meta["output"] = output
            meta["endTime"] = _stamp(now)
            ok = sum(1 for r in job["responses"] if "response" in r)
            meta["batchStats"].update({"successfulRequestCount": str(ok), "failedRequestCount": str(len(job["responses"]) - ok)})
            operation.update({"done": True, "response": {"@type": OUTPUT_TYPE, **output}})
        elif state in ("BATCH_STATE_FAILED", "BATCH_STATE_CANCELLED", "BATCH_STATE_EXPIRED"):
            operation.update({"done": True, "error": {"code": 13 if state == "BATCH_STATE_FAILED" else 1,
                                                      "message": f"scripted {state}"}})
        return operation

    def listing(self):
        def tokens(job, key):
            return sum((r.get("response") or {}).get("usageMetadata", {}).get(key, 0) for r in job["responses"])
        return [{"name": j["name"], "model": j["model"], "display_name": j["displayName"], "requests": len(j["responses"]),
                 "gets": j["gets"], "body": j["body"], "prompt_tokens": tokens(j, "promptTokenCount"),
                 "output_tokens": tokens(j, "candidatesTokenCount") + tokens(j, "thoughtsTokenCount")}
                for j in self.jobs.values()]
