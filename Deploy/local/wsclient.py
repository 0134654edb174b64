"""A minimal WebSocket client (the demo's live progress, tests) (RFC 6455: masked client frames, fragmented messages joined)."""

import base64
import json
import os
import socket
import urllib.parse

from websocket import accept_key, encode_frame, read_message


class Refused(Exception):
    def __init__(self, status, body):
        super().__init__(f"HTTP {status}: {body}")
        self.status, self.body = status, body


class WebSocketClient:
    def __init__(self, endpoint, token=None, path="/ws", timeout=30):
        u = urllib.parse.urlsplit(endpoint)
        self.sock = socket.create_connection((u.hostname, u.port), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        if token is not None:
            path += "?" + urllib.parse.urlencode({"token": token})
        self.sock.sendall((f"GET {path} HTTP/1.1\r\nHost: {u.hostname}:{u.port}\r\nUpgrade: websocket\r\n"
                           f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
        self.rfile = self.sock.makefile("rb")
        status_line = self.rfile.readline().decode()
        headers = {}
        while True:
            line = self.rfile.readline().decode().strip()
            if not line:
                break
            k, _, v = line.partition(":")
            headers[k.strip().lower()] = v.strip()
        status = int(status_line.split()[1])
        if status != 101:
            body = self.rfile.read(int(headers.get("content-length", "0"))).decode()
            self.sock.close()
            raise Refused(status, body)
        assert headers["sec-websocket-accept"] == accept_key(key), "bad Sec-WebSocket-Accept"
        self.sizes = []

    def send(self, obj):
        self.sock.sendall(encode_frame(0x1, json.dumps(obj).encode(), mask=True))

    def receive(self):
        """The next message, decoded (None once the server closed)."""
        opcode, payload = read_message(self.rfile, lambda op, p: op == 0x8)
        if opcode == 0x8:
            return None
        self.sizes.append(len(payload))
        return json.loads(payload)

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
        try:
            self.sock.sendall(encode_frame(0x8, b"\x03\xe8", mask=True))
        except OSError:
            pass
        self.sock.close()
