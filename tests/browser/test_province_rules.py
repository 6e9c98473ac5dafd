"""Issue 21 end to end: a citizen files at another commune's centre (Decree 118/2025/NĐ-CP:
receipt and return anywhere in the province for the procedures on its list), pays the fee
online, collects the result there and rates the service; the supervisor's Decision 766
scorecard moves."""

from conftest import BA_DINH_PC, HN, PASSWORD, Watch, act, pdf_bytes

NGOC_HA_CENTRE = "01.00008.TTPVHCC"
# Civil-status extract copy: commune level, 8,000 đồng, boundary-independent.
EXTRACT = "2.000635"


def scorecard(p, base):
    p.goto(f"{base}/dashboard?province={HN}")
    total = float(p.locator("#scorecard-total").inner_text())
    rows = {
        r.get_attribute("data-indicator"): r.inner_text()
        for r in p.locator("#scorecard tr[data-indicator]").all()
    }
    return total, rows


def api_act(s, username, code, action, **body):
    token = s.token(username)
    status, case = s.api("GET", f"/api/v1/cases/{code}", token=token)
    assert status == 200, case
    status, out = s.api(
        "POST", f"/api/v1/cases/{code}/actions/{action}", dict(body, version=case["version"]), token
    )
    assert status == 200, (action, out)


def test_a_citizen_files_elsewhere_pays_online_collects_and_rates(server_factory, browser):
    s = server_factory()
    s.user("giam_sat", "supervisor", province=HN)
    s.user("le_tan_ngoc_ha", "clerk", NGOC_HA_CENTRE, full_name="Lễ Tân Ngọc Hà")
    s.user("can_bo", "clerk", BA_DINH_PC)
    s.user("truong", "unit_head", BA_DINH_PC)
    w = Watch(browser, s.base)
    p = w.page

    w.login("giam_sat")
    before, rows = scorecard(p, s.base)
    assert set(rows) >= {"1.1", "2.1", "3.6", "5.4"}, rows
    assert p.locator("#scorecard tr.score-group").count() == 5
    w.logout()

    # The citizen lives in Ba Đình and files at Ngọc Hà's centre, collecting there too.
    p.goto(s.base + "/register")
    p.fill("#username", "cong_dan")
    p.fill("#password", PASSWORD)
    p.fill("#full_name", "Trần Thị Bình")
    p.fill("#phone", "0912345678")
    with p.expect_navigation():
        p.click("form[action='/register'] button[type=submit]")
    p.goto(f"{s.base}/procedures/{EXTRACT}/file")
    p.select_option("#province", label="Thành phố Hà Nội")
    p.locator("#ward option", has_text="Phường Ba Đình").wait_for(state="attached")
    p.select_option("#ward", label="Phường Ba Đình")
    p.locator("#places").wait_for()
    assert "8.000" in p.locator("#fee").inner_text()
    assert "không phụ thuộc địa giới" in p.locator("#places").inner_text()
    p.select_option("#received_at_unit", NGOC_HA_CENTRE)
    p.select_option("#result_point", NGOC_HA_CENTRE)
    p.fill("#payment_reference", "PAYGOV-2026-000777")
    p.fill("#id_number", "001203004567")
    p.set_input_files(
        "#file-to_khai",
        files=[{"name": "to_khai.pdf", "mimeType": "application/pdf", "buffer": pdf_bytes("to khai")}],
    )
    p.locator("#up-to_khai .uploaded").wait_for()
    w.shot("rules-1-file")
    with p.expect_navigation():
        p.click("#submit-dossier")
    assert p.locator("#case-done").is_visible(), p.locator("main").inner_text()[:2000]
    code = p.locator("#case-code").inner_text()
    assert code.startswith(NGOC_HA_CENTRE + "-"), code
    facts = p.locator("#h-facts + dl").inner_text()
    assert "Ủy ban nhân dân Phường Ba Đình" in facts, facts
    assert "Ngọc Hà" in facts
    receipts = p.locator("#receipts").inner_text()
    assert "PAYGOV-2026-000777" in receipts and "8.000" in receipts, receipts
    w.logout()

    # Ngọc Hà's counter receives it; Ba Đình decides; Ngọc Hà returns the result.
    w.login("le_tan_ngoc_ha")
    p.goto(f"{s.base}/cases/{code}")
    act(p, "receive")
    w.logout()
    api_act(s, "can_bo", code, "claim")
    api_act(s, "can_bo", code, "start_processing")
    api_act(s, "can_bo", code, "send_for_approval")
    api_act(s, "truong", code, "approve")
    w.login("le_tan_ngoc_ha")
    p.goto(f"{s.base}/cases/{code}")
    act(p, "return_result", result_delivery="in_person")
    w.logout()

    # The citizen rates the service, once.
    w.login("cong_dan")
    p.goto(f"{s.base}/cases/{code}")
    p.check("#rating-form input[name=rating][value='5']")
    p.fill("#rating-comment", "Nhanh, thuận tiện")
    with p.expect_navigation():
        p.click("#rate")
    assert p.locator("#rated").inner_text() == "5/5"
    assert p.locator("#rating-form").count() == 0
    w.shot("rules-2-rated")
    w.logout()

    # The supervisor's scorecard moved: on time, paid online, satisfied.
    w.login("giam_sat")
    after, rows = scorecard(p, s.base)
    assert after > before, (before, after)
    assert "100.0 %" in rows["2.1"], rows["2.1"]
    assert "100.0 %" in rows["3.6"], rows["3.6"]
    assert "100.0 %" in rows["5.4"], rows["5.4"]
    proposals = p.locator("#h-rebalancing").count()
    assert proposals == 1
    w.shot("rules-3-scorecard")
    w.check_clean()
    w.close()
