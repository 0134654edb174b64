"""Small, documented fixes to moto 5.2.5's Step Functions interpreter, applied at launch.

Each patch names the moto bug it fixes (measured in shared/facts/local-aws-stack.md) and is covered by a test
in Tests/integration/test_moto_patches.py. The patches check the moto version and refuse to run on another
one, so an upgrade cannot silently keep stale monkey-patches.
"""

import functools
import importlib
import json
import os
import pkgutil
import threading
import uuid

PINNED_MOTO = "5.2.5"


def apply_all():
    import moto

    if moto.__version__ != PINNED_MOTO:
        raise RuntimeError(f"moto_patches target moto {PINNED_MOTO}, found {moto.__version__}: re-check each patch")
    _name_unnamed_executions()
    _iterative_map_workers()
    _cache_jsonpath_parse()
    _share_boto_clients()
    _state_machine_of_each_call()
    _faithful_distributed_map()
    _item_level_transaction_rollback()
    _isolated_dynamodb_writes()
    _map_run_not_found()
    _history_limit()
    _start_execution_parameters()


HISTORY_LIMIT = 25_000  # Step Functions quotas: events in one Standard execution's history


def _history_limit():
    """AWS fails a Standard execution whose history reaches 25,000 events; moto keeps going. Here the execution
    fails (`States.Runtime`, naming the limit) once its history reaches ANALEMMA_SFN_HISTORY_LIMIT (default 25,000):
    the program stops after the state that crossed it, and its ExecutionFailed event is the last one."""
    from moto.stepfunctions.parser.api import ExecutionFailedEventDetails, HistoryEventType
    from moto.stepfunctions.parser.asl.eval.environment import Environment
    from moto.stepfunctions.parser.asl.eval.event.event_manager import EventManager

    limit = int(os.environ.get("ANALEMMA_SFN_HISTORY_LIMIT") or HISTORY_LIMIT)
    closing = {HistoryEventType.ExecutionFailed, HistoryEventType.ExecutionSucceeded, HistoryEventType.ExecutionAborted,
               HistoryEventType.ExecutionTimedOut}
    original_init, original_add, original_set_error = Environment.__init__, EventManager.add_event, Environment.set_error

    @functools.wraps(original_init)
    def init(self, *args, **kwargs):
        original_init(self, *args, **kwargs)
        self.event_manager.analemma_root = self  # a frame's own manager is replaced by its root's right after

    @functools.wraps(original_add)
    def add_event(self, context, event_type, *args, **kwargs):
        event_id = original_add(self, context, event_type, *args, **kwargs)
        root = getattr(self, "analemma_root", None)
        if event_id >= limit and root is not None and event_type not in closing and not getattr(self, "analemma_over", False):
            self.analemma_over = True
            self.analemma_error = ExecutionFailedEventDetails(
                error="States.Runtime",
                cause=f"The execution history reached its limit of {limit} events (Step Functions quota for a Standard "
                      "workflow): continue long work as a new execution")
            root.set_error(self.analemma_error)
        return event_id

    @functools.wraps(original_set_error)
    def set_error(self, error):
        # The state interrupted by the limit may fail on its own afterwards: the limit stays the reason.
        original_set_error(self, getattr(self.event_manager, "analemma_error", None) or error)

    Environment.__init__ = init
    EventManager.add_event = add_event
    Environment.set_error = set_error


def _start_execution_parameters():
    """The `arn:aws:states:::states:startExecution` integration takes the API's members as ASL writes them
    (`StateMachineArn`, `Input`, `Name`), as AWS documents; moto passed them to boto3 unchanged, which refuses them
    (its parameters are `stateMachineArn`, `input`, `name`), so every such Task failed.
    https://docs.aws.amazon.com/step-functions/latest/dg/connect-stepfunctions.html"""
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import state_task_service_sfn as sfn

    original = sfn.StateTaskServiceSfn._normalise_parameters

    @functools.wraps(original)
    def normalise(self, parameters, boto_service_name=None, service_action_name=None):
        original(self, parameters, boto_service_name=boto_service_name, service_action_name=service_action_name)
        if service_action_name is None and self._get_boto_service_action() == "start_execution":
            for key in [k for k in parameters if k in ("StateMachineArn", "Input", "Name", "TraceHeader")]:
                parameters[key[0].lower() + key[1:]] = parameters.pop(key)

    sfn.StateTaskServiceSfn._normalise_parameters = normalise


