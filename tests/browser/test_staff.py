"""The staff's web app, end to end in headless Chromium (issue 17's five scenarios)."""

import re
import time

from conftest import (
    contrast_failures,
    BA_DINH_CENTRE,
    BA_DINH_PC,
    HN,
    NGOC_HA_PC,
    PASSWORD,
    Watch,
    act,
    pdf_bytes,
)


def history_steps(page):
    return page.locator("#history tbody tr").count()


def test_1_reception_receives_prints_and_the_clerk_returns_the_result(server_factory, browser):
    s = server_factory()
    s.user("dan", "citizen")
    s.user("letan", "clerk", BA_DINH_CENTRE, full_name="Lễ Tân Ba Đình")
    s.user("canbo", "clerk", BA_DINH_PC, full_name="Cán Bộ Ba Đình")
    s.user("truong", "unit_head", BA_DINH_PC, full_name="Trưởng Ba Đình")
    code = s.file_online("dan")

    w = Watch(browser, s.base)
    p = w.page
    # Reception: the dossier waits in the centre's queue; receive it, print the slip.
    p.goto(s.base + "/")
    assert p.locator("html").get_attribute("lang") == "vi"
    w.login("letan")
    assert p.url.endswith("/queue")
    row = p.locator("tr", has_text=code)
    assert row.count() == 1
    with p.expect_navigation():
        row.locator("a", has_text=code).click()
    assert p.locator("#case-code").inner_text() == code
    # Only what the state machine allows a reception clerk now.
    forms = sorted(f.get_attribute("id") for f in p.locator("form.action").all())
    assert forms == ["action-receive", "action-refuse", "action-request_supplement"], forms
    act(p, "receive")
    with p.expect_navigation():
        p.click("#print-slip")
    assert p.locator("#slip-code").inner_text() == code
    assert re.match(r"\d\d/\d\d/\d{4} \d\d:\d\d", p.locator("#slip-appointment").inner_text())
    assert p.locator(".slip-qr svg").count() == 1
    p.emulate_media(media="print")
    assert not p.locator("header.top").is_visible()
    p.emulate_media(media="screen")
    w.logout()

    # The commune clerk claims it from the queue (htmx) and works it.
    w.login("canbo")
    row = p.locator("tr", has_text=code)
    row.locator("button", has_text="Nhận xử lý").click()
    p.locator("tr", has_text=code).locator("td", has_text="tôi").wait_for()
    with p.expect_navigation():
        p.locator("a", has_text=code).click()
    act(p, "start_processing")
    act(p, "send_for_approval")
    w.logout()
    w.login("truong")
    p.goto(f"{s.base}/cases/{code}")
    act(p, "approve")
    w.logout()
    w.login("canbo")
    p.goto(f"{s.base}/cases/{code}")
    act(p, "return_result", result_delivery="in_person")
    assert p.locator("#case-status").inner_text() == "Đã trả kết quả"
    # Filed, received, claimed, started, sent, approved, returned.
    steps = p.locator("#history tbody").inner_text()
    for step in ["Tiếp nhận", "Nhận xử lý", "Bắt đầu xử lý", "Trình ký", "Phê duyệt", "Trả kết quả"]:
        assert step in steps, (step, steps)
    assert p.locator("form.action").count() == 0
    w.shot("scenario-1")
    w.check_clean()
    w.close()


