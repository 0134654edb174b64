"""Step Functions rules moto does not keep, applied at the front door (botocore's model and the API reference):

- StartExecution input ≤ 262,144 UTF-8 bytes, else 400 ValidationException (a member over its length constraint);
- a task token works once: SendTaskSuccess/SendTaskFailure/SendTaskHeartbeat with a token whose task already
  succeeded or failed answers 400 `TaskTimedOut` ("Provided task does not exist anymore"), as AWS does — moto
  accepts it again silently.
  https://docs.aws.amazon.com/step-functions/latest/apireference/API_SendTaskSuccess.html
"""

import json
import threading

MAX_INPUT_BYTES = 262_144
TASK_CALLS = ("AWSStepFunctions.SendTaskSuccess", "AWSStepFunctions.SendTaskFailure", "AWSStepFunctions.SendTaskHeartbeat")


class StepFunctionsRules:
    def __init__(self):
        self.lock = threading.Lock()
        self.spent = set()

    def admit(self, headers, body):
        """The error body to answer (400) instead of moto, or None."""
        target = headers.get("X-Amz-Target")
        if target not in ("AWSStepFunctions.StartExecution", "AWSStepFunctions.StartSyncExecution") + TASK_CALLS:
            return None
        try:
            req = json.loads(body or b"{}")
        except ValueError:
            return None
        if not isinstance(req, dict):
            return None
        if target in TASK_CALLS:
            with self.lock:
                spent = req.get("taskToken") in self.spent
            return _error("TaskTimedOut", "Task Timed Out: 'Provided task does not exist anymore'") if spent else None
        given = req.get("input")
        size = len(given.encode("utf-8")) if isinstance(given, str) else 0
        if size <= MAX_INPUT_BYTES:
            return None
        return _error("ValidationException", "1 validation error detected: Value at 'input' failed to satisfy constraint: "
                      f"Member must have length less than or equal to {MAX_INPUT_BYTES} (it is {size} bytes)")

    def learn(self, headers, body, status):
        """After moto answered: a task closed by SendTaskSuccess/SendTaskFailure spends its token."""
        if status != 200 or headers.get("X-Amz-Target") not in TASK_CALLS[:2]:
            return
        try:
            token = json.loads(body).get("taskToken")
        except (ValueError, AttributeError):
            return
        with self.lock:
            self.spent.add(token)


def _error(code, message):
    return json.dumps({"__type": code, "message": message}).encode()
