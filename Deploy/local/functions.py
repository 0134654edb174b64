"""Function definitions: `Functions/<name>/function.json` (schema in Deploy/FUNCTIONS.md), loaded and validated.

A function the template deploys takes its settings (memory, timeout, runtime, architecture, log format, …) from
Deploy/template.yaml, the one source: its function.json holds only what the template cannot say (the executable,
the variables the binary reads and their local defaults, `local`), and setting a template setting there is an error.
Functions the template does not know (test-only ones) declare their settings in function.json.
"""

import json
import os

import template

RUNTIMES = ("provided.al2023", "provided.al2")
ARCHITECTURES = ("x86_64", "arm64")
LOG_FORMATS = ("Text", "JSON")
LOG_LEVELS = ("TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL")
TOP_LEVEL = {
    "name", "description", "executable", "runtime", "architectures", "memorySize", "timeout",
    "ephemeralStorage", "reservedConcurrency", "logFormat", "logLevel", "environment", "local",
}


# function.json field -> the AWS::Lambda::Function property it comes from, for functions in the template.
FROM_TEMPLATE = {
    "description": ("Description",), "runtime": ("Runtime",), "architectures": ("Architectures",),
    "memorySize": ("MemorySize",), "timeout": ("Timeout",), "ephemeralStorage": ("EphemeralStorage", "Size"),
    "reservedConcurrency": ("ReservedConcurrentExecutions",), "logFormat": ("LoggingConfig", "LogFormat"),
    "logLevel": ("LoggingConfig", "ApplicationLogLevel"),
}


def template_settings(name, doc=None):
    """The settings the template gives function `name` (function.json's field names), or None when it has none."""
    doc = doc or template.load_cached()
    for logical, res in template.resources(doc, "AWS::Lambda::Function").items():
        if template.LOCAL_NAMES.get(logical) != name:
            continue
        out = {}
        for field, path in FROM_TEMPLATE.items():
            value = res.get("Properties", {})
            for key in path:
                value = value.get(key) if isinstance(value, dict) else None
            if isinstance(value, dict) and "Ref" in value:  # a parameter: its default
                value = doc.get("Parameters", {}).get(value["Ref"], {}).get("Default")
            if value is not None:
                out[field] = value
        return out
    return None


class FunctionDefinitionError(ValueError):
    """A function.json that does not follow the schema; the message names the file and the field."""


class FunctionDef:
    def __init__(self, path, data):
        self.path = path
        self.name = data["name"]
        self.executable = data.get("executable", self.name)
        self.memory = data["memorySize"]
        self.timeout = data["timeout"]
        self.runtime = data.get("runtime", "provided.al2023")
        self.log_format = data.get("logFormat", "Text")
        self.log_level = data.get("logLevel")
        self.environment = data.get("environment", {})
        local = data.get("local", {})
        self.max_instances = local.get("maxInstances")
        self.concurrency = local.get("concurrency")
        self.local_environment = local.get("environment", {})
        self.local_sqs = local.get("sqs")

    def defaults(self):
        """Environment variables with a default value in the definition."""
        return {k: spec["default"] for k, spec in self.environment.items() if "default" in spec}

    def to_json(self):
        return {"name": self.name, "executable": self.executable, "memorySize": self.memory, "timeout": self.timeout,
                "runtime": self.runtime, "maxInstances": self.max_instances,
                "concurrency": self.concurrency}


def _fail(path, field, problem):
    raise FunctionDefinitionError(f"{path}: {field}: {problem}")


