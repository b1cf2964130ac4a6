"""What one CloudFormation update can do, checked between the template last deployed
(infra/deployed/template.yaml, which make sam-deploy refreshes after a deploy that
succeeded) and infra/template.yaml. The emulator applies any template; AWS does not:

- DynamoDB creates or deletes one global secondary index per UpdateTable, and CloudFormation
  fails an update of a table that adds or removes more than one (a changed index counts as a
  removal and an addition);
- a changed key schema, local indexes or table name replaces a table, and a changed sign-in
  or attribute schema replaces the user pool (every user gone): never done by an update;
- a resource kept on deletion (DeletionPolicy Retain) is never removed or renamed by one.
"""

import copy
import json

import pytest
from cfnlint.decode import cfn_yaml

from conftest import ROOT

# Properties whose change replaces the resource (CloudFormation's "Update requires:
# Replacement"), for the resources whose replacement would lose data.
REPLACING = {
    "AWS::DynamoDB::Table": ("TableName", "KeySchema", "LocalSecondaryIndexes"),
    "AWS::Cognito::UserPool": ("UserPoolName", "AliasAttributes", "UsernameAttributes", "UsernameConfiguration", "Schema"),
}


def load(path):
    return json.loads(json.dumps(cfn_yaml.load(str(path))))


def update_problems(deployed, proposed):
    """What an update from `deployed` to `proposed` cannot or must not do, one line each."""
    problems = []
    old, new = deployed["Resources"], proposed["Resources"]
    for name, resource in old.items():
        if resource.get("DeletionPolicy") == "Retain" and name not in new:
            problems.append(f"{name}: a retained resource removed (or renamed)")
    for name, resource in new.items():
        before = old.get(name)
        if before is None or before["Type"] != resource["Type"]:
            continue
        kind, props, old_props = resource["Type"], resource.get("Properties", {}), before.get("Properties", {})
        for prop in REPLACING.get(kind, ()):
            if props.get(prop) != old_props.get(prop):
                problems.append(f"{name}: {prop} changed, which replaces the {kind}")
        if kind == "AWS::DynamoDB::Table":
            was = {i["IndexName"]: i for i in old_props.get("GlobalSecondaryIndexes", [])}
            now = {i["IndexName"]: i for i in props.get("GlobalSecondaryIndexes", [])}
            added = [n for n in now if n not in was]
            removed = [n for n in was if n not in now]
            changed = [n for n in now if n in was and key_of(now[n]) != key_of(was[n])]
            steps = len(added) + len(removed) + 2 * len(changed)
            if steps > 1:
                problems.append(
                    f"{name}: {steps} global index creations and deletions in one update "
                    f"(added {added}, removed {removed}, changed {changed}); one per update"
                )
    return problems


def key_of(index):
    """What of a global index cannot change in place: its keys and its projection."""
    return (index["KeySchema"], index["Projection"])


def test_the_template_is_one_update_from_the_deployed_one():
    problems = update_problems(load(ROOT / "infra/deployed/template.yaml"), load(ROOT / "infra/template.yaml"))
    assert problems == [], "\n".join(problems)


@pytest.fixture
def deployed():
    return load(ROOT / "infra/deployed/template.yaml")


def index(name, hash_key):
    return {
        "IndexName": name,
        "KeySchema": [{"AttributeName": hash_key, "KeyType": "HASH"}],
        "Projection": {"ProjectionType": "KEYS_ONLY"},
    }


def test_two_new_global_indexes_on_one_table_are_refused(deployed):
    proposed = copy.deepcopy(deployed)
    table = proposed["Resources"]["ContactsTable"]["Properties"]
    table["GlobalSecondaryIndexes"] = [index("a", "x"), index("b", "y")]
    assert update_problems(deployed, proposed) == [
        "ContactsTable: 2 global index creations and deletions in one update "
        "(added ['a', 'b'], removed [], changed []); one per update"
    ]
    table["GlobalSecondaryIndexes"] = [index("a", "x")]
    assert update_problems(deployed, proposed) == [], "one is fine"


def test_a_changed_global_index_counts_as_two(deployed):
    proposed = copy.deepcopy(deployed)
    audit = proposed["Resources"]["AuditTable"]["Properties"]["GlobalSecondaryIndexes"]
    audit[0]["Projection"] = {"ProjectionType": "KEYS_ONLY"}
    (problem,) = update_problems(deployed, proposed)
    assert "changed ['byTarget']" in problem


def test_replacing_a_table_or_the_pool_and_removing_a_retained_table_are_refused(deployed):
    proposed = copy.deepcopy(deployed)
    proposed["Resources"]["MembersTable"]["Properties"]["KeySchema"][1]["AttributeName"] = "memberId"
    proposed["Resources"]["UserPool"]["Properties"]["UsernameAttributes"] = ["email"]
    del proposed["Resources"]["AuditTable"]
    problems = update_problems(deployed, proposed)
    assert "MembersTable: KeySchema changed, which replaces the AWS::DynamoDB::Table" in problems
    assert "UserPool: UsernameAttributes changed, which replaces the AWS::Cognito::UserPool" in problems
    assert "AuditTable: a retained resource removed (or renamed)" in problems
