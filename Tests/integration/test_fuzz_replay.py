"""The fuzz targets' plain build replays inputs (how a finding of `make fuzz` is reproduced): every seed decodes or is
refused without a crash."""

import json
import os
import subprocess
import sys

from conftest import ROOT

sys.path.insert(0, os.path.join(ROOT, "Tests", "Fuzz"))
import seeds  # noqa: E402


def test_every_seed_replays_without_a_crash(tmp_path):
    seeds.main(str(tmp_path))
    binary = os.path.join(ROOT, os.environ.get("ANALEMMA_BIN_DIR", ".build/release"), "analemma-fuzz")
    r = subprocess.run([binary, str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout.strip().splitlines()[-1])["value"] == len(os.listdir(tmp_path)) > 40
