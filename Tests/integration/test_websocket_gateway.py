"""The local WebSocket API frames with `websockets` and bounds what a client sends as API Gateway does: a frame over
32 KB or a message over 128 KB closes the connection with 1009, garbage closes it with a protocol error, and every
such session ends with $disconnect (no stale connection record, nothing left in the gateway)."""

import base64
import json
import os
import socket
import struct
import urllib.parse

import pytest

from conftest import client
from test_glassbox import engine, gateway, token  # noqa: F401 — fixtures and helpers shared with the glass box tests
from wsclient import WebSocketClient  # Deploy/local


def raw_session(endpoint, owner="team-a"):
    """A TCP connection upgraded by hand (so the test can send bytes no client library would)."""
    u = urllib.parse.urlsplit(endpoint)
    sock = socket.create_connection((u.hostname, u.port), timeout=30)
    key = base64.b64encode(os.urandom(16)).decode()
    query = urllib.parse.urlencode({"token": token(owner)})
    sock.sendall((f"GET /ws?{query} HTTP/1.1\r\nHost: {u.hostname}:{u.port}\r\nUpgrade: websocket\r\n"
                  f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
    head = b""
    while b"\r\n\r\n" not in head:
        head += sock.recv(1)
    assert head.startswith(b"HTTP/1.1 101"), head
    return sock


def frame(opcode, payload, declared=None, fin=True):
    """A masked client frame whose header may claim a length other than the payload's."""
    n = len(payload) if declared is None else declared
    b0 = bytes([(0x80 if fin else 0) | opcode])
    if n < 126:
        head = b0 + bytes([0x80 | n])
    elif n < 65536:
        head = b0 + bytes([0x80 | 126]) + struct.pack("!H", n)
    else:
        head = b0 + bytes([0x80 | 127]) + struct.pack("!Q", n)
    key = os.urandom(4)
    return head + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


def close_code(sock):
    """The close code the server sent before ending the TCP connection (None if it never sent a close frame)."""
    data = b""
    while True:
        try:
            chunk = sock.recv(65536)
        except (ConnectionResetError, socket.timeout):
            break
        if not chunk:
            break
        data += chunk
    sock.close()
    while len(data) >= 2:
        opcode, n, at = data[0] & 0x0F, data[1] & 0x7F, 2
        if n == 126:
            n, at = struct.unpack("!H", data[2:4])[0], 4
        elif n == 127:
            n, at = struct.unpack("!Q", data[2:10])[0], 10
        body = data[at:at + n]
        if opcode == 0x8:
            return struct.unpack("!H", body[:2])[0] if len(body) >= 2 else 1005
        data = data[at + n:]
    return None


def connection_records(endpoint, engine):  # noqa: F811
    return client("dynamodb", endpoint).scan(TableName=engine["connections_table"], Select="COUNT")["Count"]


GARBAGE = {
    "a header claiming 2^62 bytes": (frame(0x1, b"", declared=2**62), 1009),
    "one 40 KB frame": (frame(0x1, b"x" * (40 * 1024)), 1009),
    "a 160 KB message in 32 KB frames": (b"".join(frame(0x1 if i == 0 else 0x0, b"y" * (32 * 1024), fin=i == 4)
                                                  for i in range(5)), 1009),
    "a reserved opcode": (frame(0x3, b"?"), 1002),
    "an unmasked frame": (bytes([0x81, 0x02]) + b"hi", 1002),
    "invalid UTF-8 in a text frame": (frame(0x1, b"\xff\xfe"), 1007),
}


@pytest.mark.parametrize("case", sorted(GARBAGE))
def test_garbage_closes_the_connection_cleanly_and_leaves_no_record(endpoint, engine, case):  # noqa: F811
    before, records = gateway(endpoint), connection_records(endpoint, engine)
    sock = raw_session(endpoint)
    assert connection_records(endpoint, engine) == records + 1
    data, expected = GARBAGE[case]
    sock.sendall(data)
    assert close_code(sock) == expected
    after = gateway(endpoint)
    assert after["closed_on_garbage"] == before["closed_on_garbage"] + 1, after
    assert after["connections"] == before["connections"]
    assert connection_records(endpoint, engine) == records  # $disconnect ran: no stale record


def test_messages_up_to_the_limits_pass_in_frames_of_at_most_32_kb(endpoint, engine):  # noqa: F811
    """What AWS accepts is accepted: a 128 KB message in 32 KB frames reaches the route (an unknown action → $default)."""
    sock = raw_session(endpoint)
    body = json.dumps({"action": "nothing", "pad": "z" * (128 * 1024 - 40)}).encode()
    assert len(body) <= 128 * 1024
    parts = [body[i:i + 32 * 1024] for i in range(0, len(body), 32 * 1024)]
    sock.sendall(b"".join(frame(0x1 if i == 0 else 0x0, p, fin=i == len(parts) - 1) for i, p in enumerate(parts)))
    sock.sendall(frame(0x9, b"ping?"))
    head = sock.recv(2)
    while head[0] & 0x0F != 0xA:  # skip any route answer until the pong
        n = head[1] & 0x7F
        n = struct.unpack("!H", sock.recv(2))[0] if n == 126 else n
        sock.recv(n)
        head = sock.recv(2)
    assert sock.recv(head[1] & 0x7F) == b"ping?"
    sock.sendall(frame(0x8, struct.pack("!H", 1000)))
    assert close_code(sock) == 1000


def test_a_client_library_session_survives_the_gateway(endpoint):
    """`websockets`' own client: subscribe to an unknown execution is answered with an error message, then a clean close."""
    ws = WebSocketClient(endpoint, token("team-a"))
    ws.send({"action": "subscribe", "execution_id": "arn:aws:states:us-east-1:123456789012:execution:nope:none"})
    answer = ws.receive()
    assert answer["type"] == "error", answer
    ws.close()
