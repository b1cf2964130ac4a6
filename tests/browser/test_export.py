"""The Log's export in the reference console: `Export CSV` starts it, the console shows it
being prepared and then offers `Download CSV`; the file the browser downloads holds the rows
of the Log, in its order. Runs after the other console tests, on the stack they leave."""

import csv
import io
import json
import urllib.parse
import urllib.request

from conftest import sign_in
from playwright.sync_api import expect

ADA = "+447700900101"
COLUMNS = ["id", "occurredAt", "action", "actorId", "actorName", "targetId", "targetName", "requestId",
           "sourceIp", "userAgent", "changes"]


def the_log(env, cognito):
    """Every entry of the Log, newest first, as the API pages it for Ada."""
    auth = cognito.admin_initiate_auth(
        UserPoolId=env["USER_POOL_ID"], ClientId=env["USER_POOL_CLIENT_ID"], AuthFlow="ADMIN_USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "acme-admin", "PASSWORD": env["SEED_PASSWORD"]})
    token = auth["AuthenticationResult"]["IdToken"]
    entries, cursor = [], None
    while True:
        query = "?limit=100" + (f"&cursor={urllib.parse.quote(cursor)}" if cursor else "")
        request = urllib.request.Request(env["API_URL"] + "/audit-log" + query,
                                         headers={"authorization": f"Bearer {token}"})
        with urllib.request.urlopen(request) as response:
            page = json.load(response)
        entries += page["entries"]
        cursor = page.get("nextCursor")
        if not cursor:
            return entries


def test_an_admin_exports_the_log_and_downloads_its_rows(page, env, cognito):
    sign_in(page, ADA, env["SEED_PASSWORD"])
    page.get_by_role("tab", name="Log").click()
    expect(page.get_by_role("list", name="Log entries").get_by_role("listitem").first).to_be_visible()

    page.get_by_role("button", name="Export CSV").click()
    expect(page.get_by_role("status", name="Export")).to_contain_text("Preparing the export")
    download_link = page.get_by_role("link", name="Download CSV")
    expect(download_link).to_be_visible(timeout=90_000)
    expect(page.get_by_role("status", name="Export")).to_contain_text("The export is ready")

    with page.expect_download() as download_info:
        download_link.click()
    download = download_info.value
    assert download.suggested_filename.startswith("audit-log-") and download.suggested_filename.endswith(".csv")
    with open(download.path(), newline="", encoding="utf-8") as file:
        rows = list(csv.DictReader(io.StringIO(file.read())))

    log = the_log(env, cognito)
    assert [row["id"] for row in rows] == [entry["id"] for entry in log], "every entry of the Log, in its order"
    for row, entry in zip(rows, log):
        assert row["action"] == entry["action"]
        assert row["occurredAt"] == entry["occurredAt"]
        assert row["targetId"] == entry["target"]["id"]
        assert row["actorName"].lstrip("'") == entry["actor"]["name"]
    assert list(rows[0].keys()) == COLUMNS
    shown = page.get_by_role("list", name="Log entries").get_by_role("listitem")
    expect(shown.first).to_contain_text(log[0]["action"])
    assert not page.errors, page.errors
