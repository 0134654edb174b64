"""The sample events under Functions/<name>/events do what each function's README says (the notifier's are in
test_glassbox.py, the segment runner's in test_workflows.py)."""

import json
import os

import pytest

from conftest import ROOT, invoke

import resources  # Deploy/local


@pytest.fixture(scope="module")
def engine(endpoint):
    return resources.ensure(endpoint)


def sample(function, name):
    with open(os.path.join(ROOT, "Functions", function, "events", name)) as f:
        return json.load(f)


def test_gc_candidates_fail_only_the_poisoned_one(lam, engine):
    r, out = invoke(lam, sample("gc-worker", "candidates.json"), name="gc-worker")
    assert not r.get("FunctionError"), out
    assert out == {"batchItemFailures": [{"itemIdentifier": "poison-1"}]}


@pytest.mark.parametrize("name,keys", [
    ("sweep.json", {"aborted_commits", "queued_from_recovery", "live_manifests", "reachable_blocks", "objects_scanned",
                    "orphans_queued"}),
    ("retain.json", None),
])
def test_gc_passes_report(lam, engine, name, keys):
    r, out = invoke(lam, sample("gc-worker", name), name="gc-worker")
    assert not r.get("FunctionError"), out
    assert isinstance(out, dict) and (keys is None or keys <= set(out)), out


def test_the_aggregator_refuses_a_map_run_without_result_writer_details(lam, engine):
    r, out = invoke(lam, sample("light-aggregator", "bad-map-run.json"), name="light-aggregator")
    assert r.get("FunctionError") and out["errorType"] == "Analemma.InvalidEvent", out
    assert "ResultWriterDetails" in out["errorMessage"]
