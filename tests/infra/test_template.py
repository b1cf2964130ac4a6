"""What the expanded template grants and keeps, asserted where CloudFormation reads it."""

import json
import re

from conftest import ROOT

# The functions, by logical id. What each may do is held to what it was seen doing in
# tests/infra/test_iam.py (the calls `make test` recorded), not to a list written here.
FUNCTIONS = {
    "CancelInvitationFunction",
    "InviteUserFunction",
    "ListMembersFunction",
    "MemberVerifiedFunction",
    "ResendInvitationFunction",
    "ListAuditLogFunction",
    "ReconcilerFunction",
    "DriftAuditFunction",
    "ChangeMemberRoleFunction",
    "SuspendMemberFunction",
    "ReactivateMemberFunction",
    "RemoveMemberFunction",
    "PublishEventsFunction",
    "ExportAuditLogFunction",
}

# The managed policy SAM gives every function: CloudWatch Logs only.
BASIC_EXECUTION = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"


def resource_name(resource):
    """`{"Fn::GetAtt": ["X", "Arn"]}` → X; `{"Fn::Sub": "${X.Arn}/index/i"}` → X/index/i."""
    if isinstance(resource, dict) and "Fn::GetAtt" in resource:
        logical, attribute = resource["Fn::GetAtt"]
        assert attribute == "Arn"
        return logical
    if isinstance(resource, dict) and "Fn::Sub" in resource and isinstance(resource["Fn::Sub"], str):
        text = resource["Fn::Sub"]
        # A function named by the stack (export-audit-log invoking itself): its logical id.
        if ":function:${AWS::StackName}-" in text:
            name = text.rsplit("${AWS::StackName}-", 1)[1]
            return "".join(word.capitalize() for word in name.split("-")) + "Function"
        assert text.startswith("${") and ".Arn}" in text, text
        return text[2:].replace(".Arn}", "")
    raise AssertionError(f"resource {resource!r} is not a named resource of the template")


def grants(expanded, function):
    role = expanded["Resources"][f"{function}Role"]["Properties"]
    assert role["ManagedPolicyArns"] == [BASIC_EXECUTION], function
    found = set()
    for policy in role.get("Policies", []):
        for statement in policy["PolicyDocument"]["Statement"]:
            assert statement["Effect"] == "Allow"
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            for action in actions:
                assert "*" not in action, f"{function}: wildcard action {action}"
                for resource in resources:
                    assert resource != "*", f"{function}: {action} on every resource"
                    found.add((action, resource_name(resource)))
    return found


def test_every_function_has_a_role_of_named_actions_on_named_resources(expanded):
    functions = {k for k, v in expanded["Resources"].items() if v["Type"] == "AWS::Lambda::Function"}
    assert functions == FUNCTIONS
    for function in FUNCTIONS:
        assert grants(expanded, function), function


def test_no_role_may_change_or_delete_an_audit_item(expanded):
    for logical, resource in expanded["Resources"].items():
        if resource["Type"] != "AWS::IAM::Role":
            continue
        for policy in resource["Properties"].get("Policies", []):
            for statement in policy["PolicyDocument"]["Statement"]:
                text = json.dumps(statement)
                if "AuditTable" in text or statement.get("Resource") == "*":
                    actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
                    for action in actions:
                        # Reads, appends, and the stream's reads (publish-events' mapping).
                        assert action in {
                            "dynamodb:GetItem",
                            "dynamodb:PutItem",
                            "dynamodb:Query",
                            "sns:Publish",
                            "dynamodb:DescribeStream",
                            "dynamodb:GetRecords",
                            "dynamodb:GetShardIterator",
                            "dynamodb:ListStreams",
                        }, (logical, action)


