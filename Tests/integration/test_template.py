"""Deploy/template.yaml: what make deploy ships is what the local stack runs.

The template deploys (through Deploy/deploy.py, on moto's CloudFormation), agrees with Functions/*/function.json and
the state machine's placeholders, keeps IAM's wildcards to the documented exceptions, and the local stack's
resources are the template's (Deploy/local/template.py's translation)."""

import json
import os
import re
import subprocess
import sys

import pytest

from conftest import ROOT

import functions  # Deploy/local
import resources
import template

DOC = template.load()
FUNCTIONS = template.resources(DOC, "AWS::Lambda::Function")


def function_json(logical):
    with open(os.path.join(ROOT, "Functions", template.LOCAL_NAMES[logical], "function.json")) as f:
        return json.load(f)


def test_every_resource_type_is_translated_or_documented_as_not_emulated():
    assert template.unknown_types(DOC) == []
    assert {template.LOCAL_NAMES[k] for k in FUNCTIONS} == {
        d for d in os.listdir(os.path.join(ROOT, "Functions")) if os.path.exists(os.path.join(ROOT, "Functions", d, "main.swift"))}


@pytest.mark.parametrize("logical", sorted(FUNCTIONS))
def test_functions_take_their_settings_from_the_template(logical):
    props, spec = FUNCTIONS[logical]["Properties"], function_json(logical)
    assert props["Handler"] == "bootstrap" and props["Runtime"] == {"Ref": "Runtime"}
    assert DOC["Parameters"]["Runtime"]["Default"] == "provided.al2023"
    assert "provided.al2" in DOC["Parameters"]["Runtime"]["AllowedValues"]
    assert not set(spec) & set(functions.FROM_TEMPLATE), "function.json repeats a setting the template holds"
    fn = functions.load_dir(os.path.join(ROOT, "Functions"))[template.LOCAL_NAMES[logical]]
    assert (fn.memory, fn.timeout, fn.runtime, fn.log_format) == (
        props["MemorySize"], props["Timeout"], "provided.al2023", props["LoggingConfig"]["LogFormat"])
    env = props["Environment"]["Variables"]
    assert set(env) <= set(spec["environment"]), f"not in function.json: {set(env) - set(spec['environment'])}"
    needed = {k for k, v in spec["environment"].items() if v.get("required") and "default" not in v}
    assert needed <= set(env), f"required without a default, not set by the template: {needed - set(env)}"
    assert props["Code"]["S3Key"] == {"Fn::Sub": "${ArtifactPrefix}" + template.LOCAL_NAMES[logical] + ".zip"}


@pytest.mark.parametrize("logical", sorted(FUNCTIONS))
def test_each_function_can_turn_on_xray_active_tracing_with_the_permission_it_needs(logical):
    props = FUNCTIONS[logical]["Properties"]
    assert props["TracingConfig"] == {"Mode": {"Ref": "FunctionTracing"}}
    assert DOC["Parameters"]["FunctionTracing"]["AllowedValues"] == ["PassThrough", "Active"]
    assert DOC["Conditions"]["ActiveTracing"] == {"Fn::Equals": [{"Ref": "FunctionTracing"}, "Active"]}
    role = DOC["Resources"][template.logical(props["Role"])]["Properties"]
    when, arns, otherwise = role["ManagedPolicyArns"]["Fn::If"]
    assert when == "ActiveTracing" and otherwise == {"Ref": "AWS::NoValue"}
    assert arns == [{"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/AWSXRayDaemonWriteAccess"}]


@pytest.mark.parametrize("logical", sorted(template.resources(DOC, "AWS::Lambda::EventSourceMapping")))
def test_event_source_mappings_are_the_local_pollers(logical):
    props = DOC["Resources"][logical]["Properties"]
    target = template.logical(props["FunctionName"])
    local = function_json(target)["local"]["sqs"]
    assert template.LOCAL_NAMES[template.logical(props["EventSourceArn"])] == local["queue"]
    assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"] and props["BatchSize"] == local["batchSize"]


def test_the_state_machine_substitutions_are_its_placeholders():
    [machine] = template.resources(DOC, "AWS::StepFunctions::StateMachine").values()
    with open(os.path.join(ROOT, "StateMachines", "workflow.asl.json")) as f:
        placeholders = set(re.findall(r"\$\{([A-Za-z0-9_]+)\}", f.read()))
    assert set(machine["Properties"]["DefinitionSubstitutions"]) == placeholders


def test_iam_wildcards_are_only_the_commented_exceptions():
    allowed = {"states:SendTaskSuccess"} | {a for a in template.load()["Resources"]["WorkflowRole"]["Properties"]["Policies"][0]
                                          ["PolicyDocument"]["Statement"][-1]["Action"]} | {
        "logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery", "logs:DeleteLogDelivery",
        "logs:ListLogDeliveries", "logs:PutResourcePolicy", "logs:DescribeResourcePolicies", "logs:DescribeLogGroups"}
    for logical, r in template.resources(DOC, "AWS::IAM::Role").items():
        for policy in r["Properties"]["Policies"]:
            for statement in policy["PolicyDocument"]["Statement"]:
                if statement["Resource"] == "*":
                    actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
                    assert set(actions) <= allowed, f"{logical}: Resource '*' for {actions}"
    lines = open(template.TEMPLATE).read().splitlines()
    for i, line in enumerate(lines):
        if line.strip() == 'Resource: "*"':
            assert any("#" in l for l in lines[max(0, i - 5):i]), f"line {i + 1}: Resource '*' without a comment"


