"""function.json validation, function-name resolution, ASL rendering and packaging (no stack needed)."""

import json
import os
import subprocess
import zipfile

import asl
import functions
import package
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GOOD = {"name": "f", "memorySize": 256, "timeout": 30,
        "environment": {"STATE_BUCKET": {"description": "state bucket", "required": True}}}


def write(tmp_path, data, name="f"):
    d = tmp_path / name
    d.mkdir()
    (d / "function.json").write_text(json.dumps(data) if not isinstance(data, str) else data)
    return tmp_path


def test_a_deployed_function_takes_its_settings_from_the_template_only(tmp_path):
    fn = functions.load_dir(write(tmp_path, {"name": "segment-runner", "environment": {}}, name="segment-runner"))["segment-runner"]
    assert (fn.memory, fn.timeout, fn.log_format) == (1024, 300, "JSON")  # Deploy/template.yaml's SegmentRunner
    with pytest.raises(functions.FunctionDefinitionError, match=r"segment-runner/function.json: memorySize: set in Deploy/template.yaml"):
        (tmp_path / "again").mkdir()
        functions.load_dir(write(tmp_path / "again", {"name": "segment-runner", "memorySize": 512}, name="segment-runner"))


def test_a_valid_definition_loads_with_defaults(tmp_path):
    fn = functions.load_dir(write(tmp_path, {**GOOD, "environment": {
        "LOG_LEVEL": {"description": "level", "default": "DEBUG"}}}))["f"]
    assert (fn.executable, fn.runtime, fn.memory, fn.timeout) == ("f", "provided.al2023", 256, 30)
    assert fn.defaults() == {"LOG_LEVEL": "DEBUG"}


@pytest.mark.parametrize("change, field", [
    ({"name": "g"}, "name"),
    ({"memorySize": 64}, "memorySize"),
    ({"timeout": 901}, "timeout"),
    ({"timeout": "30"}, "timeout"),
    ({"runtime": "python3.12"}, "runtime"),
    ({"architectures": ["x86_64", "arm64"]}, "architectures"),
    ({"colour": "blue"}, "colour"),
    ({"environment": {"aws_region": {"description": "x"}}}, "environment.aws_region"),
    ({"environment": {"AWS_REGION": {"description": "x"}}}, "environment.AWS_REGION"),
    ({"environment": {"X": {"description": "x", "default": 3}}}, "environment.X.default"),
    ({"environment": {"X": {"required": True}}}, "environment.X"),
    ({"local": {"maxInstances": 0}}, "local.maxInstances"),
])
def test_a_bad_definition_names_the_file_and_field(tmp_path, change, field):
    with pytest.raises(functions.FunctionDefinitionError) as e:
        functions.load_dir(write(tmp_path, {**GOOD, **change}))
    assert f"function.json: {field}:" in str(e.value)


def test_malformed_json_is_reported_with_its_path(tmp_path):
    with pytest.raises(functions.FunctionDefinitionError, match=r"f/function.json: not valid JSON"):
        functions.load_dir(write(tmp_path, "{not json"))


def test_every_committed_definition_is_valid():
    for d in ("Functions", os.path.join("Tests", "Functions")):
        functions.load_dir(os.path.join(ROOT, d))


@pytest.mark.parametrize("identifier", [
    "probe", "probe:$LATEST", "123456789012:function:probe", "arn:aws:lambda:eu-west-1:1:function:probe:live"])
def test_function_names_resolve_from_names_and_arns(identifier):
    assert functions.name_from_identifier(identifier) == "probe"


def test_asl_placeholders_are_all_substituted_or_named():
    assert json.loads(asl.render('{"A": "${X}"}', {"X": "arn:1"})) == {"A": "arn:1"}
    with pytest.raises(asl.UnresolvedPlaceholder, match=r"\$\{Y\}"):
        asl.render('{"A": "${X}", "B": "${Y}"}', {"X": "1"})


def test_package_puts_an_executable_static_bootstrap_at_the_zip_root(tmp_path):
    bin_dir = os.environ.get("ANALEMMA_BIN_DIR", os.path.join(ROOT, ".build", "release"))
    target = package.package("probe", "probe", bin_dir, str(tmp_path))
    with zipfile.ZipFile(target) as z:
        assert z.namelist() == ["bootstrap"]
        info = z.getinfo("bootstrap")
        assert (info.external_attr >> 16) & 0o777 == 0o755
        z.extractall(tmp_path / "unzipped")
    bootstrap = tmp_path / "unzipped" / "bootstrap"
    os.chmod(bootstrap, 0o755)
    assert package.is_static(str(bootstrap))
    run = subprocess.run([str(bootstrap)], env={}, capture_output=True, text=True, timeout=10)
    assert run.returncode == 1
    assert "AWS_LAMBDA_RUNTIME_API is not set" in run.stdout


def test_package_refuses_a_dynamically_linked_binary(tmp_path):
    with pytest.raises(SystemExit, match="dynamically linked"):
        package.package("python", os.path.basename(os.path.realpath("/usr/bin/python3")),
                        os.path.dirname(os.path.realpath("/usr/bin/python3")), str(tmp_path))


def test_example_workflows_match_the_published_schema():
    import glob
    import jsonschema
    root = os.path.join(ROOT, "Deploy", "examples", "workflows")
    with open(os.path.join(root, "workflow.schema.json")) as f:
        schema = json.load(f)
    jsonschema.Draft202012Validator.check_schema(schema)
    examples = [p for p in glob.glob(os.path.join(root, "*.json")) if not p.endswith("schema.json")]
    assert len(examples) >= 4
    for path in examples:
        with open(path) as f:
            jsonschema.validate(json.load(f), schema)
    with open(examples[0]) as f:
        typo = json.load(f)
    typo["edgs"] = typo.pop("edges")
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(typo, schema)
