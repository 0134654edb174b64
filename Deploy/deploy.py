"""`make deploy` / `make undeploy`: the Deploy/template.yaml stack with the aws CLI.

  python Deploy/deploy.py deploy   --stack analemma --region us-east-1 --artifact-bucket BUCKET [--model-provider gemini
                                   --gemini-secret NAME] [--runtime provided.al2023] [--endpoint URL]
  python Deploy/deploy.py undeploy --stack analemma --region us-east-1 [--endpoint URL]

deploy: checks the zips (package_check), uploads them and the state machine definition under
`analemma/<content hash>/` (a changed binary is a new key, so CloudFormation updates the function), runs
`aws cloudformation deploy` and prints the stack outputs. undeploy deletes the stack; the state bucket and the
manifest and block-reference tables are retained (DeletionPolicy: Retain) so no workflow state is lost - the
command says how to remove them. `--endpoint` points the CLI at another endpoint (the local stack, for tests).
"""

import argparse
import hashlib
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import package_check  # noqa: E402


def aws(args, *cmd, capture=True, check=True):
    argv = ["aws", *cmd, "--region", args.region] + (["--endpoint-url", args.endpoint] if args.endpoint else [])
    r = subprocess.run(argv, capture_output=capture, text=True)
    if check and r.returncode != 0:
        sys.exit(f"failed: {' '.join(argv[:4])}…\n{(r.stderr or r.stdout or '').strip()}")
    return r


def artifacts(zips):
    """The files to upload (the zips and the state machine definition) and their content version."""
    files = zips + [os.path.join(ROOT, "StateMachines", "workflow.asl.json")]
    digest = hashlib.sha256()
    for f in files:
        with open(f, "rb") as fh:
            digest.update(os.path.basename(f).encode() + b"\0" + hashlib.sha256(fh.read()).digest())
    return files, digest.hexdigest()[:16]


def deploy(args):
    dist = args.dist
    zips = sorted(os.path.join(dist, z) for z in os.listdir(dist) if z.endswith(".zip")) if os.path.isdir(dist) else []
    names = {os.path.basename(z)[:-4] for z in zips}
    wanted = {"segment-runner", "light-aggregator", "gc-worker", "websocket-notifier"}
    if not wanted <= names:
        sys.exit(f"missing zips in {dist}: {sorted(wanted - names)} - run `make package`")
    for z in zips:
        ok, line = package_check.check(z)
        print(("ok    " if ok else "FAIL  ") + line)
        if not ok:
            sys.exit("a zip is not deployable (see above)")
    files, version = artifacts(zips)
    prefix = f"analemma/{version}/"
    print(f"== uploading {len(files)} artifacts to s3://{args.artifact_bucket}/{prefix}")
    for f in files:
        aws(args, "s3", "cp", "--only-show-errors", f, f"s3://{args.artifact_bucket}/{prefix}{os.path.basename(f)}")
    params = [f"ArtifactBucket={args.artifact_bucket}", f"ArtifactPrefix={prefix}", f"Runtime={args.runtime}",
              f"ModelProvider={args.model_provider}", f"GeminiApiKeySecret={args.gemini_secret}",
              f"FunctionTracing={args.tracing}", f"OtlpEndpoint={args.otlp_endpoint}", f"OtlpHeadersSecret={args.otlp_headers_secret}"]
    print(f"== cloudformation deploy {args.stack} ({args.region}, {args.runtime}, model provider {args.model_provider})")
    r = aws(args, "cloudformation", "deploy", "--template-file", os.path.join(HERE, "template.yaml"), "--stack-name",
            args.stack, "--capabilities", "CAPABILITY_IAM", "--no-fail-on-empty-changeset", "--parameter-overrides",
            *params, capture=False, check=False)
    if r.returncode != 0:
        aws(args, "cloudformation", "describe-stack-events", "--stack-name", args.stack, "--max-items", "15",
            "--query", "StackEvents[?contains(ResourceStatus, 'FAILED')].[LogicalResourceId,ResourceStatusReason]",
            "--output", "text", capture=False, check=False)
        sys.exit(f"deploy of {args.stack} failed (events above)")
    out = json.loads(aws(args, "cloudformation", "describe-stacks", "--stack-name", args.stack).stdout)
    outputs = {o["OutputKey"]: o["OutputValue"] for o in out["Stacks"][0].get("Outputs", [])}
    print(f"== {args.stack}: {out['Stacks'][0]['StackStatus']}")
    for k in sorted(outputs):
        print(f"   {k}: {outputs[k]}")
    if "StateMachineArn" in outputs:
        print("\nStart a workflow:\n   aws stepfunctions start-execution --state-machine-arn "
              f"{outputs['StateMachineArn']} --input file://input.json   "
              '# {"owner_id": "...", "workflow": {...}, "input": {...}}')
    if "ConnectTokenSecretArn" in outputs:
        print("Watch it live: CONNECT_TOKEN_SECRET=$(aws secretsmanager get-secret-value --secret-id "
              f"{outputs['ConnectTokenSecretArn']} --query SecretString --output text) analemma token OWNER")
    return 0


