"""Every route has its function crate, its OpenAPI operation and fixtures, and the other way round."""

import json


def functions(template):
    """Logical id → (binary, resource) for every function of the template."""
    return {
        logical: (resource["Metadata"]["BuildProperties"]["Binary"], resource)
        for logical, resource in template["Resources"].items()
        if resource["Type"] == "AWS::Serverless::Function"
    }


def routes(template):
    """(METHOD, path) → binary, from the functions' HttpApi events."""
    found = {}
    for binary, resource in functions(template).values():
        for event in resource["Properties"].get("Events", {}).values():
            if event["Type"] == "HttpApi":
                key = (event["Properties"]["Method"].upper(), event["Properties"]["Path"])
                assert key not in found, f"{key} is routed twice"
                found[key] = binary
    return found


def operations(openapi):
    return {(method.upper(), path) for path, item in openapi["paths"].items() for method in item}


def test_every_function_of_the_template_is_a_crate_and_every_crate_a_function(template, root):
    binaries = {binary for binary, _ in functions(template).values()}
    crates = {path.name for path in (root / "functions").iterdir() if (path / "Cargo.toml").exists()}
    assert binaries == crates


def test_every_route_is_an_openapi_operation_and_the_other_way_round(template, openapi):
    assert set(routes(template)) == operations(openapi)


def test_every_route_sits_behind_the_jwt_authorizer(template):
    api = template["Resources"]["HttpApi"]["Properties"]
    assert api["Auth"]["DefaultAuthorizer"] == "CognitoJwt"
    jwt = api["Auth"]["Authorizers"]["CognitoJwt"]["JwtConfiguration"]
    assert jwt["audience"] == [{"Ref": "UserPoolClient"}]
    assert "UserPool" in json.dumps(jwt["issuer"])
    for binary, resource in functions(template).values():
        for event in resource["Properties"].get("Events", {}).values():
            if event["Type"] != "HttpApi":
                continue
            assert event["Properties"]["ApiId"] == {"Ref": "HttpApi"}, binary
            assert "Auth" not in event["Properties"], f"{binary} must not override the authorizer"


def test_every_function_has_fixtures_and_every_fixture_folder_a_function(template, root):
    binaries = {binary for binary, _ in functions(template).values()}
    folders = {path.name for path in (root / "events").iterdir() if path.is_dir()}
    assert folders == binaries
    for binary in binaries:
        assert list((root / "events" / binary).glob("*.json")), f"events/{binary}/ has no fixture"


def test_every_http_fixture_targets_one_of_its_functions_routes(template, root):
    by_binary = {}
    for (method, path), binary in routes(template).items():
        by_binary.setdefault(binary, set()).add((method, path))
    for binary, routes_of in by_binary.items():
        keys = {f"{method} {path}" for method, path in routes_of}
        for fixture in (root / "events" / binary).glob("*.json"):
            event = json.loads(fixture.read_text())
            assert event["version"] == "2.0", fixture
            assert event["routeKey"] in keys, fixture
            assert event["routeKey"].startswith(event["requestContext"]["http"]["method"] + " "), fixture
        seen = {json.loads(f.read_text())["routeKey"] for f in (root / "events" / binary).glob("*.json")}
        assert seen == keys, f"{binary}: routes without a fixture: {keys - seen}"


def test_the_trigger_function_has_cognito_fixtures_and_wiring(template, root):
    pool = template["Resources"]["UserPool"]["Properties"]["LambdaConfig"]
    assert pool["PostConfirmation"] == {"Fn::GetAtt": ["MemberVerifiedFunction", "Arn"]}
    assert pool["PostAuthentication"] == {"Fn::GetAtt": ["MemberVerifiedFunction", "Arn"]}
    for fixture in (root / "events/member-verified").glob("*.json"):
        event = json.loads(fixture.read_text())
        assert event["triggerSource"].split("_")[0] in {"PostConfirmation", "PostAuthentication"}, fixture



def test_no_code_that_runs_on_aws_uses_the_fakes(root):
    """`shared::fakes` is compiled in every build (shared/src/lib.rs says why), for the tests
    alone: no function's code, nor the shared code beside it, names a path into it."""
    sources = [*root.glob("functions/*/src/**/*.rs"), *root.glob("shared/src/**/*.rs")]
    assert len(sources) > 20
    users = [
        f"{path.relative_to(root)}:{number}"
        for path in sources if not path.is_relative_to(root / "shared/src/fakes")
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if "fakes::" in line.split("//")[0]
    ]
    assert users == []


def test_every_executable_is_built_without_a_test_harness_and_holds_no_test(root):
    """Each executable (a function's `main.rs`, the tools under `src/bin/`) says `test = false`,
    so that `cargo build --all-targets` does not compile and link a second, test-harness copy
    of it (docs/builds.md): then no test may live in one, where nothing would run it."""
    import tomllib

    manifests = [*root.glob("functions/*/Cargo.toml"), root / "local/Cargo.toml", root / "tests/Cargo.toml",
                 *root.glob("tests/bench/*/Cargo.toml")]
    missing, tests_inside = [], []
    for manifest in manifests:
        package = tomllib.loads(manifest.read_text())
        declared = {b["name"]: b for b in package.get("bin", [])}
        sources = {}
        if (manifest.parent / "src/main.rs").exists():
            sources[package["package"]["name"]] = manifest.parent / "src/main.rs"
        for source in (manifest.parent / "src/bin").glob("*.rs"):
            sources[source.stem] = source
        for name, source in sources.items():
            if declared.get(name, {}).get("test", True):
                missing.append(f"{manifest.relative_to(root)}: {name}")
            if "#[test]" in source.read_text() or "#[cfg(test)]" in source.read_text():
                tests_inside.append(str(source.relative_to(root)))
    assert len(manifests) > 15
    assert missing == [], "executables built with a test harness"
    assert tests_inside == [], "tests in an executable, where test = false leaves them unrun"
