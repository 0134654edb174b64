"""IAM, enforced in the front door: every call a function or the state machine makes is evaluated against the
calling role's policies from Deploy/template.yaml, and refused with `AccessDenied` as the service would answer it.

Who calls: each function's instances sign with the function's own access key and an instance session token (as
Lambda hands out its role's credentials; `lambda_service.py`), an SQS event source mapping polls with its
function's role (`mapping_key`), and the Step Functions interpreter (Lambda Invoke, ItemReader, ResultWriter,
`states:startExecution` tasks, Distributed Map children) runs as the state machine's role — its calls name the
machine they run for (moto_patches._state_machine_of_each_call); a machine the template does not declare (the
tests create their own) is not checked. A function the template
does not declare runs with AWSLambdaBasicExecutionRole (logs only). Any other key is the developer's or the test harness's own
(an administrator's) and is not checked.

What is checked: `iam_actions.checks` — the action IAM checks for that request (per-item actions for
transactions) and its resource ARN, with the condition keys the request carries (`s3:prefix`). The decision is
principalmapper's local policy simulation (explicit deny, then allow; wildcards, policy variables, the String/Arn/
Numeric/Bool/Date/IpAddress/Null condition operators), not a matcher of ours. Known differences from AWS are listed
in docs/local-stack-fidelity.md.

Control: `GET /_analemma/iam` → denials and which statement allowed what; `POST {"without": {"role": R,
"statement": I}}` evaluates as if statement I of role R were removed (`{"without": null}` restores),
`{"reset": true}` clears the figures. `POST /_analemma/iam/check {"caller", "action", "resource"}` is the same
decision for a call the interpreter makes inside moto (a Distributed Map's child executions).
"""

import collections
import collections.abc
import hashlib
import json
import threading
import uuid

import chaos
import iam_actions
import template

# principalmapper 1.1.5 imports Mapping/MutableMapping from `collections` (moved to collections.abc in Python 3.10).
for _name in ("Mapping", "MutableMapping"):
    if not hasattr(collections, _name):
        setattr(collections, _name, getattr(collections.abc, _name))

from principalmapper.common import Node, Policy  # noqa: E402
from principalmapper.querying.local_policy_simulation import policy_has_matching_statement  # noqa: E402
from principalmapper.querying.query_interface import local_check_authorization_full  # noqa: E402

from iam_roles import ACCOUNT, BASIC_EXECUTION, INTERPRETER, REGION, STACK, WEBSOCKET_API, Roles, _list  # noqa: E402


def mapping_key(name):
    """The access key an SQS event source mapping of function `name` polls with (its function's role)."""
    return "ASIA" + hashlib.sha256(f"event-source-mapping/{name}".encode()).hexdigest()[:16].upper()


