"""Shared fixtures for the checks that hold infra/, functions/, events/ and the tests together."""

import json
import os
from pathlib import Path

# The SAM transform asks boto for a region; the checks need no account, only a name.
os.environ.setdefault("AWS_DEFAULT_REGION", "eu-west-1")

import pytest
import yaml
from cfnlint.decode import cfn_yaml
from samtranslator.translator.transform import transform

ROOT = Path(__file__).resolve().parents[2]


class NoManagedPolicies:
    """The template names no AWS managed policy, so nothing needs looking up."""

    def load(self):
        return {}


@pytest.fixture(scope="session")
def root():
    return ROOT


@pytest.fixture(scope="session")
def template():
    return json.loads(json.dumps(cfn_yaml.load(str(ROOT / "infra/template.yaml"))))


@pytest.fixture(scope="session")
def expanded(template):
    """The template after the SAM transform, as CloudFormation will see it."""
    parameters = {"AWS::Region": "eu-west-1", "AWS::AccountId": "123456789012", "AWS::Partition": "aws"}
    packaged = json.loads(json.dumps(template))
    for resource in packaged["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function":
            # What `sam build` + `sam deploy` put there: the uploaded artefact.
            resource["Properties"]["CodeUri"] = "s3://artifacts/members/function.zip"
    result = transform(packaged, parameters, NoManagedPolicies())
    out = ROOT / ".local/expanded-template.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2, default=str))
    return result


@pytest.fixture(scope="session")
def openapi():
    return yaml.safe_load((ROOT / "infra/openapi.yaml").read_text())


@pytest.fixture(scope="session")
def responses():
    path = Path(os.environ.get("MEMBERS_RESPONSE_LOG", ROOT / ".local/responses.jsonl"))
    if not path.exists():
        pytest.fail(f"{path} does not exist: run the Rust tests first (make test does)")
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


@pytest.fixture(scope="session")
def calls():
    """Every (function, IAM action, resource) the Rust tests saw a function need (tests/src/calls.rs)."""
    path = Path(os.environ.get("MEMBERS_CALL_LOG", ROOT / ".local/calls.jsonl"))
    if not path.exists():
        pytest.fail(f"{path} does not exist: run the Rust tests first (make test does)")
    lines = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return {(line["function"], line["action"], line["resource"]) for line in lines}


# The checks that read what the emulator tests recorded (every response, every AWS call) run
# in make test after them; the rest are static and run in make check.
RECORDED = {"responses", "calls"}


def pytest_configure(config):
    config.addinivalue_line("markers", "recorded: reads what the emulator tests recorded (make test only)")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if RECORDED & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.recorded)