def test_the_local_stack_has_the_templates_resources(endpoint):
    out = resources.ensure(endpoint)
    c = resources.clients(endpoint)
    for logical, r in template.resources(DOC, "AWS::DynamoDB::Table").items():
        d = c["dynamodb"].describe_table(TableName=template.LOCAL_NAMES[logical])["Table"]
        assert d["KeySchema"] == r["Properties"]["KeySchema"]
        ttl = c["dynamodb"].describe_time_to_live(TableName=template.LOCAL_NAMES[logical])["TimeToLiveDescription"]
        if "TimeToLiveSpecification" in r["Properties"]:
            assert ttl["AttributeName"] == r["Properties"]["TimeToLiveSpecification"]["AttributeName"]
    for logical, r in template.resources(DOC, "AWS::SQS::Queue").items():
        url = c["sqs"].get_queue_url(QueueName=template.LOCAL_NAMES[logical])["QueueUrl"]
        a = c["sqs"].get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        assert (a.get("FifoQueue") == "true") == bool(r["Properties"].get("FifoQueue"))
        if "RedrivePolicy" in r["Properties"]:
            redrive = json.loads(a["RedrivePolicy"])
            dlq = template.LOCAL_NAMES[template.logical(r["Properties"]["RedrivePolicy"]["deadLetterTargetArn"])]
            assert redrive["deadLetterTargetArn"].endswith(":" + dlq) and int(redrive["maxReceiveCount"]) == 5
    rules = c["s3"].get_bucket_lifecycle_configuration(Bucket=out["bucket"])["Rules"]
    assert {r["ID"] for r in rules} == {"map-run-results", "abort-incomplete-uploads"}
    definition = json.loads(c["stepfunctions"].describe_state_machine(stateMachineArn=out["state_machine_arn"])["definition"])
    assert definition["States"]["Aggregate"]["Parameters"]["FunctionName"] == resources.function_arn("light-aggregator")


def test_make_deploy_deploys_the_template_and_undeploy_keeps_the_state(endpoint, tmp_path):
    """Deploy/deploy.py (what `make deploy` runs) against the local stack's CloudFormation (moto): zips checked,
    uploaded, the stack created from Deploy/template.yaml; undeploy deletes it and names what it kept."""
    env = dict(os.environ, PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"])
    bin_dir = os.path.join(ROOT, os.environ.get("ANALEMMA_BIN_DIR", ".build/release"))
    dist = tmp_path / "dist"
    subprocess.run([sys.executable, os.path.join(ROOT, "Deploy", "package.py"), "--bin-dir", bin_dir, "--out", str(dist),
                    "--functions-dir", os.path.join(ROOT, "Functions")], check=True, capture_output=True, timeout=300)
    resources.clients(endpoint)["s3"].create_bucket(Bucket="analemma-artifacts-test")
    stack = f"analemma-test-{os.urandom(3).hex()}"
    common = ["--endpoint", endpoint, "--stack", stack, "--region", "us-east-1"]
    r = subprocess.run([sys.executable, os.path.join(ROOT, "Deploy", "deploy.py"), "deploy", *common, "--dist", str(dist),
                        "--artifact-bucket", "analemma-artifacts-test"], capture_output=True, text=True, env=env, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.count("deployable on provided.al2 and provided.al2023") == 4
    assert f"== {stack}: CREATE_COMPLETE" in r.stdout
    cfn = resources.boto3.client("cloudformation", endpoint_url=endpoint, region_name="us-east-1")
    listed = {x.get("LogicalResourceId"): x for x in cfn.describe_stack_resources(StackName=stack)["StackResources"]}
    for logical in ("StateBucket", "ManifestTable", "SegmentRunner", "WebSocketNotifier", "EventsQueue", "Workflow",
                    "GCQueueMapping"):
        assert listed[logical]["ResourceStatus"] == "CREATE_COMPLETE", listed.get(logical)
    keys = [o["Key"] for o in resources.clients(endpoint)["s3"].list_objects_v2(Bucket="analemma-artifacts-test")["Contents"]]
    assert sorted({k.rsplit("/", 1)[1] for k in keys}) == ["gc-worker.zip", "light-aggregator.zip", "segment-runner.zip",
                                                          "websocket-notifier.zip", "workflow.asl.json"]
    r = subprocess.run([sys.executable, os.path.join(ROOT, "Deploy", "deploy.py"), "undeploy", *common],
                       capture_output=True, text=True, env=env, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    assert f"{stack} deleted" in r.stdout and "retained (holds workflow state): AWS::S3::Bucket" in r.stdout