class Iam:
    def __init__(self, functions, tokens, doc=None):
        self.roles = Roles(doc or template.load())
        self.tokens = tokens  # function name -> set of session tokens its instances were given
        self.callers = {}  # access key -> (caller name, role logical id or None)
        for name in functions:
            role = self.roles.function_roles.get(name)
            self.callers[chaos.function_key(name)] = (name, role)
            self.callers[mapping_key(name)] = (f"{name} event source mapping", role)
        self.callers[chaos.INTERPRETER_KEY] = (INTERPRETER, self.roles.machine_role)
        self.lock = threading.Lock()
        self.without = None
        self.nodes, self.generation, self.log_decisions = {}, 0, {}
        self._build()
        self.reset()

    def reset(self):
        with self.lock:
            self.denials, self.denied, self.allowed, self.used, self.examples = [], 0, 0, {}, {}
            self.log_decisions = {}

    def _build(self):
        """principalmapper nodes, one per role, with the current (possibly reduced) policies."""
        nodes = {}
        for logical in set(self.roles.policies) | {None}:
            docs, counter = [], 0
            for doc in (self.roles.policies.get(logical, []) if logical else [BASIC_EXECUTION]):
                kept = []
                for st in _list(doc.get("Statement", [])):
                    if not (self.without and self.without["role"] == logical and self.without["statement"] == counter):
                        kept.append(st)
                    counter += 1
                docs.append({**doc, "Statement": kept})
            arn = self.roles.role_arn(logical or "BasicExecutionRole")
            policies = [Policy(arn, f"inline-{i}", d) for i, d in enumerate(docs)]
            nodes[logical] = Node(arn, "AROA" + hashlib.sha256(arn.encode()).hexdigest()[:17].upper(), policies, [],
                                  {"Version": "2012-10-17", "Statement": []}, None, 0, False, False, None, False, None)
        self.nodes = nodes
        self.generation += 1

    def caller(self, headers):
        """(caller name, role, refusal): None when the key is not one the stack handed out (unchecked)."""
        key = chaos.access_key(headers.get("Authorization", ""))
        known = self.callers.get(key)
        if known is None:
            return None
        name, role = known
        if name == INTERPRETER and not self.declared_machine(headers.get("X-Analemma-State-Machine")):
            return None  # a state machine the template does not declare (the tests' own): its role is not known here
        if key == chaos.function_key(name):
            token = headers.get("X-Amz-Security-Token")
            if token not in self.tokens.get(name, ()):
                return name, role, "token"
        return name, role, None

    def declared_machine(self, arn):
        """Whether the interpreter's call is for the template's state machine (or one of its map children); a call
        that names no machine is taken as the template's, the strict choice."""
        if not arn:
            return True
        name = arn.split(":stateMachine:", 1)[-1].split("/", 1)[0].split(":", 1)[0]
        return name == template.LOCAL_NAMES["Workflow"]

    def authorize(self, command, path, query, headers, body):
        """None (allowed, or not a checked caller) or the refusal to send: (status, headers, body)."""
        who = self.caller(headers)
        if who is None:
            return None
        name, role, problem = who
        service = _service(path, headers)
        if problem == "token":
            return _invalid_token(service)
        for check in iam_actions.checks(command, path, query, headers, body, REGION, ACCOUNT, WEBSOCKET_API,
                                        self.roles.params.get("StageName", "live")):
            if not self.decide(name, role, check.action, check.resource, check.context):
                return _denied(service, self._session_arn(role, name), check.action, check.resource)
        return None

    def decide(self, name, role, action, resource, context=None):
        """Whether role may perform action on resource; the decision is recorded (denials, and which statement
        allowed it). An unmodelled request (action None) is denied."""
        allowed = action is not None and local_check_authorization_full(
            self.nodes.get(role) or self.nodes[None], action, resource, dict(context or {}))
        with self.lock:
            seen = self.examples.setdefault(action or "", [])
            if len(seen) < 3 and resource not in seen:
                seen.append(resource)
            if not allowed:
                self.denied += 1
                entry = {"caller": name, "role": role, "action": action or "(not modelled)", "resource": resource}
                self.denials = (self.denials + [entry])[-500:]
                return False
            self.allowed += 1
        statement = self._allowing_statement(role, action, resource, context)
        with self.lock:
            by = self.used.setdefault(role, {}).setdefault(str(statement), {})
            by[action] = by.get(action, 0) + 1
        return True

    def may_log(self, name):
        """Whether function `name`'s role may write its log lines to its log group (decided once per policy
        change): logs:CreateLogStream and logs:PutLogEvents on a stream of the template's LoggingConfig group."""
        key = (name, self.generation)
        if key not in self.log_decisions:
            role = self.roles.function_roles.get(name)
            stream = f"{self.roles.log_group_arn(name)}:log-stream:local"
            self.log_decisions = {key: all(self.decide(name, role, a, stream)
                                           for a in ("logs:CreateLogStream", "logs:PutLogEvents")),
                                  **{k: v for k, v in self.log_decisions.items() if k[1] == self.generation}}
        return self.log_decisions[key]

    def _allowing_statement(self, role, action, resource, context):
        for _, index, st in self.roles.statements(role):
            if self.without and self.without["role"] == role and self.without["statement"] == index:
                continue
            if policy_has_matching_statement({"Statement": [st]}, "Allow", action, resource, dict(context or {})):
                return index
        return None

    def _session_arn(self, role, name):
        session = name.split(" ")[0] if role != self.roles.machine_role else "analemma-execution"
        return f"arn:aws:sts::{ACCOUNT}:assumed-role/{STACK}-{role or 'BasicExecutionRole'}/{session}"

    def control(self, method, path, body):
        req = json.loads(body or b"{}") if method == "POST" else {}
        if path.endswith("/check"):  # a call the interpreter makes inside moto
            name, role = self.callers.get(chaos.INTERPRETER_KEY)
            ok = not self.declared_machine(req.get("state_machine")) or self.decide(
                name, role, req.get("action"), req.get("resource", ""))
            out = {"allowed": ok, "principal": self._session_arn(role, name)}
            return 200, [("Content-Type", "application/json")], json.dumps(out).encode()
        if "without" in req:
            without = req["without"]
            if without is not None and without.get("role") not in self.roles.policies:
                return 400, [("Content-Type", "application/json")], b'{"error": "no such role"}'
            with self.lock:
                self.without = without
                self._build()
        if req.get("reset"):
            self.reset()
        with self.lock:
            out = {"without": self.without, "allowed": self.allowed, "denied": self.denied,
                   "denials": self.denials, "used": self.used, "examples": self.examples,
                   "roles": {r: [{"statement": i, "actions": _list(st.get("Action", [])),
                                  "resources": _list(st.get("Resource", []))} for _, i, st in self.roles.statements(r)]
                             for r in self.roles.policies}}
        return 200, [("Content-Type", "application/json")], json.dumps(out).encode()


