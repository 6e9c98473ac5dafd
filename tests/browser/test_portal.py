"""The citizens' portal and the administrators' pages, end to end in headless Chromium
(issue 18's scenarios), each on a fresh database."""

import re
import sqlite3
import threading

from conftest import (
    BA_DINH,
    BA_DINH_CENTRE,
    BA_DINH_PC,
    HN,
    PASSWORD,
    Watch,
    act,
    contrast_failures,
    pdf_bytes,
    png_bytes,
)

ID_NUMBER = "001203004567"


def file_birth_with_old_address(w, s, shots=None):
    """Register, find birth registration, file it with the pre-2025 address of Phường Điện
    Biên (split in 2025), choose Ba Đình among the candidates, submit twice at once."""
    p = w.page

    def shot(name):
        if shots:
            w.shot(f"{shots}-{name}")
            assert not contrast_failures(p), (name, contrast_failures(p))

    p.goto(s.base + "/register")
    p.fill("#username", "dan_thuong")
    p.fill("#password", PASSWORD)
    p.fill("#full_name", "Nguyễn Văn An")
    p.fill("#phone", "0912345678")
    shot("1-register")
    p.click("form[action='/register'] button[type=submit]")
    p.wait_for_url("**/procedures")
    # Without diacritics.
    p.fill("#q", "khai sinh")
    with p.expect_navigation():
        p.press("#q", "Enter")
    shot("2-search")
    with p.expect_navigation():
        p.locator("#procedure-list a", has_text="khai sinh").first.click()
    assert "1.001193" in p.locator("main").inner_text()
    shot("3-procedure")
    with p.expect_navigation():
        p.click("#file-online")
    key = p.locator("input[name=idempotency_key]").get_attribute("value")
    assert re.fullmatch(r"[0-9a-f-]{36}", key)
    p.check("input[name=mode][value=legacy]")
    p.select_option("#legacy_province", label="Thành phố Hà Nội")
    p.locator("#legacy_district option", has_text="Ba Đình").wait_for(state="attached")
    p.select_option("#legacy_district", label="Quận Ba Đình")
    p.locator("#legacy_ward option", has_text="Điện Biên").wait_for(state="attached")
    p.select_option("#legacy_ward", label="Phường Điện Biên")
    p.locator("#candidates").wait_for()
    explanation = p.locator("#preview").inner_text()
    assert "Điện Biên" in explanation, explanation
    candidates = p.locator("#candidates input[name=candidate]")
    assert candidates.count() == 4
    p.check("#candidates input[value='00004']")
    p.fill("#id_number", ID_NUMBER)
    p.fill("#details", "Đăng ký khai sinh cho con")
    shot("4-file")
    # Two submissions at once: the form's idempotency key files once.
    p.evaluate(
        """() => { const f = document.getElementById('file-form');
                   const a = new FormData(f), b = new FormData(f);
                   return Promise.all([fetch(f.action, {method: 'POST', body: new URLSearchParams(a)}),
                                       fetch(f.action, {method: 'POST', body: new URLSearchParams(b)})])
                          .then(rs => rs.map(r => r.url)); }"""
    )
    with p.expect_navigation():
        p.click("#submit-dossier")
    assert p.locator("#case-done").is_visible(), p.locator("main").inner_text()[:2000]
    code = p.locator("#case-code").inner_text()
    shot("5-filed")
    return code


def test_1_a_citizen_files_with_an_old_address_once_and_tracks_it(server_factory, browser):
    s = server_factory()
    w = Watch(browser, s.base)
    p = w.page
    code = file_birth_with_old_address(w, s)
    assert code.startswith("01.00004.TTPVHCC-")
    p.goto(s.base + "/me/cases")
    items = p.locator("#my-cases > li")
    assert items.count() == 1, p.locator("main").inner_text()
    assert code in items.first.inner_text()
    w.logout()
    # Public tracking, signed out.
    p.goto(f"{s.base}/track?code={code}&id_last4={ID_NUMBER[-4:]}")
    assert code in p.locator("#tracked").inner_text()
    w.shot("portal-1")
    w.check_clean()
    w.close()