def test_2_unit_head_assigns_and_approves_other_commune_is_refused(server_factory, browser):
    s = server_factory()
    s.user("dan", "citizen")
    s.user("letan", "clerk", BA_DINH_CENTRE)
    s.user("canbo", "clerk", BA_DINH_PC, full_name="Cán Bộ Ba Đình")
    s.user("truong", "unit_head", BA_DINH_PC, full_name="Trưởng Ba Đình")
    s.user("ngocha", "clerk", NGOC_HA_PC)
    code = s.file_online("dan")
    token = s.token("letan")
    status, case = s.api("POST", f"/api/v1/cases/{code}/actions/receive", {"version": 1}, token)
    assert status == 200, case

    w = Watch(browser, s.base)
    p = w.page
    w.login("truong")
    p.goto(f"{s.base}/cases/{code}")
    act(p, "assign", assignee=p.locator("#action-assign option", has_text="Cán Bộ Ba Đình").get_attribute("value"))
    w.logout()
    w.login("canbo")
    p.goto(f"{s.base}/cases/{code}")
    assert "Tôi" in p.locator("main").inner_text()
    act(p, "start_processing")
    act(p, "send_for_approval")
    w.logout()
    w.login("truong")
    p.goto(f"{s.base}/cases/{code}")
    act(p, "approve")
    assert p.locator("#case-status").inner_text() == "Đã có kết quả"
    w.logout()

    # A clerk of another commune: a 403 page in the same look, not a problem document.
    w.login("ngocha")
    resp = p.goto(f"{s.base}/cases/{code}")
    assert resp.status == 403
    assert "text/html" in resp.headers["content-type"]
    assert p.locator("#error-title").inner_text().startswith("403")
    assert p.locator("header.top").is_visible()
    w.shot("scenario-2")
    w.check_clean()
    w.close()


def test_3_supervisors_see_their_province_only(server_factory, browser):
    s = server_factory()
    s.user("dan", "citizen")
    s.user("gs_hn", "supervisor", province=HN, full_name="Giám sát Hà Nội")
    s.user("gs_hcm", "supervisor", province="79", full_name="Giám sát TP HCM")
    code = s.file_online("dan")
    assert code

    w = Watch(browser, s.base)
    p = w.page
    w.login("gs_hn")
    assert "/dashboard" in p.url
    assert p.locator("#backlog-total").inner_text() == "1"
    assert p.locator("#backlog tbody tr").count() >= 1
    assert "Ba Đình" in p.locator("#backlog tbody").inner_text()
    assert p.locator("#indicators").is_visible()
    p.locator("#flow-chart[data-drawn='1']").wait_for()
    # The CSV of the backlog is the table's.
    with p.expect_download() as d:
        p.click("a[href^='/dashboard/export/backlog']")
    csv = open(d.value.path(), encoding="utf-8").read()
    assert csv.splitlines()[0].startswith("group,name,open")
    # Drill down to the unit.
    with p.expect_navigation():
        p.locator("#backlog tbody a").first.click()
    assert "unit=" in p.url
    w.logout()

    w.login("gs_hcm")
    assert p.locator("#backlog-total").inner_text() == "0"
    assert "Ba Đình" not in p.locator("main").inner_text()
    resp = p.goto(f"{s.base}/dashboard?province={HN}")
    assert resp.status == 403
    assert p.locator("#error-title").is_visible()
    p.goto(f"{s.base}/dashboard")
    w.shot("scenario-3")
    w.check_clean()
    w.close()


def test_4a_a_form_without_its_csrf_token_changes_nothing(server_factory, browser):
    s = server_factory()
    s.user("dan", "citizen")
    s.user("letan", "clerk", BA_DINH_CENTRE)
    code = s.file_online("dan")

    w = Watch(browser, s.base)
    p = w.page
    w.login("letan")
    p.goto(f"{s.base}/cases/{code}")
    before = history_steps(p)
    # The same form, posted from the browser's cookie jar without its token.
    r = w.context.request.post(f"{s.base}/cases/{code}/actions/receive", form={"version": "1"}, max_redirects=0)
    assert r.status == 403
    assert "text/html" in r.headers["content-type"]
    r = w.context.request.post(
        f"{s.base}/cases/{code}/actions/receive", form={"version": "1", "csrf_token": "00" * 32}, max_redirects=0
    )
    assert r.status == 403
    p.reload()
    assert history_steps(p) == before
    assert p.locator("#case-status").inner_text() == "Mới nộp, chờ tiếp nhận"
    # A login form without its token is refused too.
    r = w.context.request.post(f"{s.base}/login", form={"username": "letan", "password": PASSWORD}, max_redirects=0)
    assert r.status == 403
    # With the page's own token the same action works.
    act(p, "receive")
    p.goto(f"{s.base}/cases/{code}")
    w.shot("scenario-4a")
    w.check_clean()
    w.close()


