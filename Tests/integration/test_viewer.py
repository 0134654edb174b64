"""The live viewer (Deploy/viewer/index.html, served by the local stack) in headless Chromium: it connects with an
owner token, shows a real execution's timeline, lets the human answer, and ends on the final status."""

import json
import urllib.parse

import pytest

from browser import Browser, chromium_path, png_pixels
from test_glassbox import token
from test_workflows import example, pending_token, start, wait

import resources  # Deploy/local

SUCCEEDED_RGB = (0x15, 0x80, 0x3D)  # #status.SUCCEEDED in the page's CSS


@pytest.fixture(scope="module")
def engine(endpoint):
    return resources.ensure(endpoint)


@pytest.fixture
def browser():
    if not chromium_path():
        pytest.fail("chromium is not installed: `make deps` installs it (Debian package chromium)")
    b = Browser()
    yield b
    b.close()


def test_the_viewer_shows_a_real_execution_and_answers_its_human_step(sfn, endpoint, engine, browser):
    arn = start(sfn, engine, example("research-brief.json"), {"topic": "wave power"})
    pending_token(sfn, endpoint, arn)
    query = urllib.parse.urlencode({"execution": arn, "token": token("team-a")})
    browser.navigate(f"{endpoint}/viewer?{query}")
    question = browser.wait_for("document.getElementById('hitp-question')?.textContent")
    assert question.startswith("Approve this draft?") and "wave power" in question
    assert browser.evaluate("document.getElementById('status').textContent") == "WAITING"
    answer = json.dumps({"approval": "yes", "notes": "from the viewer"})
    browser.evaluate(f"document.getElementById('hitp-answer').value = {json.dumps(answer)}; "
                     "document.getElementById('hitp-send').click(); true")
    status = browser.wait_for("['SUCCEEDED','FAILED','COMPLETED_WITH_RISK'].includes(document.getElementById('status')"
                              ".textContent) && document.getElementById('status').textContent")
    assert status == "SUCCEEDED"
    d = wait(sfn, arn)
    assert d["status"] == "SUCCEEDED" and json.loads(d["output"])["output"]["final"].endswith("Reviewer notes: from the viewer")
    timeline = browser.evaluate("[...document.querySelectorAll('#timeline li')].map(li => li.dataset.event)")
    assert timeline[0] == "execution_started" and timeline[-1] == "execution_finished"
    for kind in ("segment_started", "node_finished", "llm_call", "checkpoint", "human_waiting", "human_answered"):
        assert kind in timeline
    assert len(timeline) == len(set(browser.evaluate("window.analemma.events.map(e => e.shard + '#' + e.seq)")))
    trace = browser.evaluate("document.getElementById('trace-id').textContent")
    assert trace and browser.evaluate(f"window.analemma.events.every(e => e.trace_id === {json.dumps(trace)})")
    assert browser.evaluate("document.querySelectorAll('#llm-calls tbody tr').length") >= 1
    assert browser.evaluate("document.getElementById('checkpoints').textContent").split()[0] != "0"
    assert browser.evaluate("document.getElementById('hitp-body').textContent") == "answered"
    # the cost report finalize made, as the output has it
    reported = json.loads(d["output"])["cost"]["usd"]["total"]
    shown = browser.evaluate("document.getElementById('cost').textContent")
    assert shown.startswith("$") and abs(float(shown[1:].split()[0]) - reported) < 1e-6 and reported > 0, (shown, reported)
    # the screenshot shows it: the status badge's green is on screen
    width, height, bpp, rows = png_pixels(browser.screenshot())
    assert width >= 800 and height >= 600
    green = sum(1 for row in rows[:80] for x in range(0, width * bpp, bpp)
                if all(abs(row[x + i] - SUCCEEDED_RGB[i]) <= 6 for i in range(3)))
    assert green > 200, f"{green} pixels of the SUCCEEDED badge colour"