def _map_run_not_found():
    """DescribeMapRun of an unknown map run raised `ResourceNotFound()` without its required argument, a TypeError
    that moto's server answered with HTTP 500. AWS answers 400 `ResourceNotFound`; so do we (same lookup otherwise)."""
    from moto.stepfunctions.exceptions import ResourceNotFound
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend

    def describe_map_run(self, map_run_arn):
        for execution in self._get_executions():
            record = execution.exec_worker.env.map_run_record_pool_manager.get(map_run_arn)
            if record is not None:
                return record.describe()
        raise ResourceNotFound(map_run_arn)

    StepFunctionsParserBackend.describe_map_run = describe_map_run


def _name_unnamed_executions():
    """StartExecution without `name` got ARN `...:None`, so a second unnamed run failed ExecutionAlreadyExists.

    AWS names such executions with a UUID; so do we.
    """
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend

    original = StepFunctionsParserBackend.start_execution

    @functools.wraps(original)
    def start_execution(self, state_machine_arn, name=None, execution_input=None, trace_header=None):
        return original(self, state_machine_arn, name or str(uuid.uuid4()), execution_input, trace_header)

    StepFunctionsParserBackend.start_execution = start_execution


def _iterative_map_workers():
    """Map workers took each next item by recursing (`_eval_pool` calls itself): a worker with more than ~990 items
    hit RecursionError and the execution stayed RUNNING forever. Same steps, as a loop."""
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration import iteration_worker
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.itemprocessor import (
        distributed_item_processor_worker as dipw,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.iterator import (
        distributed_iterator_worker as diw,
    )

    def inline_pool(self, job, worker_frame):
        while True:
            if job is None:
                self._env.close_frame(worker_frame)
                return
            job_frame = worker_frame.open_inner_frame()
            self._eval_job(env=job_frame, job=job)
            worker_frame.close_frame(job_frame)
            if isinstance(job.job_output, Exception) or self.stopped():
                self._env.close_frame(worker_frame)
                self._job_pool.close_job(job)
                return
            next_job = self._job_pool.next_job()
            if next_job is None:
                worker_frame.event_history_context.source_event_id = (
                    job_frame.event_history_context.last_published_event_id
                )
                self._env.close_frame(worker_frame)
                self._job_pool.close_job(job)
                return
            self._job_pool.close_job(job)
            job = next_job

    def distributed_pool(open_frame):
        def pool(self, job, worker_frame):
            while True:
                if job is None:
                    self._env.delete_frame(worker_frame)
                    return
                job_frame = open_frame(worker_frame)
                self._eval_job(env=job_frame, job=job)
                worker_frame.delete_frame(job_frame)
                if isinstance(job.job_output, Exception) or self.stopped():
                    self._env.delete_frame(worker_frame)
                    self._job_pool.close_job(job)
                    return
                next_job = self._job_pool.next_job()
                if next_job is None:
                    self._env.delete_frame(worker_frame)
                    self._job_pool.close_job(job)
                    return
                self._job_pool.close_job(job)
                job = next_job

        return pool

    iteration_worker.IterationWorker._eval_pool = inline_pool
    dipw.DistributedItemProcessorWorker._eval_pool = distributed_pool(lambda f: f.open_inner_frame())
    diw.DistributedIteratorWorker._eval_pool = distributed_pool(lambda f: f.open_frame())


def _cache_jsonpath_parse():
    """Every JSONPath evaluation built a new parser (`jsonpath_ng.ext.parse`): most of a Map's run time.
    Parsed expressions are immutable, so they are cached by their text."""
    from moto.stepfunctions.parser.asl.utils import json_path

    json_path.parse = functools.lru_cache(maxsize=4096)(json_path.parse)


def _share_boto_clients():
    """Each Task/ItemReader/ResultWriter call created a new boto3 client (and TCP connection). Clients are
    thread-safe once built; build one per (region, service) and share it, with a pool sized for MaxConcurrency."""
    from moto.stepfunctions.parser.asl.utils import boto_client

    original = boto_client.boto_client_for
    clients = {}
    lock = threading.Lock()

    @functools.wraps(original)
    def boto_client_for(region, service, state_credentials=None):
        key = (region, service, boto_client.botocore_stubber.enabled)
        with lock:
            client = clients.get(key)
            if client is None:
                client = original_with_pool(original, region, service, state_credentials)
                clients[key] = client
            return client

    # Modules import the function by name: rebind it everywhere it was imported.
    import moto.stepfunctions.parser.asl as asl

    for info in pkgutil.walk_packages(asl.__path__, asl.__name__ + "."):
        try:
            module = importlib.import_module(info.name)
        except Exception:  # optional integrations whose dependencies are absent
            continue
        if getattr(module, "boto_client_for", None) is original:
            module.boto_client_for = boto_client_for
    boto_client.boto_client_for = boto_client_for


def original_with_pool(original, region, service, state_credentials):
    """A client like moto's, but with a connection pool large enough for concurrent map workers."""
    import boto3
    from botocore.config import Config

    from moto.stepfunctions.parser.asl.utils import boto_client

    built = original(region, service, state_credentials)
    kwargs = {}
    if not boto_client.botocore_stubber.enabled:
        kwargs["endpoint_url"] = built.meta.endpoint_url
    key, secret = "ak", "sk"
    # With request authentication on, the interpreter must sign with a real key: stack.py --auth names a file
    # that the test fixture fills once it has created one.
    path = os.environ.get("ANALEMMA_INTERPRETER_CREDENTIALS")
    if path and os.path.isfile(path):
        with open(path) as f:
            creds = json.load(f)
        key, secret = creds["AccessKeyId"], creds["SecretAccessKey"]
    client = boto3.client(
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        region_name=region,
        service_name=service,
        config=built.meta.config.merge(Config(max_pool_connections=128)),
        **kwargs,
    )
    client.meta.events.register("before-sign", _name_the_state_machine)
    return client


_CALLER = threading.local()  # the state machine whose state is making the current thread's calls
STATE_MACHINE_HEADER = "X-Analemma-State-Machine"


def _name_the_state_machine(request, **_):
    machine = getattr(_CALLER, "machine", None)
    if machine:
        request.headers[STATE_MACHINE_HEADER] = machine


def _state_machine_of_each_call():
    """The interpreter's calls name the state machine they run for (a header, signed with the interpreter's own
    key), so the front door evaluates them as that machine's role: the template's workflow as its WorkflowRole, a
    machine the tests create on their own as an undeclared one. Set around each Task, ItemReader and ResultWriter
    evaluation, in the thread that makes the call."""
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.item_reader.eval import resource_eval_s3 as reader
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.result_writer.resource_eval import resource_eval_s3 as writer
    from moto.stepfunctions.parser.asl.component.state.exec.state_task import state_task_lambda
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import state_task_service

    def naming(original):
        @functools.wraps(original)
        def run(self, env, *args, **kwargs):
            previous = getattr(_CALLER, "machine", None)
            try:
                _CALLER.machine = env.states.context_object.context_object_data["StateMachine"]["Id"]
            except (AttributeError, KeyError, TypeError):
                _CALLER.machine = None
            try:
                return original(self, env, *args, **kwargs)
            finally:
                _CALLER.machine = previous
        return run

    for cls, name in ((state_task_service.StateTaskService, "_eval_execution"),
                      (state_task_lambda.StateTaskLambda, "_eval_execution"),
                      (reader.ResourceEvalS3, "eval_resource"), (writer.ResourceEvalS3, "eval_resource")):
        setattr(cls, name, naming(getattr(cls, name)))


def _faithful_distributed_map():
    """moto neither enforces ToleratedFailurePercentage/Count (failed items become null, the map succeeds) nor
    writes ResultWriter result files (only an empty manifest). As AWS does: a map whose failed items exceed either
    threshold fails with States.ExceedToleratedFailureThreshold; ResultWriter writes SUCCEEDED_0.json / FAILED_0.json
    (one record per child execution: ExecutionArn, Name, Input — what the child received, after ItemSelector —,
    Output or Error/Cause, Status, dates, …) and lists
    them in <Prefix>/<map run id>/manifest.json."""
    import datetime

    from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import FailureEvent, FailureEventException
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import StatesErrorName
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import StatesErrorNameType
    from moto.stepfunctions.parser.api import ExecutionFailedEventDetails, HistoryEventType
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration import distributed_iteration_component as dic
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.itemprocessor import (
        distributed_item_processor_worker as dipw,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.result_writer.resource_eval import resource_eval_s3 as rw
    from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails
    from moto.stepfunctions.parser.asl.eval.program_state import ProgramError

    def now():
        return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")

    original_eval_job = dipw.DistributedItemProcessorWorker._eval_job
    original_eval_input = dipw.DistributedItemProcessorWorker._eval_input

    def eval_input(self, env_frame):
        original_eval_input(self, env_frame)
        env_frame.analemma_child_input = env_frame.states.get_input()  # what the child receives (after ItemSelector)

    dipw.DistributedItemProcessorWorker._eval_input = eval_input

    def eval_job(self, env, job):
        started = now()
        original_eval_job(self, env, job)
        arn = f"{self._map_run_record.map_run_arn.replace(':mapRun:', ':execution:')}:{job.job_index}"
        child_input = getattr(env, "analemma_child_input", job.job_input)
        record = {"ExecutionArn": arn, "Name": str(job.job_index), "Input": json.dumps(child_input),
                  "InputDetails": {"Included": True}, "StartDate": started, "StopDate": now(),
                  "StateMachineArn": self._map_run_record.map_state_machine_arn, "RedriveCount": 0,
                  "RedriveStatus": "NOT_REDRIVABLE", "RedriveStatusReason": "Execution is SUCCEEDED and cannot be redriven"}
        state = env.program_state()
        if job.job_output is not None and not isinstance(state, ProgramError):
            record.update(Status="SUCCEEDED", Output=json.dumps(job.job_output), OutputDetails={"Included": True})
        else:
            error = (state.error or {}) if isinstance(state, ProgramError) else {}
            record.update(Status="FAILED", Error=error.get("error", "States.TaskFailed"), Cause=error.get("cause", ""),
                          RedriveStatus="REDRIVABLE", RedriveStatusReason="")
        with _RECORDS_LOCK:
            _RECORDS.setdefault(self._map_run_record.map_run_arn, []).append(record)

    dipw.DistributedItemProcessorWorker._eval_job = eval_job

    # A threshold the state does not declare does not constrain (moto defaults both to 0): unset count = no count
    # limit when a percentage is set, unset percentage = 100 when a count is set; neither set = any failure fails.
    from moto.stepfunctions.parser.asl.component.state.exec.state_map import state_map as sm
    from moto.stepfunctions.parser.asl.component.state.exec.state_map import tolerated_failure as tf

    original_from_props = sm.StateMap.from_state_props

    def from_state_props(self, state_props):
        original_from_props(self, state_props)
        has_count = state_props.get(tf.ToleratedFailureCountDecl) is not None
        has_percentage = state_props.get(tf.ToleratedFailurePercentageDecl) is not None
        if has_percentage and not has_count:
            self.tolerated_failure_count_decl = tf.ToleratedFailureCountInt(2 ** 62)
        if has_count and not has_percentage:
            self.tolerated_failure_percentage_decl = tf.ToleratedFailurePercentage(100.0)

    sm.StateMap.from_state_props = from_state_props

    original_map_run = dic.DistributedIterationComponent._map_run

    def map_run(self, env, eval_input):
        denial = _child_execution_denial(eval_input.map_run_record)
        if denial:  # the state machine's role may not start (or watch) the map's child executions
            name = StatesErrorName(typ=StatesErrorNameType.StatesRuntime)
            raise FailureEventException(failure_event=FailureEvent(
                env=env, error_name=name, event_type=HistoryEventType.ExecutionFailed,
                event_details=EventDetails(executionFailedEventDetails=ExecutionFailedEventDetails(
                    error=name.error_name, cause=denial))))
        original_map_run(self, env, eval_input)
        counter = eval_input.map_run_record.item_counter
        total, failed = counter.total.get(), counter.failed.get() + counter.timed_out.get()
        over_count = failed > eval_input.tolerated_failure_count
        over_percentage = total > 0 and failed * 100.0 / total > eval_input.tolerated_failure_percentage
        if failed and (over_count or over_percentage):  # AWS: "fails when it exceeds either value"
            name = StatesErrorName(typ=StatesErrorNameType.StatesExceedToleratedFailureThreshold)
            cause = (f"The specified tolerated failure threshold was exceeded: {failed} of {total} items failed "
                     f"(tolerated: {eval_input.tolerated_failure_percentage}% / {eval_input.tolerated_failure_count})")
            raise FailureEventException(failure_event=FailureEvent(
                env=env, error_name=name, event_type=HistoryEventType.ExecutionFailed,
                event_details=EventDetails(executionFailedEventDetails=ExecutionFailedEventDetails(
                    error=name.error_name, cause=cause))))

    dic.DistributedIterationComponent._map_run = map_run

    def put_object(env, resource_runtime_part, state_credentials):
        parameters = env.stack.pop()
        env.stack.pop()  # the outputs: the records carry them
        s3 = rw.ResourceEvalS3._get_s3_client(resource_runtime_part=resource_runtime_part, state_credentials=state_credentials)
        run = env.map_run_record_pool_manager.get_all().pop()
        prefix = parameters["Prefix"]
        if prefix and not prefix.endswith("/"):
            prefix += "/"
        base = prefix + run.map_run_arn.split(":")[-1]
        with _RECORDS_LOCK:
            records = _RECORDS.pop(run.map_run_arn, [])
        files = {"FAILED": [], "PENDING": [], "SUCCEEDED": []}
        for status in ("SUCCEEDED", "FAILED"):
            chosen = sorted((r for r in records if r["Status"] == status), key=lambda r: int(r["Name"]))
            if chosen:
                body = json.dumps(chosen).encode()
                key = f"{base}/{status}_0.json"
                s3.put_object(Bucket=parameters["Bucket"], Key=key, Body=body)
                files[status].append({"Key": key, "Size": len(body)})
        manifest = {"DestinationBucket": parameters["Bucket"], "MapRunArn": run.map_run_arn, "ResultFiles": files}
        key = base + "/manifest.json"
        s3.put_object(Bucket=parameters["Bucket"], Key=key, Body=json.dumps(manifest, indent=2).encode())
        env.stack.append({"MapRunArn": run.map_run_arn, "ResultWriterDetails": {"Bucket": parameters["Bucket"], "Key": key}})

    rw.ResourceEvalS3._handle_put_object = staticmethod(put_object)


def _child_execution_denial(record):
    """A Distributed Map's child executions are started and watched as the state machine's role: states:StartExecution
    on the state machine, states:DescribeExecution and states:StopExecution on the children (the Step Functions guide
    "IAM policies for using Distributed Map states"). They run inside moto, so the front door's IAM is asked here
    (POST /_analemma/iam/check); None when allowed or when the front door says it does not enforce IAM. A check
    that cannot be made (no answer, an HTTP error, a malformed one) refuses: fail closed, never kinder than AWS."""
    import urllib.request

    execution = record.execution_arn
    machine_name = execution.split(":")[6].split("/")[0]
    machine = ":".join(execution.split(":")[:5] + ["stateMachine", machine_name])
    child = record.map_run_arn.replace(":mapRun:", ":execution:") + ":0"
    checks = [("states:StartExecution", machine), ("states:DescribeExecution", child), ("states:StopExecution", child)]
    for action, resource in checks:
        req = urllib.request.Request(f"http://127.0.0.1:{os.environ.get('MOTO_PORT', '4566')}/_analemma/iam/check",
                                     data=json.dumps({"action": action, "resource": resource, "state_machine": machine}).encode(),
                                     method="POST",
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                answer = json.loads(r.read())
        except (OSError, ValueError) as e:  # HTTPError is an OSError: the check could not be made
            return f"the local IAM check for {action} on {resource} could not be made: {e}"
        if not isinstance(answer, dict):
            return f"the local IAM check for {action} on {resource} answered {answer!r}"
        if answer.get("enforced") is False:
            return None  # stack.py --no-iam
        if answer.get("allowed") is not True:
            return (f"User: {answer.get('principal')} is not authorized to perform: {action} on resource: {resource} "
                    f"because no identity-based policy allows the {action} action (AccessDeniedException)")
    return None


def _item_level_transaction_rollback():
    """moto's TransactWriteItems deep-copies every table it touches (once per action) to roll back a cancelled
    transaction: O(table) memory and time per commit, so a 10,000-step workflow's growing manifest table made each
    commit slower and moto's heap grew past 20 GB. The same rollback, by item: the items the transaction names are
    saved before it runs and put back if it is cancelled (the backend lock below keeps other writers out meanwhile).
    Nothing AWS would refuse is accepted: the checks and errors are moto's own."""
    import copy

    import moto.dynamodb.models as models
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.table import Table

    class TablesByReference:  # moto's `copy` module, except that a Table is not copied
        def __getattr__(self, name):
            return getattr(copy, name)

        @staticmethod
        def deepcopy(value, memo=None):
            return value if isinstance(value, Table) else copy.deepcopy(value, memo)

    models.copy = TablesByReference()
    original = models.DynamoDBBackend.transact_write_items

    def transact_write_items(self, transact_items):
        saved = []
        for action in transact_items if isinstance(transact_items, list) else []:
            _, op = next(iter(action.items()), (None, {}))
            table = self.tables.get((op or {}).get("TableName"))
            if table is None:
                continue
            attrs = op.get("Key") or op.get("Item") or {}
            if table.hash_key_attr not in attrs or (table.range_key_attr and table.range_key_attr not in attrs):
                continue  # moto refuses it below, before anything is written
            hash_key = DynamoType(attrs[table.hash_key_attr])
            range_key = DynamoType(attrs[table.range_key_attr]) if table.range_key_attr else None
            saved.append((table, hash_key, range_key, copy.deepcopy(table.get_item(hash_key, range_key))))
        try:
            return original(self, transact_items)
        except Exception:
            for table, hash_key, range_key, before in reversed(saved):
                table.delete_item(hash_key, range_key)
                if before is not None:
                    table.put_item(before.to_json()["Attributes"])
            raise

    models.DynamoDBBackend.transact_write_items = functools.wraps(original)(transact_write_items)


def _isolated_dynamodb_writes():
    """moto's TransactWriteItems deep-copies the table for its rollback while other request threads write to it:
    under concurrent writers it fails with `RuntimeError: dictionary changed size during iteration` (HTTP 500).
    DynamoDB isolates transactions from other requests; here every item operation on the backend (reads too: a
    scan racing a transaction's copy failed the same way) takes one lock."""
    from moto.dynamodb.models import DynamoDBBackend

    lock = threading.RLock()
    for name in ("put_item", "update_item", "delete_item", "transact_write_items", "get_item", "query", "scan"):
        original = getattr(DynamoDBBackend, name)

        def locked(self, *args, __original=original, **kwargs):
            with lock:
                return __original(self, *args, **kwargs)

        setattr(DynamoDBBackend, name, functools.wraps(original)(locked))


_RECORDS = {}
_RECORDS_LOCK = threading.Lock()
