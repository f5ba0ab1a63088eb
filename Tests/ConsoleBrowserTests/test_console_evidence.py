#!/usr/bin/env python3
"""Browser tests of the console's evidence pages (docs/console.md#pages), run by scripts/console-test after
test_console.py: events with filters and CSV/JSON export, the audit page, the compliance page, and data-subject
requests (export, erasure with a receipt). Same world as test_console.py (real console, `optgated --simulate`,
real store); it reuses that file's setup and first-resident tests and then runs its own, in order.
"""
import csv
import io
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_console import CHROMIUM, PASSWORD, Suite, World, raw  # noqa: E402
from playwright.sync_api import expect, sync_playwright  # noqa: E402


class EvidenceSuite(Suite):
    def test_an_auditor_filters_and_exports_events_and_a_guard_may_not(self):
        context = self.context()
        page = self.login(context, "zhao")
        page.goto(self.world.base + "/events")
        page.select_option("#filter-method", "card")
        page.select_option("#filter-result", "granted")
        page.fill("#filter-resident", "张")
        page.click("#filter-submit")
        expect(page).to_have_url(re.compile(r"method=card"))
        expect(page.locator("#events tbody tr").first).to_contain_text("张伟")
        rows = page.locator("#events tbody tr")
        for i in range(rows.count()):
            text = rows.nth(i).inner_text()
            assert "card" in text and "granted" in text and "张伟" in text, text
        with page.expect_download() as download:
            page.click("#export-csv")
        with open(download.value.path(), encoding="utf-8") as file:
            exported = list(csv.DictReader(io.StringIO(file.read())))
        assert exported and all(r["method"] == "card" and r["result"] == "granted" and r["resident"] == "张伟" for r in exported), exported
        assert all("04A1B2C3" not in ",".join(r.values()) for r in exported), "a full card UID in the export"
        response = page.request.get(self.world.base + "/events/export.json?result=granted&method=card")
        assert response.status == 200, response.status
        listed = response.json()
        assert listed and {r["method"] for r in listed} == {"card"} and {r["result"] for r in listed} == {"granted"}, listed
        # A date range before any event exports nothing; a bad date is a sentence, not a crash.
        assert page.request.get(self.world.base + "/events/export.json?until=2000-01-01").json() == []
        bad = page.request.get(self.world.base + "/events/export.json?from=2025-02-30")
        assert bad.status == 400 and "YYYY-MM-DD" in bad.text(), (bad.status, bad.text()[:300])
        audit = self.world.cli("audit", "list").stdout
        assert re.search(r"console\.export .*console:zhao", audit) or ("console.export" in audit and "console:zhao" in audit), audit[-1500:]
        # The guard: today's events without filters, and no export (403 from the server, not a hidden link).
        guard = self.login(context, "li")
        guard.goto(self.world.base + "/events?from=2000-01-01&method=pin")
        expect(guard.locator("#today-only")).to_be_visible()
        assert guard.locator("#export-csv").count() == 0 and guard.locator("#event-filter").count() == 0
        token = self.session_cookie(context)["value"]
        for path in ["/events/export.csv", "/events/export.json", "/events/export.csv?method=card", "/audit", "/compliance",
                     "/requests", f"/requests/{self.ids['zhang']}/export.json"]:
            assert raw(self.world, "GET", path, cookie=token)[0] == 403, path
        # No session: back to sign-in.
        for path in ["/events/export.csv", "/audit", "/compliance", "/requests"]:
            status, headers, _ = raw(self.world, "GET", path)
            assert status == 303 and headers.get("Location") == "/login", (path, status)
        context.close()

    def test_the_audit_page_shows_the_check_and_the_signed_head(self):
        context = self.context()
        page = self.login(context, "zhao")
        page.goto(self.world.base + "/audit")
        expect(page.locator("#audit-result")).to_have_attribute("data-intact", "true")
        expect(page.locator("#audit-head")).to_contain_text("seq")
        listed = [line for line in self.world.cli("audit", "list").stdout.splitlines() if line.strip()]
        assert int(page.locator("#audit-entries").inner_text()) >= len(listed) - 1, (page.locator("#audit-entries").inner_text(), len(listed))
        expect(page.locator("#audit-list")).to_contain_text("console.login")
        verify = self.world.cli("audit", "verify")
        assert verify.returncode == 0, verify.stdout + verify.stderr
        context.close()

    def test_the_compliance_page_shows_the_filing_counter_and_parity(self):
        context = self.context()
        page = self.login(context, "zhao")
        page.goto(self.world.base + "/compliance")
        filing = json.loads(self.world.cli("compliance", "filing", "--json").stdout)
        expect(page.locator("#filing-people")).to_have_text(str(filing["people"]))
        expect(page.locator("#parity")).to_contain_text("card")
        expect(page.locator("#assessments tbody tr")).to_have_count(0)
        # The impact assessment, drafted by the CLI's code and downloaded from the page.
        page.select_option("#pia-format", "html")
        with page.expect_download() as download:
            page.click("#pia-download")
        with open(download.value.path(), encoding="utf-8") as file:
            document = file.read()
        assert "<html" in document.lower() and len(document) > 1000, document[:300]
        page.goto(self.world.base + "/compliance")
        expect(page.locator("#assessments tbody tr")).to_have_count(1)
        expect(page.locator("#assessments")).to_contain_text("pia")
        audit = self.world.cli("audit", "list").stdout
        assert any("console.export" in line and "pia" in line and "console:zhao" in line for line in audit.splitlines()), audit[-1500:]
        # A guard may not draft one.
        guard = self.login(context, "li")
        token = self.session_cookie(context)["value"]
        assert raw(self.world, "POST", "/compliance/pia", {"csrf": self.csrf(guard), "language": "zh"}, cookie=token)[0] == 403
        context.close()

    def test_a_data_subject_export_and_an_erasure_with_a_receipt_after_which_the_card_is_denied(self):
        context = self.context()
        manager = self.login(context, "wang")
        manager.goto(self.world.base + "/residents")
        manager.fill("#resident-name", "李雷")
        manager.fill("#resident-unit", "5-1-302")
        manager.click("#add-resident-submit")
        expect(manager.locator("#resident-title")).to_have_text("李雷")
        resident = manager.url.rsplit("/", 1)[1]
        manager.fill("#card-uid", "04CAFE0001")
        manager.click("#add-card-submit")
        expect(manager.locator("#cards")).to_contain_text("0001")
        assert self.world.cli("simulate", "card", "--uid", "04CAFE0001").stdout.startswith("granted")
        # The auditor exports the resident's data and may not erase.
        auditor_context = self.context()
        auditor = self.login(auditor_context, "zhao")
        auditor.goto(self.world.base + "/requests")
        with auditor.expect_download() as download:
            auditor.locator(f"tr[data-id='{resident}'] a.export-data").click()
        with open(download.value.path(), encoding="utf-8") as file:
            exported = json.load(file)
        assert exported["profile"]["displayName"] == "李雷", exported["profile"]
        assert exported["credentials"]["cards"] in (["0001"], ["…0001"]), exported["credentials"]  # last four digits only
        assert any(e.get("result") == "granted" for e in exported["accessEvents"]), exported["accessEvents"]
        assert auditor.locator(f"tr[data-id='{resident}'] button.erase").count() == 0
        token = self.session_cookie(auditor_context)["value"]
        csrf = self.csrf(auditor)
        assert raw(self.world, "POST", f"/requests/{resident}/erase", {"csrf": csrf, "confirm": resident}, cookie=token)[0] == 403
        auditor_context.close()
        # The manager: a wrong confirmation erases nothing; the right one shows the receipt.
        manager.goto(self.world.base + "/requests")
        row = manager.locator(f"tr[data-id='{resident}']")
        row.locator("input.confirm").fill("r-wrong")
        row.locator("button.erase").click()
        expect(manager.locator("#message")).to_contain_text(resident)
        assert self.world.cli("resident", "show", resident, "--json").returncode == 0, "erased without the confirmation"
        manager.goto(self.world.base + "/requests")
        row = manager.locator(f"tr[data-id='{resident}']")
        row.locator("input.confirm").fill(resident)
        row.locator("button.erase").click()
        expect(manager.locator("#erasure-receipt")).to_be_visible()
        expect(manager.locator("#erasure-name")).to_have_text("李雷")
        seq = manager.locator("#erasure-seq").inner_text()
        assert re.fullmatch(r"\d+", seq) and len(manager.locator("#erasure-token").inner_text()) >= 16, seq
        self.shot(manager, "erasure-receipt")
        # The daemon denies the card now, the resident is gone, and the audit log has the erasure by the console user.
        decision = self.world.cli("simulate", "card", "--uid", "04CAFE0001")
        assert decision.stdout.startswith("denied"), decision.stdout + decision.stderr
        assert self.world.cli("resident", "show", resident, "--json").returncode != 0
        audit = self.world.cli("audit", "list").stdout
        assert re.search(rf"\b{seq}\b.*resident\.erase.*console:wang", audit), audit[-2000:]
        assert "李雷" not in audit
        context.close()

    def test_high_contrast_and_large_text_toggle(self):
        context = self.context()
        page = self.login(context, "zhao")
        page.goto(self.world.base + "/audit")
        normal = page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
        page.click("#display-toggle")
        expect(page).to_have_url(re.compile("/audit$"))  # back where it was
        expect(page.locator("body")).to_have_class("contrast")
        large = page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
        assert large >= normal * 1.2, (normal, large)
        colors = page.evaluate("[getComputedStyle(document.body).color, getComputedStyle(document.body).backgroundColor]")
        assert colors == ["rgb(255, 255, 255)", "rgb(0, 0, 0)"], colors
        page.goto(self.world.base + "/events")  # it stays on across pages (a cookie)
        expect(page.locator("body")).to_have_class("contrast")
        self.shot(page, "events-high-contrast")
        page.click("#display-toggle")
        expect(page.locator("body")).not_to_have_class("contrast")
        context.close()


def main():
    expect.set_options(timeout=30_000)
    world = World()
    suite = None
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            suite = EvidenceSuite(world, browser)
            only = sys.argv[1:]
            # The state the evidence tests build on: setup (users) and the first resident's granted card.
            suite.run(Suite.test_first_run_setup_creates_the_administrator_and_the_token_is_spent.__get__(suite))
            suite.run(Suite.test_manager_adds_a_resident_and_card_and_the_grant_appears_live.__get__(suite))
            for name in [n for n in EvidenceSuite.__dict__ if n.startswith("test_")]:
                if not only or any(o in name for o in only):
                    suite.run(getattr(suite, name))
            browser.close()
    finally:
        world.stop()
    print(f"console evidence: {suite.passed if suite else 0} passed, {suite.failed if suite else 1} failed")
    sys.exit(1 if suite is None or suite.failed else 0)


if __name__ == "__main__":
    main()