def backdate_pause(db, code, days):
    """Make the running supplement pause as if it had started `days` days ago (the citizen
    took a week to answer)."""
    con = sqlite3.connect(db)
    (paused_at,) = con.execute("SELECT paused_at FROM cases WHERE code = ?", (code,)).fetchone()
    con.execute(
        "UPDATE cases SET paused_at = datetime(paused_at, ?) || substr(paused_at, 20) WHERE code = ?",
        (f"-{days} days", code),
    )
    con.execute(
        "UPDATE case_pauses SET started_at = (SELECT paused_at FROM cases WHERE code = ?) "
        "WHERE ended_at IS NULL AND case_id = (SELECT id FROM cases WHERE code = ?)",
        (code, code),
    )
    con.commit()
    (after,) = con.execute("SELECT paused_at FROM cases WHERE code = ?", (code,)).fetchone()
    con.close()
    assert after != paused_at, (paused_at, after)


def test_2_the_citizen_answers_a_supplement_request_and_the_deadline_moves(server_factory, browser):
    s = server_factory()
    s.user("dan", "citizen", full_name="Nguyễn Văn An")
    s.user("letan", "clerk", BA_DINH_CENTRE)
    s.user("canbo", "clerk", BA_DINH_PC)
    code = s.file_online("dan")
    reception, clerk = s.token("letan"), s.token("canbo")
    for who, action, body in [
        (reception, "receive", {}),
        (clerk, "claim", {}),
        (clerk, "start_processing", {}),
        (clerk, "request_supplement", {"reason": "Thiếu giấy chứng sinh", "components": ["giay_chung_sinh"]}),
    ]:
        status, case = s.api("GET", f"/api/v1/cases/{code}", token=who)
        body["version"] = case["version"]
        status, case = s.api("POST", f"/api/v1/cases/{code}/actions/{action}", body, who)
        assert status == 200, (action, case)
    backdate_pause(s.db, code, 7)

    w = Watch(browser, s.base)
    p = w.page
    w.login("dan")
    p.goto(s.base + "/me/cases")
    assert p.locator(".todo").is_visible()
    with p.expect_navigation():
        p.locator(".todo a").click()
    facts = p.locator("main dl.facts").first
    before = facts.locator("dt:has-text('Hạn giải quyết') + dd").inner_text()
    form = p.locator("#action-submit_supplement")
    form.locator("textarea[name=documents]").fill("Giấy chứng sinh")
    with p.expect_navigation():
        form.locator("button[type=submit]").click()
    assert p.locator("#case-done").is_visible()
    after = p.locator("main dl.facts").first.locator("dt:has-text('Hạn giải quyết') + dd").inner_text()
    parse = lambda t: tuple(reversed(re.match(r"(\d\d)/(\d\d)/(\d{4}) (\d\d):(\d\d)", t).groups()[:3])) + re.match(r"(\d\d)/(\d\d)/(\d{4}) (\d\d):(\d\d)", t).groups()[3:]
    assert parse(after) > parse(before), (before, after)
    assert "Tạm dừng" in p.locator("#deadline").inner_text()
    w.shot("portal-2")
    w.check_clean()
    w.close()


def test_3_an_administrator_edits_a_unit_and_an_override_and_the_audit_shows_both(server_factory, browser):
    s = server_factory()
    s.user("quantri", "admin", full_name="Quản trị viên")
    token = s.token("quantri")
    status, o = s.api(
        "POST",
        "/api/v1/routing/overrides",
        {
            "province_code": "01",
            "procedure_code": "1.001193",
            "from_unit_code": BA_DINH_PC,
            "to_unit_code": "01.00008.UBND",
            "priority": 10,
            "reason": "Ba Đình quá tải",
        },
        token,
    )
    assert status == 201, o

    w = Watch(browser, s.base)
    p = w.page
    w.login("quantri")
    assert p.url.endswith("/admin")
    p.click("a[href='/admin/units']")
    p.fill("#q", "ba dinh")
    with p.expect_navigation():
        p.press("#q", "Enter")
    with p.expect_navigation():
        p.click(f"a[href='/admin/units/{BA_DINH_PC}']")
    # A malformed value is refused with the API's message, and what was typed is kept.
    p.fill("#working_hours", "7h30 đến 17h")
    with p.expect_navigation():
        p.click("form[action^='/admin/units/'] button[type=submit]")
    assert p.locator("#form-errors").is_visible()
    assert p.locator("#working_hours").input_value() == "7h30 đến 17h"
    p.fill("#working_hours", "08:00-12:00,13:30-17:30")
    with p.expect_navigation():
        p.click("form[action^='/admin/units/'] button[type=submit]")
    assert p.locator("#saved").is_visible()
    assert p.locator("#working_hours").input_value() == "08:00-12:00,13:30-17:30"

    p.goto(f"{s.base}/admin/overrides")
    with p.expect_navigation():
        p.click(f"a[href='/admin/overrides/{o['id']}']")
    p.fill("#priority", "20")
    p.fill("#reason", "Ba Đình quá tải, tăng ưu tiên")
    with p.expect_navigation():
        p.click("form[action^='/admin/overrides/'] button[type=submit]")
    assert p.locator("#saved").is_visible()
    assert p.locator("#priority").input_value() == "20"

    p.goto(f"{s.base}/admin/audit")
    audit = p.locator("#audit tbody").inner_text()
    assert "unit.update" in audit and BA_DINH_PC in audit, audit
    assert "override.update" in audit, audit
    assert "08:00-12:00,13:30-17:30" in audit
    w.shot("admin-3")
    w.check_clean()
    w.close()


