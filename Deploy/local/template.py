"""Deploy/template.yaml on the local stack: the translation `resources.ensure` applies.

moto's CloudFormation can deploy the template (Tests/integration/test_template.py does, through `make deploy`'s own
Deploy/deploy.py) but not run it: its state machines land in a store that never executes and ignore
DefinitionS3Location/DefinitionSubstitutions, its Lambda functions are not ours, event source mappings and the
WebSocket API do nothing. So the local stack reads the same template and creates each resource it can run under a
fixed local name, with the template's properties:

| template type | local stack |
|---|---|
| AWS::S3::Bucket | bucket (encryption, public access block, lifecycle rules stored) |
| AWS::DynamoDB::Table | table (key schema, billing mode, TTL attribute, point-in-time recovery) |
| AWS::SQS::Queue | queue (FIFO, visibility timeout, retention, redrive policy to the local DLQ) |
| AWS::StepFunctions::StateMachine | the definition file named by DefinitionS3Location, DefinitionSubstitutions resolved to the local ARNs/names, in moto's executing store |
| AWS::Lambda::Function | the local Lambda service runs Functions/<name> with the template's memory, timeout, runtime and log format (functions.py; function.json holds only the variables and what is local) |
| AWS::Lambda::EventSourceMapping | a local SQS poller from function.json `local.sqs` (checked to name the same queue) |
| AWS::ApiGatewayV2::* | the local WebSocket endpoint (`/ws`, `/@connections`) of the front door |
| AWS::SecretsManager::Secret | the notifier's local CONNECT_TOKEN_SECRET (function.json `local`) |
| AWS::IAM::Role | not created; its policies are enforced by the front door for the function or state machine that assumes it (iam.py) |
| Logs, S3 bucket policy, Events rules, Lambda permissions | not emulated (logs are files in .local/logs, written only if the role may; `make sweep` runs the GC sweep) |
"""

import os

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
TEMPLATE = os.path.join(ROOT, "Deploy", "template.yaml")

LOCAL_NAMES = {
    "StateBucket": "analemma-state",
    "ManifestTable": "analemma-manifests",
    "BlockReferencesTable": "analemma-block-refs",
    "ConnectionsTable": "analemma-connections",
    "GCQueue": "analemma-gc",
    "GCDeadLetterQueue": "analemma-gc-dlq",
    "EventsQueue": "analemma-events.fifo",
    "EventsDeadLetterQueue": "analemma-events-dlq.fifo",
    "Workflow": "analemma-workflow",
    "SegmentRunner": "segment-runner",
    "LightAggregator": "light-aggregator",
    "GCWorker": "gc-worker",
    "WebSocketNotifier": "websocket-notifier",
}
CREATED = ("AWS::S3::Bucket", "AWS::DynamoDB::Table", "AWS::SQS::Queue", "AWS::StepFunctions::StateMachine")
EMULATED = ("AWS::Lambda::Function", "AWS::Lambda::EventSourceMapping", "AWS::ApiGatewayV2::Api",
            "AWS::ApiGatewayV2::Integration", "AWS::ApiGatewayV2::Route", "AWS::ApiGatewayV2::Stage",
            "AWS::SecretsManager::Secret")
NOT_EMULATED = ("AWS::IAM::Role", "AWS::Logs::LogGroup", "AWS::S3::BucketPolicy", "AWS::Events::Rule",
                "AWS::Lambda::Permission")


class CloudFormationLoader(yaml.SafeLoader):
    pass


def _tag(name):
    def construct(loader, node):
        if isinstance(node, yaml.ScalarNode):
            value = loader.construct_scalar(node)
            if name == "Fn::GetAtt":
                value = value.split(".", 1)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)
        return {name: value}
    return construct


for _short in ("Ref", "Sub", "GetAtt", "If", "Not", "Equals", "Join", "Select", "Split", "FindInMap", "Base64",
               "GetAZs", "ImportValue", "And", "Or", "Condition"):
    CloudFormationLoader.add_constructor(f"!{_short}", _tag("Ref" if _short == "Ref" else
                                                            "Condition" if _short == "Condition" else f"Fn::{_short}"))


def load(path=TEMPLATE):
    with open(path) as f:
        return yaml.load(f, Loader=CloudFormationLoader)


def resources(doc, kind=None):
    return {k: v for k, v in doc["Resources"].items() if kind is None or v["Type"] == kind}


def unknown_types(doc):
    """Resource types the translation does not account for (a new one must be added to the table above)."""
    known = set(CREATED) | set(EMULATED) | set(NOT_EMULATED)
    return sorted({r["Type"] for r in doc["Resources"].values()} - known)


def logical(value):
    """The logical id a `Ref`/`GetAtt` points at."""
    if isinstance(value, dict) and "Ref" in value:
        return value["Ref"]
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        return value["Fn::GetAtt"][0]
    raise ValueError(f"not a Ref or GetAtt: {value!r}")


def local_value(value, account, region):
    """A template value on the local stack: Ref/GetAtt of a translated resource, or a literal."""
    if not isinstance(value, dict):
        return value
    target = logical(value)
    name = LOCAL_NAMES.get(target)
    if name is None:
        raise ValueError(f"{value!r}: {target} has no local counterpart")
    kind = load_cached()["Resources"][target]["Type"]
    if "Fn::GetAtt" in value and value["Fn::GetAtt"][1] == "Arn":
        service = {"AWS::SQS::Queue": "sqs", "AWS::Lambda::Function": "lambda"}.get(kind)
        if service == "sqs":
            return f"arn:aws:sqs:{region}:{account}:{name}"
        if service == "lambda":
            return f"arn:aws:lambda:{region}:{account}:function:{name}"
    return name


_cache = {}


def load_cached():
    if "doc" not in _cache:
        _cache["doc"] = load()
    return _cache["doc"]
