"""What a real deploy needs beyond the functions: data that survives the stack, delivery
that can be configured, an API that leaves traces and bounds spending, short-lived admin
rights, and parameters an operator cannot get wrong silently."""

import re
import tomllib

import pytest

DATA = ["UserPool", "MembersTable", "ContactsTable", "AuditTable"]


@pytest.mark.parametrize("logical", DATA + ["UserPoolSmsRole"])
def test_where_data_lives_survives_delete_and_replacement(template, logical):
    resource = template["Resources"][logical]
    assert resource.get("DeletionPolicy") == "Retain", logical
    assert resource.get("UpdateReplacePolicy") == "Retain", logical


def test_the_pool_and_the_tables_refuse_deletion(template):
    resources = template["Resources"]
    assert resources["UserPool"]["Properties"]["DeletionProtection"] == "ACTIVE"
    for table in ["MembersTable", "ContactsTable", "AuditTable"]:
        assert resources[table]["Properties"]["DeletionProtectionEnabled"] is True, table


def test_invitation_email_can_go_through_ses(template):
    parameters = template["Parameters"]
    assert parameters["SesEmailIdentityArn"]["Default"] == ""
    pattern = re.compile(parameters["SesEmailIdentityArn"]["AllowedPattern"])
    assert pattern.fullmatch("")
    assert pattern.fullmatch("arn:aws:ses:eu-west-1:123456789012:identity/example.com")
    assert not pattern.fullmatch("example.com")
    email = template["Resources"]["UserPool"]["Properties"]["EmailConfiguration"]
    with_ses, without = email["Fn::If"][1:]
    assert email["Fn::If"][0] == "UseSes"
    assert with_ses["EmailSendingAccount"] == "DEVELOPER"
    assert with_ses["SourceArn"] == {"Ref": "SesEmailIdentityArn"}
    assert without == {"EmailSendingAccount": "COGNITO_DEFAULT"}
    assert template["Conditions"]["UseSes"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "SesEmailIdentityArn"}, ""]}]}


def test_the_api_logs_every_request_with_why_it_was_refused(template, expanded):
    settings = template["Resources"]["HttpApi"]["Properties"]["AccessLogSettings"]
    assert settings["DestinationArn"] == {"Fn::GetAtt": ["ApiAccessLogs", "Arn"]}
    for variable in ["$context.requestId", "$context.status", "$context.routeKey",
                     "$context.authorizer.error", "$context.integrationErrorMessage"]:
        assert variable in settings["Format"], variable
    logs = template["Resources"]["ApiAccessLogs"]["Properties"]
    assert logs["RetentionInDays"] == {"Ref": "LogRetentionDays"}
    stage = next(r for r in expanded["Resources"].values() if r["Type"] == "AWS::ApiGatewayV2::Stage")
    assert stage["Properties"]["AccessLogSettings"]["DestinationArn"] == {"Fn::GetAtt": ["ApiAccessLogs", "Arn"]}


def test_the_api_is_throttled_and_paid_messages_more_so(template, expanded):
    api = template["Resources"]["HttpApi"]["Properties"]
    assert api["DefaultRouteSettings"] == {
        "ThrottlingRateLimit": {"Ref": "ApiRateLimit"},
        "ThrottlingBurstLimit": {"Ref": "ApiBurstLimit"},
    }
    routes = {
        (event["Properties"]["Method"], event["Properties"]["Path"])
        for resource in template["Resources"].values() if resource["Type"] == "AWS::Serverless::Function"
        for event in resource["Properties"].get("Events", {}).values() if event["Type"] == "HttpApi"
    }
    for route in ["POST /invitations", "POST /invitations/{userId}/resend"]:
        assert tuple(route.split(" ")) in routes, f"{route} is a route of the template"
        assert api["RouteSettings"][route]["ThrottlingRateLimit"] == {"Ref": "InvitationsPerSecond"}
        assert api["RouteSettings"][route]["ThrottlingBurstLimit"] <= 10
    stage = next(r for r in expanded["Resources"].values() if r["Type"] == "AWS::ApiGatewayV2::Stage")
    assert "POST /invitations" in stage["Properties"]["RouteSettings"]
    assert stage["Properties"]["DefaultRouteSettings"]["ThrottlingRateLimit"] == {"Ref": "ApiRateLimit"}


def test_admin_rights_in_a_token_last_minutes_not_an_hour(template):
    client = template["Resources"]["UserPoolClient"]["Properties"]
    assert client["TokenValidityUnits"]["IdToken"] == "minutes"
    assert 5 <= client["IdTokenValidity"] <= 15
    assert client["TokenValidityUnits"]["AccessToken"] == "minutes"
    assert client["AccessTokenValidity"] <= 15
    assert client["EnableTokenRevocation"] is True


def test_the_console_origin_must_be_chosen_and_be_an_origin(template, root):
    parameter = template["Parameters"]["ConsoleOrigin"]
    assert "Default" not in parameter, "a placeholder origin makes every browser call fail CORS"
    pattern = re.compile(parameter["AllowedPattern"])
    for good in ["https://console.example.com", "http://127.0.0.1:8080", "https://admin.example.co.uk:8443",
                 "http://localhost:3000", "http://localhost"]:
        assert pattern.fullmatch(good), good
    for bad in ["https://console.example.com/", "console.example.com", "https://x.example.com/app",
                "*", "https://", "ftp://example.com", "https://example.com:8443/",
                "http://console.example.com", "http://10.0.0.5:8080", "http://127.0.0.2", "http://localhost.example.com"]:
        assert not pattern.fullmatch(bad), bad
    config = tomllib.loads((root / "infra/samconfig.toml").read_text())
    overrides = config["default"]["deploy"]["parameters"].get("parameter_overrides", "")
    assert "ConsoleOrigin" not in overrides


def test_the_stack_tells_bootstrap_admin_where_everything_is(template):
    outputs = template["Outputs"]
    for name, ref in [("UserPoolId", "UserPool"), ("MembersTableName", "MembersTable"),
                      ("AuditTableName", "AuditTable"), ("ContactsTableName", "ContactsTable"),
                      ("IdempotencyTableName", "IdempotencyTable"), ("SearchTableName", "SearchTable"), ("JobsTableName", "JobsTable"), ("QuotasTableName", "QuotasTable"), ("OrgsTableName", "OrgsTable"),
                      ("AdminGroupName", "AdminGroupName")]:
        assert outputs[name]["Value"] == {"Ref": ref}, name