def test_4_scenario_1_on_a_phone(server_factory, browser):
    s = server_factory()
    w = Watch(browser, s.base, viewport={"width": 360, "height": 740})
    p = w.page
    code = file_birth_with_old_address(w, s, shots="phone")
    width = p.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, width
    p.goto(s.base + "/me/cases")
    w.shot("phone-6-my-cases")
    assert p.evaluate("document.documentElement.scrollWidth") <= 360
    assert not contrast_failures(p), contrast_failures(p)
    w.logout()
    p.goto(f"{s.base}/track?code={code}&id_last4={ID_NUMBER[-4:]}")
    w.shot("phone-7-track")
    assert p.evaluate("document.documentElement.scrollWidth") <= 360
    assert not contrast_failures(p), contrast_failures(p)
    p.goto(s.base + "/procedures/1.001193")
    assert not contrast_failures(p), contrast_failures(p)
    w.check_clean()
    w.close()


def open_files(w, code, expected):
    """On the dossier's page: the table lists the files; each preview opens in the page and
    each download link answers the file's bytes with their type."""
    p = w.page
    table = p.locator("section[aria-labelledby=h-docs] table.docs")
    text = table.inner_text()
    for name in expected:
        assert name in text, (name, text)
    links = table.locator("a.download")
    assert links.count() == len(expected), text
    for name, (data, media) in expected.items():
        row = table.locator("tbody tr:not(.preview-row)", has_text=name)
        href = row.locator("a.download").get_attribute("href")
        assert href.startswith(f"/cases/{code}/documents/"), href
        # The preview, in the page.
        details = table.locator("details.doc-preview", has=p.locator("summary", has_text=name))
        details.locator("summary").click()
        assert details.evaluate("d => d.open")
        framed = "iframe" if media == "application/pdf" else "img"
        inner = details.locator(framed)
        assert inner.get_attribute("src") == href + "?inline=1"
        assert inner.is_visible()
        if framed == "img":
            p.wait_for_function("i => i.complete && i.naturalWidth > 0", arg=inner.element_handle())
        r = w.context.request.get(w.base + href + "?inline=1")
        assert r.status == 200 and r.headers["content-type"] == media, (r.status, r.headers)
        assert r.headers["content-disposition"].startswith("inline"), r.headers
        # The download, with the session's cookies.
        r = w.context.request.get(w.base + href)
        assert r.status == 200, (href, r.status)
        assert r.headers["content-type"] == media, r.headers
        assert r.headers["content-disposition"].startswith("attachment"), r.headers
        assert r.body() == data


