"""The reference console in a real browser: Debian's chromium driven by Playwright, against
the local stack scripts/test/browser-test.sh starts (emulator, seed, functions, local HTTP API,
console). Elements are found by role and accessible name, as a person finds them."""

import os
import re
from pathlib import Path

import boto3
import pytest
from playwright.sync_api import expect, sync_playwright

ROOT = Path(__file__).resolve().parents[2]
LOCAL = ROOT / ".local"
CHROMIUM_ARGS = ["--no-sandbox", "--headless=new", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def read_env(path):
    return dict(line.split("=", 1) for line in Path(path).read_text().splitlines() if "=" in line)


@pytest.fixture(scope="session")
def env():
    return read_env(os.environ.get("BROWSER_ENV_FILE", LOCAL / "browser-env"))


@pytest.fixture(scope="session")
def cognito(env):
    return boto3.client("cognito-idp", endpoint_url=env["AWS_ENDPOINT_URL"], region_name=env["AWS_REGION"],
                        aws_access_key_id="test", aws_secret_access_key="test")


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=os.environ.get("CHROMIUM", "/usr/bin/chromium"),
                                             args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, env, request):
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    # What the Content-Security-Policy refused (the console must need nothing it refuses).
    page.on(
        "console",
        lambda message: page.errors.append(message.text)
        if message.type == "error" and "Content Security Policy" in message.text
        else None,
    )
    page.goto(env["CONSOLE_URL"])
    yield page
    if request.node.rep_call.failed if hasattr(request.node, "rep_call") else False:
        name = re.sub(r"[^a-z0-9]+", "-", request.node.name.lower())
        page.screenshot(path=str(LOCAL / f"console-failure-{name}.png"), full_page=True)
    context.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call":
        item.rep_call = report


def sign_in(page, phone, password):
    page.get_by_label("Phone number").fill(phone)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def sign_out(page):
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()


def members_table(page):
    return page.get_by_role("table", name="Members")


def row(page, name):
    return members_table(page).get_by_role("row", name=re.compile(re.escape(name)))