def test_4b_an_expired_session_lands_on_the_login_page_and_comes_back(server_factory, browser):
    s = server_factory(MOTCUA__WEB__SESSION_IDLE_SECS="3")
    s.user("letan", "clerk", BA_DINH_CENTRE)
    w = Watch(browser, s.base)
    p = w.page
    w.login("letan")
    p.goto(f"{s.base}/queue?sla=on_track")
    time.sleep(4)
    p.goto(f"{s.base}/queue?sla=overdue")
    assert "/login" in p.url and "expired=1" in p.url
    assert p.locator("#expired").is_visible()
    w.login("letan")
    assert p.url.endswith("/queue?sla=overdue"), p.url
    # English, remembered.
    p.goto(f"{s.base}/queue?lang=en")
    assert p.locator("h1").inner_text().startswith("Dossier queue")
    p.goto(f"{s.base}/queue")
    assert p.locator("html").get_attribute("lang") == "en"
    # A page that does not exist: the same look.
    resp = p.goto(f"{s.base}/no/such/page")
    assert resp.status == 404 and p.locator("#error-title").is_visible()
    w.shot("scenario-4b")
    w.check_clean()
    w.close()


def test_4c_throttled_sign_in_says_so(server_factory, browser):
    s = server_factory(MOTCUA__AUTH__THROTTLE__MAX_FAILURES="2")
    s.user("letan", "clerk", BA_DINH_CENTRE)
    w = Watch(browser, s.base)
    p = w.page
    for _ in range(3):
        p.goto(s.base + "/login")
        w.login("letan", "wrong-password-1")
    assert p.locator("#login-error").is_visible()
    text = p.locator("#login-error").inner_text()
    assert "thử lại sau" in text, text
    w.check_clean()
    w.close()


def test_5_docs_render_with_the_outside_network_blocked(server_factory, browser):
    s = server_factory()
    w = Watch(browser, s.base)
    p = w.page
    p.goto(s.base + "/docs")
    # The document's own description and its operations' tags, rendered by the vendored UI.
    p.get_by_text("One-stop-shop dossier routing", exact=False).first.wait_for(timeout=30000)
    body = p.locator("body").inner_text()
    for tag in ["cases", "stats", "auth"]:
        assert tag in body, tag
    w.shot("scenario-5")
    assert not w.outside, f"/docs tried to reach: {w.outside}"
    w.close()


