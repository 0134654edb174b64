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
    connect_token = token("team-a")
    # the token in the fragment (no request carries it) and on the WebSocket as a subprotocol: never in a logged URL
    browser.navigate(f"{endpoint}/viewer?{urllib.parse.urlencode({'execution': arn})}#token={connect_token}")
    question = browser.wait_for("document.getElementById('hitp-question')?.textContent")
    assert question.startswith("Approve this draft?") and "wave power" in question
    assert browser.evaluate("document.getElementById('status').textContent") == "WAITING"
    # the workflow graph: every node, the human step current, what ran before it done
    graph = "Object.fromEntries([...document.querySelectorAll('#graph .node')].map(n => [n.dataset.node, n.dataset.state]))"
    states = browser.wait_for(f"(() => {{ const s = {graph}; return s.review === 'current' && s; }})()")
    assert set(states) == {"prepare", "normalise", "draft", "review", "decide", "publish"}
    assert states["draft"] == "done" and states["publish"] == "idle", states
    answer = json.dumps({"approval": "yes", "notes": "from the viewer"})
    browser.evaluate(f"document.getElementById('hitp-answer').value = {json.dumps(answer)}; "
                     "document.getElementById('hitp-send').click(); true")
    status = browser.wait_for("['SUCCEEDED','FAILED','COMPLETED_WITH_RISK'].includes(document.getElementById('status')"
                              ".textContent) && document.getElementById('status').textContent")
    assert status == "SUCCEEDED"
    d = wait(sfn, arn)
    assert d["status"] == "SUCCEEDED" and json.loads(d["output"])["output"]["final"].endswith("Reviewer notes: from the viewer")
    # requested URLs (page, socket) carry no token; the notifier selected the subprotocol that carried it
    socket_url, protocol, page = browser.evaluate("[socket.url, socket.protocol, location.origin + location.pathname + location.search]")
    secret = connect_token.rsplit(".", 1)[1]
    assert secret not in socket_url and secret not in page and "token" not in socket_url, (socket_url, page)
    assert protocol == "analemma.v1"
    states = browser.evaluate(graph)
    assert all(states[n] == "done" for n in ("prepare", "draft", "review", "decide", "publish")), states
    edges = browser.evaluate("Object.fromEntries([...document.querySelectorAll('#graph .edge')].map(e => "
                             "[e.dataset.from + '->' + e.dataset.to, +e.dataset.count]))")
    assert edges["draft->review"] == 1 and edges["decide->publish"] == 1 and edges["decide->draft"] == 0, edges
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


def test_the_viewer_lists_a_maps_failed_items_with_their_errors_and_chunk_pointers(sfn, endpoint, engine, browser):
    w = example("map-scoring.json")
    w["nodes"][0]["config"].update(chunk_size=10, tolerated_failure_percentage=50, inline_max_chunks=0)  # distributed
    items = [{"id": i, "words": i % 7, "broken": i in (3, 42)} for i in range(60)]
    arn = start(sfn, engine, w, {"docs": items})
    d = wait(sfn, arn, seconds=180)
    assert d["status"] == "SUCCEEDED", d
    browser.navigate(f"{endpoint}/viewer?{urllib.parse.urlencode({'execution': arn})}#token={token('team-a')}")
    browser.wait_for("document.querySelectorAll('#map-failed tbody tr').length === 2")
    rows = browser.evaluate("[...document.querySelectorAll('#map-failed tbody tr')].map(r => [...r.cells].map(c => c.textContent))")
    assert [(r[0], r[1]) for r in rows] == [("chunk_0001.json", "3"), ("chunk_0005.json", "42")] and all(r[2] for r in rows)
    pointers = browser.evaluate("[...document.querySelectorAll('#map-pointers li')].map(li => li.textContent)")
    assert len(pointers) == 2 and all(p.startswith("s3://") and "#bytes=" in p for p in pointers)
    body = browser.evaluate("document.getElementById('map-body').textContent")
    assert "60 items in 6 chunks (distributed)" in body and "58 succeeded, 2 failed" in body
    aggregated = browser.evaluate("[...document.querySelectorAll('#timeline li')].filter(li => li.dataset.event === "
                                  "'map_aggregated').map(li => li.textContent)")
    assert aggregated and "total=6" in aggregated[0] and "failed=2" in aggregated[0]


def test_the_viewer_forks_a_run_from_the_checkpoint_its_slider_selects(sfn, endpoint, engine, browser):
    from test_time_travel import answered_run
    arn, output = answered_run(sfn, endpoint, engine)
    browser.navigate(f"{endpoint}/viewer?{urllib.parse.urlencode({'execution': arn})}#token={token('team-a')}")
    browser.wait_for("document.getElementById('travel').hidden === false && window.analemma.state.history.length > 3")
    index = browser.evaluate("window.analemma.state.history.findIndex(c => c.changed.includes('approval'))")
    assert index > 0
    browser.evaluate(f"const s = document.getElementById('slider'); s.value = '{index}'; "
                     "s.dispatchEvent(new Event('input')); true")
    assert "approval" in browser.evaluate("document.getElementById('at').textContent")
    browser.evaluate("document.getElementById('fork-set').value = JSON.stringify({notes: 'forked in the viewer'}); "
                     "document.getElementById('fork').click(); true")
    forked = browser.wait_for("document.getElementById('forked-link')?.dataset.execution")
    d = wait(sfn, forked)
    assert d["status"] == "SUCCEEDED", d
    final = json.loads(d["output"])["output"]["final"]
    assert final.endswith("Reviewer notes: forked in the viewer") and final != output["output"]["final"]
    # another owner's execution: refused, nothing started
    other = start(sfn, engine, example("linear-5.json"), {"topic": "x"}, owner="team-b")
    wait(sfn, other)
    def executions():
        pages = sfn.get_paginator("list_executions").paginate(stateMachineArn=engine["state_machine_arn"])
        return sum(len(p["executions"]) for p in pages)
    started = executions()
    at = browser.evaluate("document.getElementById('at').dataset.manifest")
    browser.evaluate(f"send({{action: 'fork', execution_id: {json.dumps(other)}, at: {json.dumps(at)}, set: {{}}}}); true")
    refused = browser.wait_for("document.getElementById('connection').textContent.startsWith('Analemma.Forbidden') && "
                               "document.getElementById('connection').textContent")
    assert "team-a" in refused
    assert executions() == started