def test_functions_are_arm64_al2023_with_logs_kept(expanded, template):
    for logical in FUNCTIONS:
        function = expanded["Resources"][logical]["Properties"]
        assert function["Runtime"] == "provided.al2023"
        assert function["Architectures"] == ["arm64"]
        assert function["Handler"] == "bootstrap"
        assert 128 <= function["MemorySize"] <= 1024
        if logical == "MemberVerifiedFunction":
            assert function["Timeout"] <= 5, "Cognito waits five seconds for a trigger"
        elif logical not in ("ReconcilerFunction", "DriftAuditFunction", "PublishEventsFunction", "ExportAuditLogFunction"):
            assert function["Timeout"] == {"Ref": "FunctionTimeoutSeconds"}
        group = function["LoggingConfig"]["LogGroup"]["Ref"]
        assert template["Resources"][group]["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}
        source = template["Resources"][logical]
        assert source["Metadata"]["BuildMethod"] == "rust-cargolambda"


def test_tables_are_on_demand_recoverable_and_the_audit_is_retained(template):
    tables = {k: v for k, v in template["Resources"].items() if v["Type"] == "AWS::DynamoDB::Table"}
    assert set(tables) == {"MembersTable", "AuditTable", "ContactsTable", "IdempotencyTable", "SearchTable", "JobsTable", "QuotasTable", "OrgsTable", "ExportsTable"}
    for name, table in tables.items():
        assert table["Properties"]["BillingMode"] == "PAY_PER_REQUEST", name
        assert table["Properties"]["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True, name
    assert tables["AuditTable"]["DeletionPolicy"] == "Retain"
    assert tables["AuditTable"]["UpdateReplacePolicy"] == "Retain"
    for expiring in ("IdempotencyTable", "QuotasTable", "ExportsTable"):
        ttl = tables[expiring]["Properties"]["TimeToLiveSpecification"]
        assert ttl == {"AttributeName": "expiresAt", "Enabled": True}, expiring


def test_the_organisation_is_readable_but_not_writable_by_the_console(template):
    client = template["Resources"]["UserPoolClient"]["Properties"]
    assert "custom:org_id" in client["ReadAttributes"]
    assert not any(a.startswith("custom:") for a in client["WriteAttributes"])
    # Nor anything the backend relies on: the Log's names, the contacts people are invited by.
    # (An empty list would mean "every standard attribute" to Cognito.)
    assert client["WriteAttributes"], "an empty list lets users write every standard attribute"
    for relied_on in ["name", "email", "phone_number", "email_verified", "phone_number_verified"]:
        assert relied_on not in client["WriteAttributes"], relied_on
    pool = template["Resources"]["UserPool"]["Properties"]
    org = next(a for a in pool["Schema"] if a["Name"] == "org_id")
    assert org["Mutable"] is False


def test_cognito_may_invoke_the_trigger_and_only_from_this_pool(template):
    permission = template["Resources"]["MemberVerifiedInvokedByCognito"]["Properties"]
    assert permission["Principal"] == "cognito-idp.amazonaws.com"
    assert permission["SourceArn"] == {"Fn::GetAtt": ["UserPool", "Arn"]}
    assert permission["FunctionName"] == {"Fn::GetAtt": ["MemberVerifiedFunction", "Arn"]}


def test_the_api_allows_the_consoles_origin_only(template):
    cors = template["Resources"]["HttpApi"]["Properties"]["CorsConfiguration"]
    assert cors["AllowOrigins"] == [{"Ref": "ConsoleOrigin"}]
    assert "idempotency-key" in cors["AllowHeaders"] and "authorization" in cors["AllowHeaders"]
    # retry-after for 429 and 409; www-authenticate: why API Gateway refused a token.
    assert cors["ExposeHeaders"] == ["retry-after", "www-authenticate"]


def test_the_sms_role_sends_sms_and_publishes_to_no_topic(template):
    statements = template["Resources"]["UserPoolSmsRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    allow = [s for s in statements if s["Effect"] == "Allow"]
    deny = [s for s in statements if s["Effect"] == "Deny"]
    assert [s["Action"] for s in allow] == ["sns:Publish"]
    assert any(s["Action"] == "sns:Publish" and s["Resource"] == {"Fn::Sub": "arn:${AWS::Partition}:sns:*:*:*"} for s in deny)


def test_the_sms_role_trusts_only_this_accounts_cognito_with_a_generated_external_id(template):
    pool = template["Resources"]["UserPool"]["Properties"]
    trust = template["Resources"]["UserPoolSmsRole"]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert len(trust) == 1 and trust[0]["Principal"] == {"Service": "cognito-idp.amazonaws.com"}
    condition = trust[0]["Condition"]
    # A secret Secrets Manager generates, not the stack's name: the same in the pool and the trust.
    secret = {"Fn::Sub": "{{resolve:secretsmanager:${UserPoolSmsExternalId}:SecretString}}"}
    assert condition["StringEquals"]["sts:ExternalId"] == secret
    assert pool["SmsConfiguration"]["ExternalId"] == secret
    generated = template["Resources"]["UserPoolSmsExternalId"]
    assert generated["Type"] == "AWS::SecretsManager::Secret"
    assert generated["Properties"]["GenerateSecretString"]["PasswordLength"] >= 32
    assert "SecretString" not in generated["Properties"], "generated, never written in the template"
    assert "AWS::StackName" not in json.dumps(condition)
    assert condition["StringEquals"]["aws:SourceAccount"] == {"Ref": "AWS::AccountId"}
    assert condition["ArnLike"]["aws:SourceArn"] == {
        "Fn::Sub": "arn:${AWS::Partition}:cognito-idp:${AWS::Region}:${AWS::AccountId}:userpool/*"
    }


def test_the_abuse_limits_reach_the_functions(template):
    variables = template["Globals"]["Function"]["Environment"]["Variables"]
    assert variables["INVITATIONS_PER_ORG_PER_HOUR"] == {"Ref": "InvitationsPerOrgPerHour"}
    assert variables["MESSAGES_PER_NUMBER_PER_DAY"] == {"Ref": "MessagesPerNumberPerDay"}
    assert variables["QUOTAS_TABLE"] == {"Ref": "QuotasTable"}
    parameters = template["Parameters"]
    assert parameters["InvitationsPerOrgPerHour"]["Default"] == 100
    assert parameters["MessagesPerNumberPerDay"]["Default"] == 5
    for name in ("InvitationsPerOrgPerHour", "MessagesPerNumberPerDay"):
        # The functions refuse to start outside 1..1000 (shared::quota::MAX_ALLOWED).
        assert (parameters[name]["MinValue"], parameters[name]["MaxValue"]) == (1, 1000), name


def test_reconciler_passes_and_drift_audits_never_overlap(template):
    # Two passes at once would each work from their own reads; one at a time, the schedule's
    # next firing waits (the reclaim's hold still guards a pass against a request at work).
    for logical in ("ReconcilerFunction", "DriftAuditFunction"):
        assert template["Resources"][logical]["Properties"]["ReservedConcurrentExecutions"] == 1, logical


def test_failed_repairs_malformed_records_and_drift_raise_alarms_on_the_functions_metrics(template):
    alarms = {
        (resource["Properties"]["Dimensions"][0]["Value"], resource["Properties"]["MetricName"]): resource["Properties"]
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::CloudWatch::Alarm" and resource["Properties"]["Namespace"] == "MembersApi"
    }
    # The names each function's metrics_line writes (through shared::telemetry::metrics_line,
    # which writes the namespace and the Function dimension).
    telemetry = (ROOT / "shared/src/telemetry.rs").read_text()
    assert '"Namespace": "MembersApi"' in telemetry and '"Dimensions": [["Function"]]' in telemetry
    wanted = {
        "reconciler": ("RepairFailures", "MalformedRecords"),
        "drift-audit": ("RepairFailures", "MalformedRecords", "ReportedDrift"),
    }
    for function, metrics in wanted.items():
        source = (ROOT / f"functions/{function}/src/lib.rs").read_text()
        assert re.search(rf'metrics_line\(\s*"{function}"', source), f"{function} names itself in its metrics"
        for metric in metrics:
            assert (function, metric) in alarms, f"no alarm on {function}'s {metric}"
            assert f'"{metric}"' in source, f"{function} does not emit {metric}"
            alarm = alarms[(function, metric)]
            assert alarm["Namespace"] == "MembersApi"
            assert alarm["Threshold"] == 0 and alarm["ComparisonOperator"] == "GreaterThanThreshold"


def test_pending_work_is_found_by_sparse_indexes_one_new_index_per_table(template):
    # The reconciler's whole input. CloudFormation adds at most one global index to a table
    # in one update: one each, so a stack from before them updates in place.
    resources = template["Resources"]
    members = resources["MembersTable"]["Properties"]["GlobalSecondaryIndexes"]
    contacts = resources["ContactsTable"]["Properties"]["GlobalSecondaryIndexes"]
    assert [i["IndexName"] for i in members] == ["byPendingSince"]
    assert [i["IndexName"] for i in contacts] == ["byReservedAt"]
    assert [k["AttributeName"] for k in members[0]["KeySchema"]] == ["pendingWork", "pendingSince"]
    assert [k["AttributeName"] for k in contacts[0]["KeySchema"]] == ["state", "reservedAt"]
    source = (ROOT / "shared/src/store/pending.rs").read_text()
    assert '"byPendingSince"' in source and '"byReservedAt"' in source


def test_a_drift_audit_pass_begins_daily_by_default_and_goes_on_hourly(template):
    function = template["Resources"]["DriftAuditFunction"]["Properties"]
    (event,) = function["Events"].values()
    assert event["Type"] == "ScheduleV2"
    assert event["Properties"]["ScheduleExpression"] == "rate(1 hour)"
    assert function["Environment"]["Variables"]["AUDIT_DRIFT_EVERY_HOURS"] == {"Ref": "AuditDriftEveryHours"}
    assert template["Parameters"]["AuditDriftEveryHours"]["Default"] == 24


def test_the_reconciler_runs_on_a_schedule_the_operator_sets(template):
    events = template["Resources"]["ReconcilerFunction"]["Properties"]["Events"]
    (event,) = events.values()
    assert event["Type"] == "ScheduleV2"
    assert event["Properties"]["ScheduleExpression"] == {"Fn::Sub": "rate(${ReconcileEveryMinutes} minutes)"}
    assert template["Parameters"]["ReconcileEveryMinutes"]["Default"] == 15


def test_the_lease_and_the_timeout_are_one_parameter(template):
    globals_ = template["Globals"]["Function"]
    assert globals_["Timeout"] == {"Ref": "FunctionTimeoutSeconds"}
    assert globals_["Environment"]["Variables"]["FUNCTION_TIMEOUT_SECONDS"] == {"Ref": "FunctionTimeoutSeconds"}


def test_expiry_and_the_pools_temporary_password_are_one_parameter(template):
    pool = template["Resources"]["UserPool"]["Properties"]
    assert pool["Policies"]["PasswordPolicy"]["TemporaryPasswordValidityDays"] == {"Ref": "InvitationValidityDays"}
    env = template["Globals"]["Function"]["Environment"]["Variables"]
    assert env["INVITATION_VALIDITY_DAYS"] == {"Ref": "InvitationValidityDays"}
    assert template["Parameters"]["InvitationValidityDays"]["Default"] == 7


def test_the_logs_filters_have_indexes_keyed_for_them(template, expanded):
    table = template["Resources"]["AuditTable"]["Properties"]
    indexes = {i["IndexName"]: i for i in table["GlobalSecondaryIndexes"]}
    keys = lambda index: [(k["AttributeName"], k["KeyType"]) for k in indexes[index]["KeySchema"]]
    assert keys("byTarget") == [("targetId", "HASH"), ("entryId", "RANGE")]
    assert keys("byAction") == [("orgAction", "HASH"), ("entryId", "RANGE")]
    # The Log's function may query them, and nothing more.
    role = next(r for k, r in expanded["Resources"].items() if k.startswith("ListAuditLogFunctionRole"))
    statements = [s for p in role["Properties"]["Policies"] for s in p["PolicyDocument"]["Statement"]]
    query = next(s for s in statements if s["Action"] == "dynamodb:Query")
    assert {"Fn::Sub": "${AuditTable.Arn}/index/byTarget"} in query["Resource"]
    assert {"Fn::Sub": "${AuditTable.Arn}/index/byAction"} in query["Resource"]


def test_audit_entries_leave_by_the_tables_ttl_after_the_retention_the_functions_read(template):
    audit = template["Resources"]["AuditTable"]["Properties"]
    assert audit["TimeToLiveSpecification"] == {"AttributeName": "expiresAt", "Enabled": True}
    variables = template["Globals"]["Function"]["Environment"]["Variables"]
    assert variables["AUDIT_RETENTION_DAYS"] == {"Ref": "AuditRetentionDays"}
    parameter = template["Parameters"]["AuditRetentionDays"]
    # shared::config refuses to start outside 0..3650 (0 keeps forever).
    assert (parameter["Default"], parameter["MinValue"], parameter["MaxValue"]) == (365, 0, 3650)


def test_every_audit_entry_reaches_the_bus_or_the_dead_letter_queue(template, expanded):
    resources = template["Resources"]
    assert resources["AuditTable"]["Properties"]["StreamSpecification"] == {"StreamViewType": "NEW_IMAGE"}
    mapping = resources["AuditStreamMapping"]["Properties"]
    assert mapping["EventSourceArn"] == {"Fn::GetAtt": ["AuditTable", "StreamArn"]}
    assert mapping["FunctionName"] == {"Ref": "PublishEventsFunction"}
    assert mapping["StartingPosition"] == "TRIM_HORIZON"
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["DestinationConfig"]["OnFailure"]["Destination"] == {"Fn::GetAtt": ["EventsDeadLetterQueue", "Arn"]}
    # local/src/streams.rs runs the stream with the same settings.
    streams = (ROOT / "local/src/streams.rs").read_text()
    assert f"pub const BATCH_SIZE: i32 = {mapping['BatchSize']};" in streams
    assert f"pub const MAXIMUM_RETRY_ATTEMPTS: usize = {mapping['MaximumRetryAttempts']};" in streams
    # The function's own variables name the bus and the queue.
    variables = resources["PublishEventsFunction"]["Properties"]["Environment"]["Variables"]
    assert variables == {"EVENT_BUS_NAME": {"Ref": "EventBus"}, "DEAD_LETTER_QUEUE_URL": {"Ref": "EventsDeadLetterQueue"}}
    queue = resources["EventsDeadLetterQueue"]["Properties"]
    assert queue["SqsManagedSseEnabled"] is True and queue["MessageRetentionPeriod"] == 1209600
    deny = resources["EventsDeadLetterQueuePolicy"]["Properties"]["PolicyDocument"]["Statement"][0]
    assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    alarm = resources["EventsDeadLetteredAlarm"]["Properties"]
    assert alarm["Dimensions"][0]["Value"] == {"Fn::GetAtt": ["EventsDeadLetterQueue", "QueueName"]}
    assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (0, "GreaterThanThreshold")


def test_the_export_bucket_is_private_encrypted_tls_only_and_forgets_after_a_day(template):
    bucket = template["Resources"]["ExportBucket"]["Properties"]
    rule = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
    assert rule["SSEAlgorithm"] in ("AES256", "aws:kms")
    assert all(bucket["PublicAccessBlockConfiguration"].values()) and len(bucket["PublicAccessBlockConfiguration"]) == 4
    lifecycle = bucket["LifecycleConfiguration"]["Rules"][0]
    assert (lifecycle["Status"], lifecycle["ExpirationInDays"]) == ("Enabled", 1)
    assert lifecycle["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 1}
    statements = template["Resources"]["ExportBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    deny = statements[0]
    assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    # moto does not evaluate bucket policies: what the template says is the test. A presigned
    # GET is refused once its signature is older than the ten minutes the function signs for.
    validity = re.search(r"URL_VALIDITY: Duration = Duration::from_secs\((\d+)\)",
                         (ROOT / "functions/export-audit-log/src/file.rs").read_text())
    age = [s for s in statements if s.get("Condition", {}).get("NumericGreaterThan", {}).get("s3:signatureAge")]
    assert len(age) == 1 and (age[0]["Effect"], age[0]["Principal"], age[0]["Action"]) == ("Deny", "*", "s3:GetObject")
    assert age[0]["Resource"] == {"Fn::Sub": "${ExportBucket.Arn}/*"}
    assert int(age[0]["Condition"]["NumericGreaterThan"]["s3:signatureAge"]) == int(validity.group(1)) * 1000
    function = template["Resources"]["ExportAuditLogFunction"]["Properties"]
    assert function["Environment"]["Variables"]["EXPORT_BUCKET"] == {"Ref": "ExportBucket"}
    assert function["Timeout"] == 900, "a million entries within Lambda's longest timeout"
    # The same function names itself to invoke itself (functions/export-audit-log/src/jobs.rs).
    assert function["FunctionName"] == {"Fn::Sub": "${AWS::StackName}-export-audit-log"}
    routes = {(e["Properties"]["Method"], e["Properties"]["Path"]) for e in function["Events"].values()}
    assert routes == {("POST", "/audit-log/exports"), ("GET", "/audit-log/exports/{exportId}")}
