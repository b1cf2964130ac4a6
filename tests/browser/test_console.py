"""The help article's story, in the reference console, by role and accessible name."""

import re

import pytest
from botocore.exceptions import ClientError
from conftest import LOCAL, members_table, row, sign_in, sign_out
from playwright.sync_api import expect

ADA, BOB, DAN = "+447700900101", "+447700900102", "+447700900104"


def test_the_seeds_story_from_resend_to_cancel_to_the_log(page, env, cognito):
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    sign_in(page, ADA, env["SEED_PASSWORD"])

    expect(page.get_by_role("tab", name="Members")).to_have_attribute("aria-selected", "true")
    for name in ["Ada Admin", "Bob Verified", "Carol Invitee", "Dan Invitee", "Erin Invitee"]:
        expect(row(page, name)).to_be_visible()
    expect(row(page, "Carol Invitee")).to_contain_text("Unverified")
    expect(row(page, "Erin Invitee")).to_contain_text("Expired")
    expect(row(page, "Bob Verified")).to_contain_text("Verified")
    expect(members_table(page).get_by_role("columnheader", name="Phone")).to_be_visible()
    page.screenshot(path=str(LOCAL / "console-members.png"))

    page.get_by_role("button", name="Actions for Carol Invitee").click()
    menu = page.get_by_role("menu", name="Actions for Carol Invitee")
    expect(menu.get_by_role("menuitem")).to_have_text(["Resend invitation", "Cancel invitation", "Change role"])
    menu.get_by_role("menuitem", name="Resend invitation").click()
    expect(page.get_by_role("status")).to_contain_text("sent to Carol Invitee again")

    page.get_by_role("button", name="Actions for Carol Invitee").click()
    page.get_by_role("menuitem", name="Resend invitation").click()
    refusal = page.get_by_role("alert").filter(has_text="recently")
    expect(refusal).to_contain_text(re.compile(r"try again in \d+ seconds"))
    expect(refusal).to_contain_text("You can resend at")

    page.get_by_role("button", name="Actions for Carol Invitee").click()
    page.get_by_role("menuitem", name="Cancel invitation").click()
    expect(row(page, "Carol Invitee")).to_have_count(0)
    expect(row(page, "Dan Invitee")).to_be_visible()
    assert dialogs == [], "cancel acts at once, with no dialog"
    with pytest.raises(ClientError) as gone:
        cognito.admin_get_user(UserPoolId=env["USER_POOL_ID"], Username="acme-carol")
    assert gone.value.response["Error"]["Code"] == "UserNotFoundException"

    page.get_by_role("tab", name="Log").click()
    entries = page.get_by_role("list", name="Log entries").get_by_role("listitem")
    expect(entries.first).to_contain_text("Admin canceled user invite")
    expect(entries.first).to_contain_text("by Ada Admin for Carol Invitee")
    expect(entries.nth(1)).to_contain_text("Admin resent user invite")
    expect(entries.nth(1)).to_contain_text("by Ada Admin for Carol Invitee")
    assert page.errors == []


def test_a_member_sees_names_and_statuses_but_no_actions_or_contacts(page, env):
    sign_in(page, BOB, env["SEED_PASSWORD"])
    expect(row(page, "Dan Invitee")).to_be_visible()
    expect(page.get_by_role("button", name=re.compile("^Actions for"))).to_have_count(0)
    expect(members_table(page).get_by_role("columnheader", name="Phone")).to_be_hidden()
    expect(page.get_by_role("button", name="Invite user")).to_be_hidden()
    page.get_by_role("searchbox", name="Search").fill("900104")
    expect(members_table(page).get_by_role("row")).to_have_count(1)  # the header only: no phone search
    page.get_by_role("searchbox", name="Search").fill("dan")
    expect(row(page, "Dan Invitee")).to_be_visible()
    expect(row(page, "Bob Verified")).to_have_count(0)


def test_an_invitee_accepts_and_the_admin_sees_them_verified(page, env):
    # The emulator's SRP does not check passwords (NOTES), so any temporary password signs
    # Dan in; what matters is Cognito's challenge, the new password, and the trigger.
    sign_in(page, DAN, "Temporary-1234")
    page.get_by_label("New password").fill("Dans-New-Passw0rd")
    page.get_by_role("button", name="Set password").click()
    expect(page.get_by_role("tab", name="Members")).to_be_visible()
    sign_out(page)

    sign_in(page, ADA, env["SEED_PASSWORD"])
    expect(row(page, "Dan Invitee")).to_contain_text("Verified")
    expect(row(page, "Dan Invitee")).not_to_contain_text("Unverified")
    page.get_by_role("button", name="Actions for Dan Invitee").click()
    menu = page.get_by_role("menu", name="Actions for Dan Invitee")
    expect(menu.get_by_role("menuitem")).to_have_text(["Change role", "Suspend", "Remove member"])


