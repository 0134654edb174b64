"""Writes agent-200-turns.jsonl.gz: a 200-turn coding-agent conversation in Gemini's content format.

Each line is one turn (what a checkpoint appends): the user's request, the model's function call, the function's
response (an excerpt of a real file: Python's standard library as installed) and the model's answer (sentences of
real docstrings). Deterministic (seeded) but not uniform: excerpts, answers and questions vary in length as real
agent transcripts do. Run once; the output is committed (the sources are only on the machine that made it).

    python3 make_transcript.py /usr/lib/python3.11
"""
import ast
import gzip
import json
import os
import random
import re
import sys

root = sys.argv[1] if len(sys.argv) > 1 else "/usr/lib/python3.11"
rng = random.Random(200)
files = sorted(
    os.path.join(d, f) for d, _, fs in os.walk(root) if "test" not in d and "site-packages" not in d and "dist-packages" not in d
    for f in fs if f.endswith(".py"))
files = [f for f in files if 4000 < os.path.getsize(f) < 400_000]
docs = []
for path in files[:400]:
    try:
        tree = ast.parse(open(path, encoding="utf-8").read())
    except (SyntaxError, UnicodeDecodeError):
        continue
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.ClassDef, ast.Module)):
            text = ast.get_docstring(node)
            if text and len(text) > 80:
                docs.append(re.sub(r"\s+", " ", text))
sentences = [s.strip() for d in docs for s in re.split(r"(?<=[.!?]) ", d) if 30 < len(s.strip()) < 400]
asks = ["Why does {f} do this?", "Can you read {f} and explain the part about {w}?", "What does {w} in {f} return?",
        "Is there a bug around {w} in {f}?", "Summarise how {f} handles {w}.", "Where is {w} defined in {f}?",
        "Refactor the {w} logic in {f}; what would you change?", "Does {f} still need {w}?"]
turns = []
for turn in range(200):
    path = rng.choice(files)
    rel = os.path.relpath(path, root)
    lines = open(path, encoding="utf-8", errors="replace").read().splitlines()
    start = rng.randrange(max(1, len(lines) - 20))
    excerpt = "\n".join(lines[start:start + rng.choice([15, 25, 40, 60, 90, 120])])
    words = re.findall(r"[A-Za-z_]{5,}", excerpt) or ["main"]
    word = rng.choice(words)
    answer = " ".join(rng.choice(sentences) for _ in range(rng.choice([2, 3, 4, 6, 9])))
    turns.append([
        {"role": "user", "parts": [{"text": rng.choice(asks).format(f=rel, w=word)}]},
        {"role": "model", "parts": [{"functionCall": {"name": "read_file", "args": {"path": rel, "start_line": start + 1,
                                                                                  "end_line": start + len(excerpt.splitlines())}}}]},
        {"role": "user", "parts": [{"functionResponse": {"name": "read_file", "response": {"content": excerpt}}}]},
        {"role": "model", "parts": [{"text": f"In `{rel}`, `{word}`: {answer}"}]},
    ])
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "agent-200-turns.jsonl.gz")
with gzip.GzipFile(out, "wb", mtime=0) as f:
    for t in turns:
        f.write((json.dumps(t, ensure_ascii=False, separators=(",", ":")) + "\n").encode())
print(out, os.path.getsize(out))
