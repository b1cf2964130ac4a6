"""Every response the Rust tests saw is one infra/openapi.yaml documents, and fits its schema."""

import json

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

ROOT_URI = "urn:openapi"


def resolve(openapi, node):
    while "$ref" in node:
        path = node["$ref"].removeprefix("#/").split("/")
        node = openapi
        for part in path:
            node = node[part]
    return node


@pytest.fixture(scope="module")
def registry(openapi):
    return Registry().with_resource(ROOT_URI, Resource.from_contents(openapi, default_specification=DRAFT202012))


def validator(openapi, registry, schema):
    rooted = json.loads(json.dumps(schema).replace('"#/', f'"{ROOT_URI}#/'))
    return Draft202012Validator(rooted, registry=registry, format_checker=Draft202012Validator.FORMAT_CHECKER)


def test_the_document_is_valid_openapi_3_1(openapi):
    from openapi_spec_validator import validate

    assert openapi["openapi"].startswith("3.1")
    validate(openapi)


def test_every_operation_was_exercised(openapi, responses):
    seen = {(r["method"], r["route"]) for r in responses}
    documented = {(m.upper(), p) for p, item in openapi["paths"].items() for m in item}
    assert documented <= seen, f"never exercised: {documented - seen}"


def test_every_response_is_documented_and_valid(openapi, registry, responses):
    checked = set()
    for record in responses:
        operation = openapi["paths"][record["route"]][record["method"].lower()]
        status = str(record["status"])
        assert status in operation["responses"], f"{record['method']} {record['route']} answered {status}, undocumented"
        documented = resolve(openapi, operation["responses"][status])
        content = documented.get("content")
        if content is None:
            assert record["body"] == "", f"{status} must have no body"
            continue
        # A status may have two senders (a 401 from API Gateway or from the function): the
        # response's content type picks its schema, and it must be one documented.
        media_type = record["headers"].get("content-type")
        assert media_type in content, f"{record['method']} {record['route']} {status}: {media_type} undocumented"
        spec = content[media_type]
        body = json.loads(record["body"])
        errors = sorted(validator(openapi, registry, spec["schema"]).iter_errors(body), key=str)
        assert not errors, f"{record['method']} {record['route']} {status}: {errors[0].message}"
        for header, definition in documented.get("headers", {}).items():
            # Documented headers are checked unless marked optional (API Gateway's own).
            if definition.get("required", True):
                assert header.lower() in record["headers"], f"{status} must carry {header}"
        if media_type == "application/problem+json":
            assert body["status"] == record["status"]
        checked.add((record["method"], record["route"], status))
    assert len(checked) >= 20, f"only {len(checked)} kinds of response were checked"