def validate(path, data, dir_name):
    if not isinstance(data, dict):
        _fail(path, "(root)", "must be a JSON object")
    unknown = sorted(set(data) - TOP_LEVEL)
    if unknown:
        _fail(path, unknown[0], f"unknown field (allowed: {', '.join(sorted(TOP_LEVEL))})")
    if data.get("name") != dir_name:
        _fail(path, "name", f"must equal the folder name {dir_name!r}, found {data.get('name')!r}")

    def integer(field, lo, hi, required=True, container=data, label=None):
        label = label or field
        if field not in container:
            if required:
                _fail(path, label, "is required")
            return
        v = container[field]
        if not isinstance(v, int) or isinstance(v, bool) or not lo <= v <= hi:
            _fail(path, label, f"must be an integer from {lo} to {hi}, found {v!r}")

    integer("memorySize", 128, 10240)
    integer("timeout", 1, 900)
    integer("ephemeralStorage", 512, 10240, required=False)
    integer("reservedConcurrency", 0, 1000, required=False)
    if data.get("runtime", "provided.al2023") not in RUNTIMES:
        _fail(path, "runtime", f"must be one of {RUNTIMES}, found {data.get('runtime')!r}")
    archs = data.get("architectures", ["x86_64"])
    if not (isinstance(archs, list) and len(archs) == 1 and archs[0] in ARCHITECTURES):
        _fail(path, "architectures", f"must be a one-element list of {ARCHITECTURES}, found {archs!r}")
    if data.get("logFormat", "Text") not in LOG_FORMATS:
        _fail(path, "logFormat", f"must be one of {LOG_FORMATS}")
    if "logLevel" in data and data["logLevel"] not in LOG_LEVELS:
        _fail(path, "logLevel", f"must be one of {LOG_LEVELS}")
    exe = data.get("executable", dir_name)
    if not isinstance(exe, str) or not exe or "/" in exe:
        _fail(path, "executable", f"must be a product name, found {exe!r}")
    env = data.get("environment", {})
    if not isinstance(env, dict):
        _fail(path, "environment", "must be an object of VARIABLE_NAME -> {description, required, default}")
    for key, spec in env.items():
        field = f"environment.{key}"
        if not key.replace("_", "A").isalnum() or not key[0].isalpha() or key.upper() != key:
            _fail(path, field, "variable names are upper-case letters, digits and underscores")
        if key.startswith("AWS_") or key.startswith("LAMBDA_") or key.startswith("_"):
            _fail(path, field, "names reserved by Lambda cannot be set")
        if not isinstance(spec, dict) or not isinstance(spec.get("description"), str):
            _fail(path, field, "must be an object with a description string")
        extra = sorted(set(spec) - {"description", "required", "default"})
        if extra:
            _fail(path, f"{field}.{extra[0]}", "unknown field (allowed: description, required, default)")
        if "default" in spec and not isinstance(spec["default"], str):
            _fail(path, f"{field}.default", "must be a string")
        if not isinstance(spec.get("required", False), bool):
            _fail(path, f"{field}.required", "must be true or false")
    local = data.get("local", {})
    if not isinstance(local, dict) or sorted(set(local) - {"maxInstances", "concurrency", "environment", "sqs"}):
        _fail(path, "local", "may hold only maxInstances, concurrency, environment and sqs")
    sqs = local.get("sqs")
    if sqs is not None:
        if not isinstance(sqs, dict) or not isinstance(sqs.get("queue"), str) or sorted(set(sqs) - {"queue", "batchSize", "visibilityTimeout"}):
            _fail(path, "local.sqs", "must be {queue, batchSize?, visibilityTimeout?}")
        integer("batchSize", 1, 10, required=False, container=sqs, label="local.sqs.batchSize")
        integer("visibilityTimeout", 1, 43200, required=False, container=sqs, label="local.sqs.visibilityTimeout")
    integer("maxInstances", 1, 64, required=False, container=local, label="local.maxInstances")
    integer("concurrency", 1, 1000, required=False, container=local, label="local.concurrency")
    if not all(isinstance(v, str) for v in local.get("environment", {}).values()):
        _fail(path, "local.environment", "values must be strings")


def load_dir(directory):
    """All definitions under `directory` (each subfolder with a function.json)."""
    found = {}
    if not os.path.isdir(directory):
        return found
    for entry in sorted(os.listdir(directory)):
        path = os.path.join(directory, entry, "function.json")
        if not os.path.isfile(path):
            continue
        try:
            with open(path) as f:
                data = json.load(f)
        except json.JSONDecodeError as e:
            raise FunctionDefinitionError(f"{path}: not valid JSON: {e}") from e
        settings = template_settings(entry)
        if settings is not None:
            clash = sorted(set(data) & set(FROM_TEMPLATE))
            if clash:
                _fail(path, clash[0], "set in Deploy/template.yaml (the one source of a deployed function's settings)")
            data = {**settings, **data}
        validate(path, data, entry)
        found[entry] = FunctionDef(path, data)
    return found


def name_from_identifier(identifier):
    """Function name from a name, a full or partial ARN, with or without qualifier.

    `probe`, `probe:$LATEST`, `arn:aws:lambda:eu-west-1:111122223333:function:probe:live`,
    `111122223333:function:probe` all name `probe`.
    """
    parts = identifier.split(":")
    if "function" in parts:
        i = parts.index("function")
        if i + 1 < len(parts):
            return parts[i + 1]
    return parts[0]