def _service(path, headers):
    target = headers.get("X-Amz-Target") or ""
    if path.startswith("/2015-03-31/functions/"):
        return "lambda"
    if path.startswith("/@connections/"):
        return "execute-api"
    for prefix, service in (("DynamoDB_", "dynamodb"), ("AmazonSQS", "sqs"), ("AWSStepFunctions", "states")):
        if target.startswith(prefix):
            return service
    if headers.get("Content-Type", "").startswith("application/x-www-form-urlencoded"):
        return "sqs"
    return "s3"


def _json_error(status, code, message, extra=()):
    headers = [("Content-Type", "application/x-amz-json-1.0"), ("x-amzn-RequestId", str(uuid.uuid4())), *extra]
    return status, headers, json.dumps({"__type": code, "message": message, "Message": message}).encode()


def _denied(service, principal, action, resource):
    """AccessDenied as each service answers it (the message names the principal, the action and the resource)."""
    if action is None:
        action = "an action the local IAM table does not model (Deploy/local/iam_actions.py)"
    message = (f"User: {principal} is not authorized to perform: {action} on resource: {resource} "
               f"because no identity-based policy allows the {action} action")
    if service == "s3":
        request_id = uuid.uuid4().hex[:16].upper()
        body = (f"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>AccessDenied</Code><Message>{_xml(message)}"
                f"</Message><RequestId>{request_id}</RequestId></Error>")
        return 403, [("Content-Type", "application/xml"), ("x-amz-request-id", request_id)], body.encode()
    if service == "lambda":
        return 403, [("Content-Type", "application/json"), ("x-amzn-ErrorType", "AccessDeniedException"),
                     ("x-amzn-RequestId", str(uuid.uuid4()))], json.dumps({"Type": "User", "message": message}).encode()
    if service == "execute-api":
        return 403, [("Content-Type", "application/json"), ("x-amzn-ErrorType", "AccessDeniedException"),
                     ("x-amzn-RequestId", str(uuid.uuid4()))], json.dumps({"Message": message}).encode()
    if service == "sqs":
        return _json_error(403, "com.amazon.coral.service#AccessDeniedException", message,
                           [("x-amzn-query-error", "AccessDenied;Sender")])
    return _json_error(400, "com.amazon.coral.service#AccessDeniedException", message)


def _invalid_token(service):
    message = "The security token included in the request is invalid."
    if service == "s3":
        body = "<Error><Code>InvalidToken</Code><Message>The provided token is malformed or otherwise invalid.</Message></Error>"
        return 400, [("Content-Type", "application/xml")], body.encode()
    if service in ("lambda", "execute-api"):
        return 403, [("Content-Type", "application/json"), ("x-amzn-ErrorType", "UnrecognizedClientException")], \
            json.dumps({"message": message}).encode()
    return _json_error(400, "com.amazon.coral.service#UnrecognizedClientException", message)


def _xml(text):
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