def test_an_admin_invites_searches_and_pages(page, env):
    sign_in(page, ADA, env["SEED_PASSWORD"])
    page.get_by_role("button", name="Invite user").click()
    form = page.get_by_role("form", name="Invite user")
    form.get_by_label("Name").fill("Greta Newcomer")
    form.get_by_label("Phone number").fill("+447700900177")
    form.get_by_label("Email").fill("greta@acme.example")
    form.get_by_label("Role").select_option("member")
    form.get_by_role("button", name="Send invitation").click()
    expect(page.get_by_role("status")).to_contain_text("Greta Newcomer was invited")
    expect(row(page, "Greta Newcomer")).to_contain_text("Unverified")

    page.get_by_role("button", name="Invite user").click()
    form.get_by_label("Name").fill("Greta Again")
    form.get_by_label("Phone number").fill("+447700900177")
    form.get_by_role("button", name="Send invitation").click()
    expect(page.get_by_role("alert").filter(has_text="already in use")).to_be_visible()

    page.get_by_role("searchbox", name="Search").fill("7700 900177")
    expect(members_table(page).get_by_role("row")).to_have_count(2)
    expect(row(page, "Greta Newcomer")).to_be_visible()
    page.get_by_role("searchbox", name="Search").fill("")
    page.get_by_label("Status").select_option("expired")
    expect(row(page, "Erin Invitee")).to_be_visible()
    expect(members_table(page).get_by_role("row")).to_have_count(2)


def test_the_kebab_menu_closes_on_escape_and_outside_clicks_and_works_by_keyboard(page, env):
    sign_in(page, ADA, env["SEED_PASSWORD"])
    kebab = page.get_by_role("button", name="Actions for Erin Invitee")
    menu = page.get_by_role("menu", name="Actions for Erin Invitee")
    kebab.click()
    expect(menu).to_be_visible()
    expect(kebab).to_have_attribute("aria-expanded", "true")
    page.keyboard.press("Escape")
    expect(menu).to_be_hidden()
    expect(kebab).to_be_focused()

    kebab.click()
    expect(menu).to_be_visible()
    page.get_by_role("heading", name="My Organization").click()
    expect(menu).to_be_hidden()

    kebab.focus()
    page.keyboard.press("Enter")
    expect(menu.get_by_role("menuitem", name="Resend invitation")).to_be_focused()
    page.keyboard.press("ArrowDown")
    expect(menu.get_by_role("menuitem", name="Cancel invitation")).to_be_focused()
    page.keyboard.press("Escape")
    expect(menu).to_be_hidden()


def test_readable_on_a_phones_width(browser, env):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    page.goto(env["CONSOLE_URL"])
    sign_in(page, ADA, env["SEED_PASSWORD"])
    expect(row(page, "Erin Invitee")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390, "no sideways scrolling"
    expect(page.get_by_role("button", name="Actions for Erin Invitee")).to_be_in_viewport()
    page.screenshot(path=str(LOCAL / "console-members-phone.png"))
    context.close()


def test_the_console_is_served_with_a_strict_policy_and_keeps_no_token_in_storage(page, env):
    response = page.goto(env["CONSOLE_URL"])
    policy = response.headers["content-security-policy"]
    directives = {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}
    assert directives["default-src"] == ["'self'"]
    assert directives["script-src"] == ["'self'"], "no inline script, no eval"
    assert directives["connect-src"] == ["'self'", env["API_URL"].rstrip("/")]
    assert directives["frame-ancestors"] == ["'none'"]
    sign_in(page, ADA, env["SEED_PASSWORD"])
    expect(row(page, "Ada Admin")).to_be_visible()
    stored = page.evaluate("() => [Object.keys(localStorage), Object.keys(sessionStorage)]")
    assert stored == [[], []], f"nothing kept in the browser's storage: {stored}"
    tokens_in_memory = page.evaluate("() => document.cookie")
    assert "Token" not in tokens_in_memory
    assert page.errors == [], page.errors
