"""Seed corpus for `make fuzz`: real inputs of each decoder, prefixed with its selector byte (FuzzTargets.names)."""

import glob
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def seeds():
    for path in sorted(glob.glob(os.path.join(ROOT, "Deploy", "examples", "workflows", "*.json"))) + sorted(
            glob.glob(os.path.join(ROOT, "Tests", "AnalemmaTests", "Fixtures", "workflows", "*.json"))):
        yield 0, open(path, "rb").read()
    for path in sorted(glob.glob(os.path.join(ROOT, "Functions", "*", "events", "*.json"))):
        yield 1, open(path, "rb").read()
        yield 4, open(path, "rb").read()
        yield 5, open(path, "rb").read()
    # Workflows whose numeric settings are extreme (1e300, -1e300, NaN-like text, fractions) in every numeric field.
    import json
    extreme = [1e300, -1e300, 2.5, 2 ** 62, -1]
    map_node = {"id": "m", "type": "map", "reads": ["docs"], "writes": ["s"], "config": {
        "items": "docs", "workflow": {"entry": "x", "nodes": [{"id": "x", "type": "route"}], "edges": []}}}
    llm_node = {"id": "m", "type": "llm", "reads": [], "writes": ["o"], "config": {"prompt": "p"}}
    for node, keys in ((map_node, ["chunk_size", "inline_max_chunks", "max_concurrency", "tolerated_failure_count",
                                   "tolerated_failure_percentage"]),
                       (llm_node, ["max_output_tokens", "latency_budget_ms", "temperature", "top_p", "thinking_budget",
                                   "max_steps"])):
        for key in keys:
            for value in extreme:
                n = json.loads(json.dumps(node))
                n["config"][key] = value
                yield 0, json.dumps({"workflow_id": "w", "entry": "m", "nodes": [n], "edges": [],
                                     "budget": {"node_runs": value if key == "max_steps" else 5}}).encode()
    # Events of every action with extreme numbers where numbers go (chunk index, version, fan-out sizes).
    for value in extreme:  # a batch map's cursor and pace as batch_poll gets them
        ticket = {"job": "batches/x", "model": "m", "route": "r", "priced_on": "2026-12-01", "requests": value}
        cursor = {"status": "wait_batch", "workflow_id": "w", "workflow": "s3://b/owners/o/workflows/x.json", "step": 1,
                  "batch": {"node": "m", "ticket": ticket, "bucket": "b", "key": "k", "prefix": "p", "items": value,
                            "chunks": value, "chunk_size": value, "poll_seconds": value, "submitted_ms": value}}
        kernel = {"execution_id": "e", "owner_id": "o", "trace_id": "t", "manifest_id": "m", "version": 1, "cursor": cursor,
                  "wait_seconds": value}
        yield 1, json.dumps({"action": "batch_poll", "kernel": kernel}).encode()
        n = json.loads(json.dumps(map_node))
        n["config"].update({"batch": True, "batch_poll_seconds": value})
        n["config"]["workflow"]["nodes"] = [llm_node | {"id": "x", "reads": ["item"]}]
        yield 0, json.dumps({"workflow_id": "w", "entry": "m", "nodes": [n], "edges": []}).encode()
    for key in ("0", "-1", "1e300", "99999999999999999999", "x"):  # batch jobs whose answers claim odd keys
        yield 6, ('{"name":"batches/j","metadata":{"state":"BATCH_STATE_SUCCEEDED","output":{"inlinedResponses":'
                  '{"inlinedResponses":[{"response":{"candidates":[]},"metadata":{"key":"%s"}},{"error":{"message":1},'
                  '"metadata":{"key":"%s"}}]}}}}' % (key, key)).encode()
    for action in ("initialize", "run", "ask", "resume", "finalize", "fail", "heal", "map_chunk", "map_done", "batch_poll"):
        for value in extreme:
            cursor = {"status": "fan_out", "workflow_id": "w", "workflow": "s3://b/owners/o/workflows/x.json", "step": value,
                      "traversals": {"a->b": value}, "fanout": {"node": "m", "bucket": "b", "key": "k", "prefix": "p",
                                                                "items": value, "chunks": value, "chunk_size": value,
                                                                "max_concurrency": value, "tolerated_failure_percentage": value,
                                                                "step": value}}
            kernel = {"execution_id": "e", "owner_id": "o", "trace_id": "t", "manifest_id": "m", "version": value,
                      "cursor": cursor, "map_agg": {"stats": {"map_run_arn": "a:b", "item_counts": {"failed": value}}}}
            event = json.dumps({"action": action, "kernel": kernel, "execution_id": "e", "task_token": "t",
                                "item": {"chunk": {"chunk": "s3://b/x", "index": value, "size": value, "offset": value, "length": value},
                                         "map": cursor["fanout"], "identity": {"execution_id": "e", "owner_id": "o",
                                                                               "trace_id": "t"}, "workflow": "w"},
                                "start": {"owner_id": "o", "workflow": {}}}).encode()
            yield 1, event
            yield 7, bytes([0, int(value) % 3 if value == int(value) else 0]) + event  # the whole segment runner
    for count in ("1e300", "-1", "2.5", "4611686018427387904"):  # model answers with impossible token counts
        yield 6, ('{"candidates":[{"content":{"parts":[{"text":"x"}]},"finishReason":"STOP"}],'
                  '"usageMetadata":{"promptTokenCount":%s,"candidatesTokenCount":%s}}' % (count, count)).encode()
    yield from handler_seeds()
    yield 2, b"v1.team-a.4102444800." + b"0" * 64
    yield 2, b"v1.a.b.c.1.deadbeef"
    yield 3, b"s3://b/owners/team-a/blocks/" + b"a" * 64
    yield 3, b"s3://b/owners/team-a/../team-b/x"


