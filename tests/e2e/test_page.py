"""The page's own behaviour in headless Chromium against the contract stub (stub_api.py): kiosk login
from the URL fragment, live alerts on the map and in the queue, keyboard actions, what a role is offered,
and the language switch. The platform itself is driven by test_platform_e2e.py."""

from __future__ import annotations

import httpx
import pytest

pytestmark = pytest.mark.e2e


ADMIN = "admin-secret"


def open_page(page, url: str, token: str = ADMIN) -> None:
    page.goto(f"{url}/#token={token}")
    page.wait_for_selector("body[data-ready='1']", timeout=15_000)


def test_kiosk_token_live_alert_and_keyboard_ack(page, stub_url, artifacts):
    open_page(page, stub_url)
    assert "token" not in page.url  # taken once, then removed from the address bar
    assert page.evaluate("localStorage.getItem('citybrain.token')") == "admin-secret"
    assert page.locator("#map path.cb-cell").count() > 1000
    assert page.locator("#conn[data-status=live]").count() == 1

    alert = httpx.post(f"{stub_url}/stub/alerts").json()
    row = page.locator(f"li[data-alert-id='{alert['id']}']")
    row.wait_for(timeout=5_000)
    page.locator(f"[data-alert-marker='{alert['id']}']").wait_for(timeout=5_000)
    page.locator(f"#map path.cb-cell[data-cell='{alert['cell']}'][data-status=alert]").wait_for(timeout=5_000)

    row.click()
    page.locator("#detail .cb-spark-anomaly").first.wait_for(timeout=5_000)
    page.locator("#detail textarea[name=note]").fill("crew on site")
    row.click()  # back on the queue (the open detail and its note stay): keys act on the selected row
    page.keyboard.press("a")
    page.locator(f"li[data-alert-id='{alert['id']}'][data-state=acknowledged]").wait_for(timeout=5_000)
    served = httpx.get(f"{stub_url}/api/v1/alerts/{alert['id']}", headers={"Authorization": "Bearer admin-secret"})
    assert served.json()["state"] == "acknowledged"
    assert served.json()["history"][-1]["note"] == "crew on site"
    page.screenshot(path=str(artifacts / "page-stub.png"))


def test_engineer_is_not_offered_actions(page, stub_url):
    alert = httpx.post(f"{stub_url}/stub/alerts").json()
    open_page(page, stub_url, "engineer-secret")
    page.locator(f"li[data-alert-id='{alert['id']}']").click()
    page.locator("#detail h2").wait_for(timeout=5_000)
    assert page.locator("#detail [data-action]").count() == 0
    page.keyboard.press("a")
    page.wait_for_timeout(300)
    served = httpx.get(f"{stub_url}/api/v1/alerts/{alert['id']}", headers={"Authorization": "Bearer admin-secret"})
    assert served.json()["state"] == "open"


def test_login_form_refuses_a_bad_token_and_accepts_a_good_one(page, stub_url):
    page.goto(stub_url)
    page.locator("#login input[name=token]").fill("wrong")
    page.locator("#login button[type=submit]").click()
    page.locator("#login .error:not(:empty)").wait_for(timeout=5_000)
    page.locator("#login input[name=token]").fill("admin-secret")
    page.locator("#login button[type=submit]").click()
    page.wait_for_selector("body[data-ready='1']", timeout=15_000)


def test_chinese_by_default_for_a_chinese_browser_and_switchable(browser, stub_url):
    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    try:
        open_page(page, stub_url)
        assert page.evaluate("document.documentElement.lang") == "zh-CN"
        assert page.locator("#queue h2").inner_text() == "告警队列"
        page.locator("#lang").click()
        assert page.locator("#queue h2").inner_text() == "Alert queue"
        page.reload()
        page.wait_for_selector("body[data-ready='1']", timeout=15_000)
        assert page.locator("#queue h2").inner_text() == "Alert queue"  # the choice is remembered
    finally:
        context.close()