def test_5_documents_filed_online_previewed_by_staff_and_the_result_downloaded(server_factory, browser, tmp_path):
    s = server_factory()
    s.user("dan", "citizen", full_name="Nguyễn Văn An")
    s.user("letan", "clerk", BA_DINH_CENTRE, full_name="Lễ Tân Ba Đình")
    s.user("canbo", "clerk", BA_DINH_PC, full_name="Cán Bộ Ba Đình")
    s.user("truong", "unit_head", BA_DINH_PC, full_name="Trưởng Ba Đình")
    form_pdf, birth_png, result_pdf = pdf_bytes("to khai"), png_bytes(), pdf_bytes("quyet dinh")
    files = {"to-khai.pdf": form_pdf, "giay-chung-sinh.png": birth_png, "ket-qua.pdf": result_pdf}
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)

    w = Watch(browser, s.base)
    p = w.page
    # The citizen files online, choosing a file for each component (each uploaded at once).
    w.login("dan")
    p.goto(f"{s.base}/procedures/1.001193/file")
    docs = p.locator("#documents")
    assert docs.locator("label[for=file-to_khai]").inner_text().endswith("*")
    assert docs.locator("label[for=file-giay_chung_sinh]").inner_text().endswith("*")
    p.select_option("#province", HN)
    p.locator(f"#ward option[value='{BA_DINH}']").wait_for(state="attached")
    p.select_option("#ward", BA_DINH)
    p.fill("#full_name", "Nguyễn Văn An")
    p.fill("#id_number", ID_NUMBER)
    p.fill("#phone", "0912345678")
    p.fill("#details", "Đăng ký khai sinh cho con")
    p.set_input_files("#file-to_khai", str(tmp_path / "to-khai.pdf"))
    p.locator("#up-to_khai .uploaded").wait_for()
    assert "to-khai.pdf" in p.locator("#up-to_khai").inner_text()
    p.set_input_files("#file-giay_chung_sinh", str(tmp_path / "giay-chung-sinh.png"))
    # The second upload too (each sends its own file only).
    second = p.locator("#up-giay_chung_sinh")
    p.wait_for_function("e => e.textContent.trim() !== ''", arg=second.element_handle())
    assert second.locator(".uploaded").count() == 1, f"the second file was refused: {second.inner_text()}"
    assert "giay-chung-sinh.png" in second.inner_text()
    assert p.locator("input[type=hidden][name=doc_to_khai]").count() == 1
    assert p.locator("input[type=hidden][name=doc_giay_chung_sinh]").count() == 1
    with p.expect_navigation():
        p.click("#submit-dossier")
    assert p.locator("#case-done").is_visible(), p.locator("main").inner_text()[:2000]
    code = p.locator("#case-code").inner_text()
    assert "Còn thiếu" not in p.locator("section[aria-labelledby=h-docs]").inner_text()
    w.logout()

    components = {"to-khai.pdf": (form_pdf, "application/pdf"), "giay-chung-sinh.png": (birth_png, "image/png")}
    # Reception opens the files, then receives: nothing mandatory is missing.
    w.login("letan")
    p.goto(f"{s.base}/cases/{code}")
    open_files(w, code, components)
    act(p, "receive")
    assert p.locator("#case-status").inner_text() != "Mới nộp, chờ tiếp nhận"
    w.logout()

    # The commune clerk claims it, opens the files and works it; the head approves.
    w.login("canbo")
    p.locator("tr", has_text=code).locator("button", has_text="Nhận xử lý").click()
    p.locator("tr", has_text=code).locator("td", has_text="tôi").wait_for()
    p.goto(f"{s.base}/cases/{code}")
    open_files(w, code, components)
    act(p, "start_processing")
    act(p, "send_for_approval")
    w.logout()
    w.login("truong")
    p.goto(f"{s.base}/cases/{code}")
    act(p, "approve")
    w.logout()

    # The clerk returns the result electronically: not without its file.
    w.login("canbo")
    p.goto(f"{s.base}/cases/{code}")
    form = p.locator("#action-return_result")
    form.locator("[name=result_delivery]").select_option("electronic")
    with p.expect_navigation():
        form.locator("button[type=submit]").click()
    assert p.locator("#case-error").is_visible(), p.locator("main").inner_text()[:2000]
    assert p.locator("#case-status").inner_text() == "Đã có kết quả"
    p.goto(f"{s.base}/cases/{code}")
    attach = p.locator("form#attach-form")
    attach.locator("#attach-kind").select_option(label="Kết quả giải quyết")
    attach.locator("#attach-file").set_input_files(str(tmp_path / "ket-qua.pdf"))
    with p.expect_navigation():
        attach.locator("button[type=submit]").click()
    assert p.locator("#case-done").is_visible(), p.locator("main").inner_text()[:2000]
    assert "ket-qua.pdf" in p.locator("table.docs").inner_text()
    act(p, "return_result", result_delivery="electronic")
    assert p.locator("#case-status").inner_text() == "Đã trả kết quả"
    w.logout()

    # The citizen sees the result among the dossier's files and downloads it.
    w.login("dan")
    p.goto(s.base + "/me/cases")
    with p.expect_navigation():
        p.locator("#my-cases a", has_text=code).first.click()
    assert p.locator("#case-code").inner_text() == code
    row = p.locator("table.docs tbody tr:not(.preview-row)", has_text="ket-qua.pdf")
    assert row.count() == 1, p.locator("table.docs").inner_text()
    assert "Kết quả giải quyết" in row.inner_text()
    with p.expect_download() as d:
        row.locator("a.download").click()
    assert d.value.suggested_filename == "ket-qua.pdf"
    assert open(d.value.path(), "rb").read() == result_pdf
    w.shot("portal-5")
    w.check_clean()
    w.close()