HANDLERS = ["segment-runner", "light-aggregator", "websocket-notifier", "gc-worker"]  # HandlerTargets.functions
MODES = 3  # CannedTransport.Mode: empty, notFound, refused


def handler_seeds():
    """Selector 7: [function, answer mode, event] — every function's sample events, then forged and extreme ones."""
    import json
    events = {name: [open(p, "rb").read() for p in sorted(glob.glob(os.path.join(ROOT, "Functions", name, "events", "*.json")))]
              for name in HANDLERS}
    arn = "arn:aws:states:us-east-1:123456789012:execution:analemma-workflow:x"
    for value in (1e300, -1e300, 2 ** 62, -1, 0.5, "1e300", None, [], {}):
        events["light-aggregator"].append(json.dumps({"map_run": {"MapRunArn": value, "ResultWriterDetails": {
            "Bucket": "analemma-state", "Key": value}}, "execution_id": arn, "trace_id": value, "owner_id": value}).encode())
        events["gc-worker"].append(json.dumps({"Records": [{"messageId": value, "body": json.dumps(
            {"owner_id": value, "block": value, "reason": value})}]}).encode())
        events["gc-worker"].append(json.dumps({"action": value}).encode())
        events["websocket-notifier"].append(json.dumps({"requestContext": {
            "routeKey": "subscribe", "eventType": "MESSAGE", "connectionId": value, "requestTimeEpoch": value},
            "body": json.dumps({"action": "answer", "execution_id": value, "answer": value})}).encode())
        events["websocket-notifier"].append(json.dumps({"requestContext": {"routeKey": "$connect", "eventType": "CONNECT",
            "connectionId": "c"}, "queryStringParameters": {"token": f"v1.team-a.{value}.{'0' * 64}"}}).encode())
        events["websocket-notifier"].append(json.dumps({"Records": [{"messageId": "m", "body": json.dumps({
            "count": value, "execution_id": arn, "owner_id": "team-a", "trace_id": "t",
            "shard": f"s3://analemma-state/owners/team-b/executions/{value}/events/x.jsonl"})}]}).encode())
    for function, bodies in events.items():
        for body in bodies:
            for mode in range(MODES):
                yield 7, bytes([HANDLERS.index(function), mode]) + body


def main(out):
    os.makedirs(out, exist_ok=True)
    n = 0
    for i, (selector, body) in enumerate(seeds()):
        with open(os.path.join(out, f"seed-{i:03d}"), "wb") as f:
            f.write(bytes([selector]) + body)
        n += 1
    print(f"{n} seeds in {out}")


if __name__ == "__main__":
    main(sys.argv[1])
