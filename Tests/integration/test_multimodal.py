"""Multimodal llm nodes end to end: the visual-debugging example (a UI screenshot and its stylesheet in, a fix out)
through the real segment-runner bootstrap and the state machine; the Gemini stand-in checks every part it receives
(the bytes against their MIME type, a file against the Files API uploads it holds) and says what it saw; each
request body validates as google-genai's own types."""

import base64
import hashlib
import json
import struct
import urllib.error
import urllib.request
import zlib

import state_reader
from test_cognition import gemini, fresh_standin  # noqa: F401 (fixture)
from test_genai_conformance import assert_conforms
from test_workflows import example, start, wait, engine  # noqa: F401

CSS = ".btn-primary { color: #ffffff; background: #fefefe; }\n"


def png(width=24, height=12):
    """A real PNG: white text on an almost-white button (the bug the screenshot shows)."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    rows = b"".join(b"\x00" + bytes([0xFE, 0xFE, 0xFE] * width) for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def screenshot_input(image):
    return {"screenshot": {"mime_type": "image/png", "data": base64.b64encode(image).decode()}, "styles": CSS,
            "complaint": "the Buy button's label is invisible"}


def sha(data):
    return hashlib.sha256(data).hexdigest()


def test_a_screenshot_and_a_stylesheet_go_in_inline_and_a_fix_comes_out(sfn, endpoint, engine):  # noqa: F811
    image = png()
    arn = start(sfn, engine, example("visual-debugging.json"), screenshot_input(image))
    d = wait(sfn, arn)
    assert d["status"] == "SUCCEEDED", d
    seen = gemini(endpoint)
    assert seen["refused"] == [] and seen["files"]["uploads"] == []
    diagnose, fix = seen["requests"]
    parts = diagnose["body"]["contents"][-1]["parts"]
    assert [list(p) for p in parts] == [["inlineData"], ["inlineData"], ["text"]], "media first, the prompt last"
    assert [m["mimeType"] for m in diagnose["media"]] == ["image/png", "text/css"]
    assert [m["sha256"] for m in diagnose["media"]] == [sha(image), sha(CSS.encode())], "the bytes in state are the bytes sent"
    assert "invisible" in parts[2]["text"] and [m["mimeType"] for m in fix["media"]] == ["text/css"]
    for r in (diagnose, fix):
        assert_conforms(r["body"])
    _, fields = state_reader.read_state(endpoint, arn, ["diagnosis", "fix", "llm_usage"])
    assert f"image/png {len(image)} bytes inline sha256:{sha(image)[:16]}" in fields["diagnosis"]
    assert fields["fix"].startswith("[gemini-standin") and "Rewrite the stylesheet" in fields["fix"]
    assert fields["llm_usage"]["nodes"]["diagnose"]["input_tokens"] >= 258, "an image counts as 258 tokens"


def test_a_part_over_the_inline_limit_goes_through_the_files_api(sfn, endpoint, engine):  # noqa: F811
    image = png(64, 64)
    w = example("visual-debugging.json")
    w["nodes"][0]["config"]["media_inline_max_bytes"] = 100  # the stylesheet (55 bytes) fits, the screenshot does not
    arn = start(sfn, engine, w, screenshot_input(image))
    d = wait(sfn, arn)
    assert d["status"] == "SUCCEEDED", d
    seen = gemini(endpoint)
    [upload] = seen["files"]["uploads"]
    assert upload["sha256"] == sha(image) and upload["mimeType"] == "image/png" and upload["size"] == len(image)
    diagnose = seen["requests"][0]
    shot, styles, _ = diagnose["body"]["contents"][-1]["parts"]
    [held] = seen["files"]["files"]
    assert shot == {"fileData": {"mimeType": "image/png", "fileUri": held["uri"]}} and "inlineData" in styles
    assert [m["via"] for m in diagnose["media"]] == ["file", "inline"]
    assert_conforms(diagnose["body"])


def test_a_field_that_is_not_the_image_it_claims_fails_the_run_before_any_model_call(sfn, endpoint, engine):  # noqa: F811
    bad = screenshot_input(b"GIF89a" + bytes(40))
    arn = start(sfn, engine, example("visual-debugging.json"), bad)
    d = wait(sfn, arn)
    assert d["status"] == "FAILED" and d.get("error") == "Analemma.InvalidMedia", d
    assert "no PNG signature" in d.get("cause", "") and '"screenshot"' in d.get("cause", "")
    assert gemini(endpoint)["requests"] == []


def test_the_standin_refuses_bytes_that_are_not_their_mime_type_and_files_it_does_not_hold(endpoint):
    def generate(part):
        body = json.dumps({"contents": [{"role": "user", "parts": [part, {"text": "look"}]}]}).encode()
        req = urllib.request.Request(f"{endpoint}/v1beta/models/gemini-3.5-flash:generateContent", data=body, method="POST",
                                     headers={"Content-Type": "application/json", "x-goog-api-key": "k"})
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read())
    status, doc = generate({"inlineData": {"mimeType": "image/png", "data": base64.b64encode(b"GIF89a").decode()}})
    assert status == 400 and "no image/png signature" in doc["error"]["message"]
    status, doc = generate({"fileData": {"mimeType": "image/png", "fileUri": f"{endpoint}/v1beta/files/nope"}})
    assert status == 403 and doc["error"]["status"] == "PERMISSION_DENIED"
    status, _ = generate({"inlineData": {"mimeType": "image/png", "data": base64.urlsafe_b64encode(png()).decode()}})
    assert status == 200