def test_6_a_counter_supplement_then_receipt_then_the_commune_police(server_factory, browser):
    """Issue 20: an incomplete dossier is not received; the counter issues Form 02 naming
    the missing component (Decree 118/2025/NĐ-CP on receipt), the applicant completes it
    online, and the counter receives it. The handling clerk then consults the commune police
    (liên thông), who find it in their queue and answer; it comes back."""
    s = server_factory()
    s.user("dan", "citizen", full_name="Nguyễn Văn An")
    s.user("letan", "clerk", BA_DINH_CENTRE, full_name="Lễ Tân Ba Đình")
    s.user("canbo", "clerk", BA_DINH_PC, full_name="Cán Bộ Ba Đình")
    s.user("congan", "clerk", BA_DINH_POLICE, full_name="Công An Ba Đình")
    # A marital-status certificate (3 working days), filed without its form.
    code = s.file_online("dan", components=[], procedure=MARITAL)

    w = Watch(browser, s.base)
    p = w.page
    w.login("letan")
    p.goto(f"{s.base}/cases/{code}")
    forms = sorted(f.get_attribute("id") for f in p.locator("form.action").all())
    assert forms == ["action-receive", "action-refuse", "action-request_supplement"], forms
    # Receipt is refused with what is missing; nothing changes.
    with p.expect_navigation():
        p.locator("#action-receive button[type=submit]").click()
    assert "to_khai" in p.locator("#case-error").inner_text()
    # Form 02: tick the missing component, give the reason.
    form = p.locator("#action-request_supplement")
    assert form.locator("input[name=components]").count() == 1
    form.locator("input[name=components][value=to_khai]").check()
    act(p, "request_supplement", reason="Thiếu tờ khai có chữ ký")
    assert p.locator("#case-status").inner_text() == "Chờ bổ sung trước tiếp nhận"
    assert p.locator("#case-sla").inner_text() == "Chưa tính giờ"
    assert p.locator("#action-receive").count() == 0
    w.logout()

    # The applicant adds the file and says it is complete.
    status, doc = s.upload(s.token("dan"), "to-khai.pdf", pdf_bytes("to khai"),
                           path=f"/api/v1/cases/{code}/documents", kind="to_khai")
    assert status == 201, doc
    w.login("dan")
    p.goto(f"{s.base}/cases/{code}")
    act(p, "submit_supplement")
    assert p.locator("#case-status").inner_text() == "Mới nộp, chờ tiếp nhận"
    w.logout()

    # The counter receives it now: the clock starts.
    w.login("letan")
    p.goto(f"{s.base}/cases/{code}")
    act(p, "receive")
    assert p.locator("#case-status").inner_text() == "Đã tiếp nhận"
    w.logout()

    # The handling clerk asks the commune police to verify the residence, for 1 working day.
    w.login("canbo")
    p.goto(f"{s.base}/cases/{code}")
    act(p, "start_processing")
    act(p, "send_to_agency", unit=BA_DINH_POLICE, working_days="1", reason="Xác minh nơi cư trú")
    assert p.locator("#case-status").inner_text() == "Chờ cơ quan phối hợp"
    w.logout()

    # The police find it in their queue and answer; it goes back to the commune.
    w.login("congan")
    p.goto(f"{s.base}/queue")
    row = p.locator("tr", has_text=code)
    assert row.count() == 1
    with p.expect_navigation():
        row.locator("a", has_text=code).click()
    form = p.locator("#action-agency_reply")
    form.locator("[name=note]").fill("Đã xác minh: thường trú tại phường")
    with p.expect_navigation():
        form.locator("button[type=submit]").click()
    # Back in the police's queue, which no longer holds it.
    assert code in p.locator("#queue-sent").inner_text()
    assert p.locator("#queue tr", has_text=code).count() == 0
    w.logout()
    w.login("canbo")
    p.goto(f"{s.base}/cases/{code}")
    assert p.locator("#case-status").inner_text() == "Đang xử lý"
    history = p.locator("#history").inner_text()
    assert "Chuyển cơ quan phối hợp" in history and "Trả lời, chuyển lại" in history, history
    w.shot("6-counter-supplement-and-police")
    w.close()


BA_DINH_POLICE = "01.00004.CA"
MARITAL = "1.004873"


def test_pages_fit_a_phone_and_work_by_keyboard(server_factory, browser):
    s = server_factory()
    s.user("dan", "citizen")
    s.user("letan", "clerk", BA_DINH_CENTRE)
    s.user("gs_hn", "supervisor", province=HN)
    code = s.file_online("dan")
    w = Watch(browser, s.base, viewport={"width": 360, "height": 740})
    p = w.page
    # Signing in by keyboard alone.
    p.goto(s.base + "/login")
    # `autofocus` applies once the page has settled; keys typed before it go nowhere.
    p.wait_for_function("document.activeElement && document.activeElement.id === 'username'")
    p.keyboard.type("letan")
    p.keyboard.press("Tab")
    p.keyboard.type(PASSWORD)
    p.keyboard.press("Enter")
    p.wait_for_url("**/queue")
    for path in ["/queue", "/intake", "/track", f"/cases/{code}", f"/cases/{code}/slip", "/procedures", "/"]:
        p.goto(s.base + path)
        width = p.evaluate("document.documentElement.scrollWidth")
        assert width <= 360, (path, width)
        # Contrast AA for every text on the page.
        assert not contrast_failures(p), (path, contrast_failures(p))
    # The receive button is reachable with Tab and works with Enter.
    p.goto(f"{s.base}/cases/{code}")
    for _ in range(60):
        p.keyboard.press("Tab")
        if p.evaluate("document.activeElement.closest('#action-receive') !== null && document.activeElement.tagName === 'BUTTON'"):
            break
    else:
        raise AssertionError("the receive button is not reachable by keyboard")
    with p.expect_navigation():
        p.keyboard.press("Enter")
    assert p.locator("#case-done").is_visible()
    w.shot("phone-case")
    w.logout()
    w.login("gs_hn")
    p.goto(s.base + "/dashboard?province=01")
    width = p.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, ("/dashboard", width)
    assert not contrast_failures(p), contrast_failures(p)
    w.shot("phone-dashboard")
    w.check_clean()
    w.close()
