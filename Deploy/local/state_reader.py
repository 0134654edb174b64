"""Reads an execution's state the way the kernel stores it (head → manifest → blocks), for inspection and tests.

  python Deploy/local/state_reader.py --endpoint http://127.0.0.1:4566 EXECUTION_ARN [FIELD ...]

Each field is fetched with a ranged GET of its own bytes and checked against its SHA-256, like StateHydrator.
A paged manifest's field table is its overlay over its page tree (ManifestPages), each page checked against its hash.
"""

import argparse
import gzip
import hashlib
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import resources  # noqa: E402


def head(c, execution, table=resources.NAMES["manifest_table"]):
    item = c["dynamodb"].get_item(TableName=table, Key={"pk": {"S": f"EXEC#{execution}"}, "sk": {"S": "HEAD"}}).get("Item")
    return (item["manifest_id"]["S"], int(item["version"]["N"])) if item else (None, 0)


def manifest(c, execution, manifest_id, table=resources.NAMES["manifest_table"]):
    item = c["dynamodb"].get_item(TableName=table, Key={"pk": {"S": f"EXEC#{execution}"}, "sk": {"S": f"M#{manifest_id}"}})["Item"]
    return json.loads(item["body"]["S"])


def history(c, execution, table=resources.NAMES["manifest_table"]):
    """Every manifest of the execution (any state), oldest first by segment index."""
    items = c["dynamodb"].query(TableName=table, KeyConditionExpression="pk = :p AND begins_with(sk, :m)",
                                ExpressionAttributeValues={":p": {"S": f"EXEC#{execution}"}, ":m": {"S": "M#"}})["Items"]
    return sorted(({"state": i["state"]["S"], **json.loads(i["body"]["S"])} for i in items), key=lambda m: m["segment_index"])


def page(c, owner, digest, bucket=resources.NAMES["bucket"]):
    """One manifest page ({"leaf": refs} or {"inner": children}), checked against its hash."""
    stored = c["s3"].get_object(Bucket=bucket, Key=f"owners/{owner}/blocks/{digest}")["Body"].read()
    if hashlib.sha256(stored).hexdigest() != digest:
        raise ValueError(f"manifest page {digest[:12]} does not match its hash")
    return json.loads(gzip.decompress(stored))


def tree(c, m, bucket=resources.NAMES["bucket"]):
    """(page hashes, {field: ref}) of manifest `m`'s page tree (empty without one)."""
    pages, refs, todo = [], {}, [m["root"]] if m.get("root") else []
    while todo:
        digest = todo.pop()
        pages.append(digest)
        node = page(c, m["owner_id"], digest, bucket)
        refs.update(node.get("leaf", {}))
        todo += node.get("inner", {}).values()
    return pages, refs


def table(c, m, bucket=resources.NAMES["bucket"]):
    """{field: ref} of manifest `m`: its overlay over its page tree, without what it removed."""
    refs = tree(c, m, bucket)[1]
    for name in m.get("removed") or []:
        refs.pop(name, None)
    return {**refs, **m["fields"]}


def blocks(c, m, bucket=resources.NAMES["bucket"]):
    """Every block manifest `m` reaches: its pages and its fields' blocks."""
    pages, refs = tree(c, m, bucket)
    return set(pages) | {f["block"] for f in refs.values()} | {f["block"] for f in m["fields"].values()}


def read_fields(c, m, names=None, bucket=resources.NAMES["bucket"]):
    """{field: decoded JSON value} for `names` (default: all) of manifest `m`."""
    out = {}
    refs = table(c, m, bucket)
    for name in names or sorted(refs):
        ref = refs[name]
        key = f"owners/{m['owner_id']}/blocks/{ref['block']}"
        stored = c["s3"].get_object(Bucket=bucket, Key=key,
                                    Range=f"bytes={ref['offset']}-{ref['offset'] + ref['length'] - 1}")["Body"].read()
        raw = gzip.decompress(stored) if ref["encoding"] == "gzip" else stored
        if hashlib.sha256(raw).hexdigest() != ref["sha256"]:
            raise ValueError(f"field {name!r}: stored bytes do not match their SHA-256")
        out[name] = json.loads(raw)
    return out


def read_state(endpoint, execution, names=None):
    """(manifest, {field: value}) at the execution's head; (None, {}) before its first checkpoint."""
    c = resources.clients(endpoint)
    manifest_id, _ = head(c, execution)
    if not manifest_id:
        return None, {}
    m = manifest(c, execution, manifest_id)
    refs = table(c, m)
    return m, read_fields(c, m, [n for n in (names or refs) if n in refs])


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--endpoint", default="http://127.0.0.1:4566")
    p.add_argument("execution")
    p.add_argument("fields", nargs="*")
    args = p.parse_args()
    m, fields = read_state(args.endpoint, args.execution, args.fields or None)
    if m is None:
        sys.exit(f"execution {args.execution} has no committed state")
    print(json.dumps({"manifest_id": m["manifest_id"], "segment_index": m["segment_index"], "fields": fields}, indent=2))


if __name__ == "__main__":
    main()
