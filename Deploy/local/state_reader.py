"""Reads an execution's state the way the kernel stores it (head → manifest → blocks), for inspection and tests.

  python Deploy/local/state_reader.py --endpoint http://127.0.0.1:4566 EXECUTION_ARN [FIELD ...]

Each field is fetched with a ranged GET of its own bytes and checked against its SHA-256, like StateHydrator.
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


def read_fields(c, m, names=None, bucket=resources.NAMES["bucket"]):
    """{field: decoded JSON value} for `names` (default: all) of manifest `m`."""
    out = {}
    for name in names or sorted(m["fields"]):
        ref = m["fields"][name]
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
    return m, read_fields(c, m, [n for n in (names or m["fields"]) if n in m["fields"]])


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
