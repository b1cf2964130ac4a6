"""The member lifecycle in the reference console, by role and accessible name: suspend,
reactivate, change a role in its dialog, remove after the dialog asks, a refusal shown with
its detail, and a suspended administrator's open console refused on its next request.
Runs after test_console.py, on the stack it leaves (Dan verified, Carol gone)."""

import json
import urllib.request

import pytest
from botocore.exceptions import ClientError
from conftest import row, sign_in
from playwright.sync_api import expect

ADA, BOB = "+447700900101", "+447700900102"


def api_as(env, cognito, username, method, path, body=None):
    """A request to the local HTTP API with `username`'s real ID token, as a second console would."""
    auth = cognito.admin_initiate_auth(
        UserPoolId=env["USER_POOL_ID"], ClientId=env["USER_POOL_CLIENT_ID"], AuthFlow="ADMIN_USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": username, "PASSWORD": env["SEED_PASSWORD"]})
    request = urllib.request.Request(
        env["API_URL"] + path, method=method, data=json.dumps(body).encode() if body is not None else None,
        headers={"authorization": f"Bearer {auth['AuthenticationResult']['IdToken']}",
                 "content-type": "application/json"})
    with urllib.request.urlopen(request) as response:
        return response.status


def choose(page, name, action):
    page.get_by_role("button", name=f"Actions for {name}").click()
    page.get_by_role("menu", name=f"Actions for {name}").get_by_role("menuitem", name=action).click()


def test_an_admin_suspends_reactivates_and_changes_a_role_and_the_log_shows_it(page, env):
    sign_in(page, ADA, env["SEED_PASSWORD"])
    page.get_by_role("button", name="Actions for Bob Verified").click()
    menu = page.get_by_role("menu", name="Actions for Bob Verified")
    expect(menu.get_by_role("menuitem")).to_have_text(["Change role", "Suspend", "Remove member"])
    menu.get_by_role("menuitem", name="Suspend").click()
    expect(page.get_by_role("status")).to_contain_text("Bob Verified was suspended")
    expect(row(page, "Bob Verified")).to_contain_text("Suspended")

    page.get_by_label("Status").select_option("suspended")
    expect(row(page, "Bob Verified")).to_be_visible()
    expect(row(page, "Ada Admin")).to_have_count(0)
    page.get_by_role("button", name="Actions for Bob Verified").click()
    menu = page.get_by_role("menu", name="Actions for Bob Verified")
    expect(menu.get_by_role("menuitem")).to_have_text(["Reactivate", "Remove member"])
    menu.get_by_role("menuitem", name="Reactivate").click()
    expect(page.get_by_role("status")).to_contain_text("Bob Verified was reactivated")
    page.get_by_label("Status").select_option("")
    expect(row(page, "Bob Verified")).to_contain_text("Verified")

    choose(page, "Bob Verified", "Change role")
    dialog = page.get_by_role("dialog", name="Change role of Bob Verified")
    expect(dialog).to_be_visible()
    dialog.get_by_label("Role").select_option("admin")
    dialog.get_by_role("button", name="Save").click()
    expect(dialog).to_have_count(0)
    expect(row(page, "Bob Verified")).to_contain_text("Admin")
    choose(page, "Bob Verified", "Change role")
    page.get_by_role("dialog", name="Change role of Bob Verified").get_by_label("Role").select_option("member")
    page.get_by_role("dialog", name="Change role of Bob Verified").get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_contain_text("Bob Verified is now a member")

    page.get_by_role("tab", name="Log").click()
    entries = page.get_by_role("list", name="Log entries").get_by_role("listitem")
    expect(entries.first).to_contain_text("Admin changed member role")
    expect(entries.nth(2)).to_contain_text("Admin reactivated member")
    expect(entries.nth(3)).to_contain_text("Admin suspended member")
    expect(entries.nth(3)).to_contain_text("by Ada Admin for Bob Verified")
    page.get_by_role("combobox", name="Filter by action").select_option("suspended")
    expect(entries).to_have_count(1)
    expect(entries.first).to_contain_text("Admin suspended member")
    page.get_by_role("combobox", name="Filter by action").select_option("accepted")
    expect(entries.filter(has_text="User accepted invite").first).to_be_visible()
    assert page.errors == []


def test_remove_asks_first_and_keep_keeps(page, env, cognito):
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    sign_in(page, ADA, env["SEED_PASSWORD"])
    choose(page, "Dan Invitee", "Remove member")
    dialog = page.get_by_role("dialog", name="Remove Dan Invitee?")
    expect(dialog).to_contain_text("cannot be undone")
    dialog.get_by_role("button", name="Keep").click()
    expect(dialog).to_have_count(0)
    expect(row(page, "Dan Invitee")).to_be_visible()

    choose(page, "Dan Invitee", "Remove member")
    page.get_by_role("dialog", name="Remove Dan Invitee?").get_by_role("button", name="Remove").click()
    expect(row(page, "Dan Invitee")).to_have_count(0)
    expect(page.get_by_role("status")).to_contain_text("Dan Invitee was removed")
    with pytest.raises(ClientError) as gone:
        cognito.admin_get_user(UserPoolId=env["USER_POOL_ID"], Username="acme-dan")
    assert gone.value.response["Error"]["Code"] == "UserNotFoundException"
    assert dialogs == [], "the console's own dialog, never the browser's"
    assert page.errors == []


def test_a_last_admin_refusal_is_shown_with_its_detail(page, env, cognito):
    # Bob an administrator too: Ada may demote herself, and her page offers it.
    assert api_as(env, cognito, "acme-admin", "PATCH", "/members/acme-bob", {"role": "admin"}) == 200
    sign_in(page, ADA, env["SEED_PASSWORD"])
    choose(page, "Ada Admin", "Change role")
    dialog = page.get_by_role("dialog", name="Change role of Ada Admin")
    # Meanwhile, in another console, Bob is demoted: Ada is the last one now.
    assert api_as(env, cognito, "acme-admin", "PATCH", "/members/acme-bob", {"role": "member"}) == 200
    dialog.get_by_label("Role").select_option("member")
    dialog.get_by_role("button", name="Save").click()
    expect(dialog.get_by_role("alert")).to_contain_text("without an active administrator")
    dialog.get_by_role("button", name="Close").click()
    expect(row(page, "Ada Admin")).to_contain_text("Admin")


def test_a_suspended_administrators_open_console_is_refused_on_its_next_request(browser, page, env, cognito):
    assert api_as(env, cognito, "acme-admin", "PATCH", "/members/acme-bob", {"role": "admin"}) == 200
    sign_in(page, BOB, env["SEED_PASSWORD"])
    expect(row(page, "Ada Admin")).to_be_visible()
    expect(page.get_by_role("button", name="Invite user")).to_be_visible()

    assert api_as(env, cognito, "acme-admin", "POST", "/members/acme-bob/suspend") == 200
    page.get_by_role("tab", name="Log").click()
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("Your session has ended")
    assert api_as(env, cognito, "acme-admin", "POST", "/members/acme-bob/reactivate") == 200
    assert api_as(env, cognito, "acme-admin", "PATCH", "/members/acme-bob", {"role": "member"}) == 200
