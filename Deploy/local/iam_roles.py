"""The template's IAM roles on the local stack: each role's inline policies with `!Sub`/`!GetAtt`/`!Ref` resolved
to the local ARNs, and who assumes which role (a function's `Role`, the state machine's `RoleArn`)."""

import template

ACCOUNT, REGION, STACK = "123456789012", "us-east-1", "analemma"
WEBSOCKET_API = "local"
INTERPRETER = "state-machine"
# What a function the template does not declare (Tests/Functions) runs with: AWS's managed
# AWSLambdaBasicExecutionRole policy, logs only.
BASIC_EXECUTION = {"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"], "Resource": "*"}]}


class Roles:
    """The template's roles, their inline policies resolved to local ARNs, and who assumes which."""

    def __init__(self, doc):
        self.doc = doc
        self.params = {k: v.get("Default", "") for k, v in doc.get("Parameters", {}).items()}
        self.policies = {}  # role logical id -> [policy document]
        for logical, res in template.resources(doc, "AWS::IAM::Role").items():
            props = res.get("Properties", {})
            self.policies[logical] = [self.resolve(p["PolicyDocument"]) for p in props.get("Policies", [])]
        self.function_roles = {}  # local function name -> role logical id
        for logical, res in template.resources(doc, "AWS::Lambda::Function").items():
            name = template.LOCAL_NAMES.get(logical)
            if name:
                self.function_roles[name] = template.logical(res["Properties"]["Role"])
        machine = template.resources(doc, "AWS::StepFunctions::StateMachine")
        self.machine_role = next((template.logical(r["Properties"]["RoleArn"]) for r in machine.values()), None)

    def log_group_arn(self, function):
        """The log group a function's LoggingConfig names (Lambda's default /aws/lambda/<name> without one)."""
        for logical, res in template.resources(self.doc, "AWS::Lambda::Function").items():
            if template.LOCAL_NAMES.get(logical) == function:
                group = res["Properties"].get("LoggingConfig", {}).get("LogGroup")
                if group:
                    return f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{self.resolve(group)}"
        return f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/{function}"

    def role_arn(self, logical):
        return f"arn:aws:iam::{ACCOUNT}:role/{STACK}-{logical}"

    def statements(self, logical):
        """(policy index, statement index, statement) of a role, in template order; statement numbers run across
        the role's policies."""
        out = []
        for p, doc in enumerate(self.policies.get(logical, [])):
            for st in _list(doc.get("Statement", [])):
                out.append((p, len(out), st))
        return out

    # ---------------------------------------------------------------- CloudFormation values → local strings
    def resolve(self, value):
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if not isinstance(value, dict):
            return value
        if "Ref" in value:
            return self.ref(value["Ref"])
        if "Fn::GetAtt" in value:
            target, attribute = value["Fn::GetAtt"]
            return self.attribute(target, attribute)
        if "Fn::Sub" in value:
            text, variables = (value["Fn::Sub"], {}) if isinstance(value["Fn::Sub"], str) else value["Fn::Sub"]
            return self.sub(text, {k: self.resolve(v) for k, v in variables.items()})
        return {k: self.resolve(v) for k, v in value.items()}

    def sub(self, text, variables):
        out, i = [], 0
        while i < len(text):
            start = text.find("${", i)
            if start < 0:
                out.append(text[i:])
                break
            end = text.index("}", start)
            out.append(text[i:start])
            name = text[start + 2:end]
            if name.startswith("!"):
                out.append("${" + name[1:] + "}")
            elif name in variables:
                out.append(str(variables[name]))
            elif "." in name and not name.startswith("AWS::"):
                out.append(self.attribute(*name.split(".", 1)))
            else:
                out.append(str(self.ref(name)))
            i = end + 1
        return "".join(out)

    def ref(self, name):
        pseudo = {"AWS::Partition": "aws", "AWS::Region": REGION, "AWS::AccountId": ACCOUNT,
                  "AWS::StackName": STACK, "AWS::URLSuffix": "amazonaws.com"}
        if name in pseudo:
            return pseudo[name]
        if name in self.params:
            return self.params[name]
        res = self.doc["Resources"].get(name, {})
        if res.get("Type") == "AWS::ApiGatewayV2::Api":
            return WEBSOCKET_API
        if res.get("Type") == "AWS::Logs::LogGroup":
            return self.resolve(res["Properties"]["LogGroupName"])
        return template.LOCAL_NAMES.get(name, name)

    def attribute(self, target, attribute):
        res = self.doc["Resources"].get(target, {})
        kind, name = res.get("Type"), template.LOCAL_NAMES.get(target, target)
        if attribute != "Arn":
            raise ValueError(f"{target}.{attribute}: only Arn attributes appear in policies")
        return {
            "AWS::S3::Bucket": f"arn:aws:s3:::{name}",
            "AWS::DynamoDB::Table": f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{name}",
            "AWS::SQS::Queue": f"arn:aws:sqs:{REGION}:{ACCOUNT}:{name}",
            "AWS::Lambda::Function": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}",
            "AWS::StepFunctions::StateMachine": f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:{name}",
            "AWS::IAM::Role": self.role_arn(target),
            "AWS::Logs::LogGroup": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{self.ref(target)}:*",
        }[kind]


def _list(value):
    return value if isinstance(value, list) else [value]
