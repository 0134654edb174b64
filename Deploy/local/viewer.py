"""The live viewer on the local stack: connect tokens from the `analemma token` command (the notifier's local
secret from Functions/websocket-notifier/function.json) and the viewer URL of an execution."""

import json
import os
import subprocess
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def local_secret():
    with open(os.path.join(ROOT, "Functions", "websocket-notifier", "function.json")) as f:
        return json.load(f)["local"]["environment"]["CONNECT_TOKEN_SECRET"]


def token(owner, ttl=3600, bin_dir=None, secret=None):
    """`analemma token OWNER --ttl TTL` with `secret` (default: $CONNECT_TOKEN_SECRET, else the local stack's)."""
    cli = os.path.join(bin_dir or os.path.join(ROOT, ".build", "release"), "analemma")
    secret = secret or os.environ.get("CONNECT_TOKEN_SECRET") or local_secret()
    r = subprocess.run([cli, "token", owner, "--ttl", str(ttl)], capture_output=True, text=True, timeout=30,
                       env=dict(os.environ, CONNECT_TOKEN_SECRET=secret))
    if r.returncode != 0:
        raise RuntimeError(f"analemma token: {r.stderr.strip()}")
    return r.stdout.strip()


def url(endpoint, execution_arn, connect_token):
    """The viewer's address: the token in the fragment, which no request carries (so no access log holds it)."""
    return (f"{endpoint}/viewer?" + urllib.parse.urlencode({"execution": execution_arn}) + "#"
            + urllib.parse.urlencode({"token": connect_token}))


class Progress:
    """Counts an execution's events as they arrive over the WebSocket; `line()` is the compact progress line."""

    def __init__(self):
        self.counts, self.status, self.last, self.seen = {}, "RUNNING", "", set()

    def add(self, message):
        for e in message.get("events", []) if message.get("type") == "events" else []:
            if (message["shard"], e["seq"]) in self.seen:  # a backlog shard announced live too
                continue
            self.seen.add((message["shard"], e["seq"]))
            self.counts[e["event"]] = self.counts.get(e["event"], 0) + 1
            a = e.get("attributes", {})
            if e["event"] == "human_waiting":
                self.status = "WAITING"
            elif e["event"] == "human_answered":
                self.status = "RUNNING"
            elif e["event"] == "execution_finished":
                self.status = a.get("status", "SUCCEEDED")
            elif e["event"] == "execution_failed":
                self.status = "FAILED"

    def line(self):
        c = self.counts
        return (f"live: {sum(c.values())} events | {c.get('segment_finished', 0)} segments | "
                f"{c.get('node_finished', 0)} nodes | {c.get('llm_call', 0)} llm calls | "
                f"{c.get('checkpoint', 0)} checkpoints | {c.get('heal_attempt', 0)} heals | {self.status}")
