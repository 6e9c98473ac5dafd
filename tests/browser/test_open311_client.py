"""Issue 24 §2: the Open311 GeoReport v2 facade read by a real Open311 client library from
PyPI (`georeport`, installed by .ci/browser), in JSON and in XML, after a plain form POST
files a request with an API key made by `motcua open311 key create`. No browser: it reuses
this folder's server fixture."""

import json
import subprocess
import urllib.error
import urllib.parse
import urllib.request

import pytest
from conftest import BIN, ROOT

import georeport  # noqa: E402  (installed by .ci/browser)

MARITAL = "1.004873"


def form_post(base, path, fields):
    data = urllib.parse.urlencode(fields).encode()
    req = urllib.request.Request(base + path, data=data, method="POST")
    req.add_header("Content-Type", "application/x-www-form-urlencoded")
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.headers.get("Content-Type"), r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type"), e.read()


def test_a_city_app_files_by_form_and_a_georeport_client_reads_it_back(server_factory):
    s = server_factory()
    out = subprocess.run(
        [str(BIN), "--database-url", s.url, "open311", "key", "create", "--name", "Ứng dụng phản ánh Hà Nội"],
        env=s.env, cwd=ROOT, capture_output=True, check=True,
    )
    # The key is the last line (the log may write before it).
    key = out.stdout.decode().strip().splitlines()[-1]
    assert key.startswith("o311_"), out

    # A plain form POST, with a pre-2025 address as the applicant knows it.
    status, ctype, body = form_post(s.base, "/open311/v2/requests.json", {
        "api_key": key,
        "service_code": MARITAL,
        "address_string": "Phường Phúc Xá, Quận Ba Đình, Hà Nội",
        "first_name": "An",
        "last_name": "Nguyễn Văn",
        "phone": "0912345678",
        "description": "Xin cấp giấy xác nhận tình trạng hôn nhân",
        "attribute[id_number]": "001203004567",
    })
    assert status == 201, body
    created = json.loads(body)
    code = created[0]["service_request_id"]
    assert code.startswith("01.") and created[0]["token"] == code

    # Errors are the spec's, in JSON and in XML.
    status, ctype, body = form_post(s.base, "/open311/v2/requests.xml", {"service_code": MARITAL, "lat": "21.04", "long": "105.84"})
    assert status == 403 and ctype.startswith("text/xml"), body
    assert b"<errors><error><code>403</code>" in body
    status, ctype, body = form_post(s.base, "/open311/v2/requests.json", {"api_key": key, "service_code": MARITAL, "lat": "21.04", "long": "105.84", "first_name": "An"})
    assert status == 400 and json.loads(body)[0]["code"] == 400
    assert "geocode" in json.loads(body)[0]["description"]

    for fmt in ("json", "xml"):
        client = georeport.GeoReport(f"{s.base}/open311/v2", output_format=fmt)
        services = client.get_service_list()
        codes = [x["service_code"] for x in services]
        assert MARITAL in codes, codes
        definition = client.get_service_definition(MARITAL)
        assert definition["service_code"] == MARITAL
        requests = client.get_service_requests()
        if isinstance(requests, dict):  # xmltodict: one element is not a list
            requests = [requests]
        mine = [r for r in requests if r["service_request_id"] == code]
        assert len(mine) == 1, requests
        assert mine[0]["status"] == "open" and mine[0]["service_code"] == MARITAL
        one = client.get_service_request(code)
        assert one["service_request_id"] == code
        # Phúc Xá (Ba Đình district before 2025) is Phường Hồng Hà's now: its committee handles it.
        assert one["agency_responsible"] == "Ủy ban nhân dân Phường Hồng Hà", one
        assert one["address_id"] == "00097"
        # No personal data in the public reads.
        text = json.dumps(one, ensure_ascii=False)
        assert "Nguyễn Văn" not in text and "0912345678" not in text and "001203004567" not in text
        if fmt == "json":
            # (The client cannot read an empty XML list: xmltodict gives it no `request`.)
            assert client.get_service_requests(status="closed") == []

    s.stop()
