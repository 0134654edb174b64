"""The WebSocket client of the demo's live progress and the tests: `websockets`' own client (RFC 6455), so the local
gateway is held to an independent implementation of the protocol, not to a second copy of its own framing."""

import json
import urllib.parse

from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect


class Refused(Exception):
    def __init__(self, status, body):
        super().__init__(f"HTTP {status}: {body}")
        self.status, self.body = status, body


class WebSocketClient:
    def __init__(self, endpoint, token=None, path="/ws", timeout=30):
        u = urllib.parse.urlsplit(endpoint)
        scheme = "wss" if u.scheme == "https" else "ws"
        if token is not None:
            path += "?" + urllib.parse.urlencode({"token": token})
        self.timeout, self.token = timeout, token
        try:
            self.ws = connect(f"{scheme}://{u.hostname}:{u.port}{path}", open_timeout=timeout, close_timeout=5,
                              compression=None, max_size=None, ping_interval=None, legacy=True)
        except InvalidStatus as refused:
            response = refused.response
            raise Refused(response.status_code, (response.body or b"").decode("utf-8", "replace")) from None
        self.sizes = []

    def send(self, obj, with_token=True):
        """A message; it carries the connect token (as the notifier requires) unless told not to."""
        self.ws.send(json.dumps({"token": self.token, **obj} if with_token and self.token is not None else obj))

    def receive(self):
        """The next message, decoded (None once the server closed)."""
        try:
            message = self.ws.recv(timeout=self.timeout)
        except ConnectionClosed:
            return None
        data = message.encode() if isinstance(message, str) else message
        self.sizes.append(len(data))
        return json.loads(data)

    def receive_until(self, predicate, limit=10_000):
        """Messages until one satisfies predicate (inclusive)."""
        out = []
        for _ in range(limit):
            m = self.receive()
            if m is None:
                break
            out.append(m)
            if predicate(m):
                return out
        raise AssertionError(f"condition never met in {len(out)} messages: {out[-3:]}")

    def close(self):
        self.ws.close()