def undeploy(args):
    r = aws(args, "cloudformation", "describe-stack-resources", "--stack-name", args.stack, check=False)
    retained = []
    if r.returncode == 0:
        for res in json.loads(r.stdout)["StackResources"]:
            if res.get("LogicalResourceId") in ("StateBucket", "ManifestTable", "BlockReferencesTable"):
                retained.append((res["ResourceType"], res.get("PhysicalResourceId", "")))
    aws(args, "cloudformation", "delete-stack", "--stack-name", args.stack)
    aws(args, "cloudformation", "wait", "stack-delete-complete", "--stack-name", args.stack, capture=False)
    print(f"== {args.stack} deleted")
    for kind, name in retained:
        how = f"aws s3 rb s3://{name} --force" if kind == "AWS::S3::Bucket" else f"aws dynamodb delete-table --table-name {name}"
        print(f"   retained (holds workflow state): {kind} {name}  - remove with: {how}")
    return 0


def main(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("command", choices=["deploy", "undeploy"])
    p.add_argument("--stack", default=os.environ.get("STACK", "analemma"))
    p.add_argument("--region", default=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1")
    p.add_argument("--artifact-bucket", default=os.environ.get("ARTIFACT_BUCKET"))
    p.add_argument("--runtime", default=os.environ.get("RUNTIME", "provided.al2023"), choices=["provided.al2023", "provided.al2"])
    p.add_argument("--model-provider", default=os.environ.get("MODEL_PROVIDER", "standin"), choices=["gemini", "vertex", "standin"])
    p.add_argument("--gemini-secret", default=os.environ.get("GEMINI_SECRET", ""),
                   help="Secrets Manager secret name/ARN holding the Gemini API key")
    p.add_argument("--tracing", default=os.environ.get("FUNCTION_TRACING", "PassThrough"), choices=["PassThrough", "Active"],
                   help="X-Ray tracing of the functions (template parameter FunctionTracing)")
    p.add_argument("--otlp-endpoint", default=os.environ.get("OTLP_ENDPOINT", ""),
                   help="OpenTelemetry collector base URL for the segment runner's spans (OTLP/HTTP protobuf)")
    p.add_argument("--otlp-headers-secret", default=os.environ.get("OTLP_HEADERS_SECRET", ""),
                   help="Secrets Manager secret holding OTEL_EXPORTER_OTLP_HEADERS (k=v,…)")
    p.add_argument("--endpoint", default=os.environ.get("AWS_ENDPOINT_URL", ""))
    p.add_argument("--dist", default=os.path.join(HERE, "dist"), help="folder of the zips (make package)")
    args = p.parse_args(argv)
    if args.command == "deploy":
        if not args.artifact_bucket:
            sys.exit("--artifact-bucket (or ARTIFACT_BUCKET=) is required: an S3 bucket you own in the region, for the zips")
        if args.model_provider == "gemini" and not args.gemini_secret:
            sys.exit("MODEL_PROVIDER=gemini needs GEMINI_SECRET=<Secrets Manager secret name holding the API key>")
        return deploy(args)
    return undeploy(args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
