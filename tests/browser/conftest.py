"""Browser tests: the debug binary on a fresh SQLite database per scenario, driven through
headless Chromium (Debian's) by Playwright. Run by `.ci/browser`; screenshots of each
scenario's last page land in target/browser/."""

import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request
import uuid
import struct
import zlib
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(os.environ.get("MOTCUA_BIN", ROOT / "target" / "debug" / "motcua"))
SHOTS = ROOT / "target" / "browser"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
PASSWORD = "Mat-khau-rat-dai-2025"

# Hà Nội, Phường Ba Đình: its service centre receives, its People's Committee handles.
HN = "01"
BA_DINH = "00004"
BA_DINH_CENTRE = "01.00004.TTPVHCC"
BA_DINH_PC = "01.00004.UBND"
NGOC_HA_PC = "01.00008.UBND"
BIRTH = "1.001193"
# Its mandatory components: without a file for each, a dossier cannot be received.
BIRTH_COMPONENTS = ["to_khai", "giay_chung_sinh"]


def pdf_bytes(label="motcua"):
    """A small, valid PDF (the store checks a file's type by its bytes); `label` makes the
    bytes of two files differ."""
    return (
        b"%PDF-1.4\n% " + label.encode() + b"\n"
        b"1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
        b"2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n"
        b"trailer << /Root 1 0 R >>\n%%EOF\n"
    )


def png_bytes(width=2, height=2, rgb=(200, 30, 30)):
    """A tiny, valid PNG."""

    def chunk(tag, data):
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    raw = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def multipart_body(fields, file_name, data, content_type):
    """A multipart/form-data body: the text fields, then the one file (field `file`)."""
    boundary = f"----motcua{uuid.uuid4().hex}"
    out = b""
    for k, v in fields.items():
        out += f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
    out += (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{file_name}"\r\n'
        f"Content-Type: {content_type}\r\n\r\n"
    ).encode()
    out += data + f"\r\n--{boundary}--\r\n".encode()
    return out, f"multipart/form-data; boundary={boundary}"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def template_db(tmp_path_factory):
    """A database migrated and seeded once; each scenario starts on its own copy."""
    d = tmp_path_factory.mktemp("template")
    db = d / "template.db"
    env = dict(os.environ, MOTCUA__LOG__LEVEL="warn")
    subprocess.run(
        [str(BIN), "--database-url", f"sqlite://{db}?mode=rwc", "migrate"],
        check=True,
        env=env,
        cwd=ROOT,
    )
    return db


class Server:
    def __init__(self, db, env, log):
        self.db = db
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.url = f"sqlite://{db}?mode=rwc"
        full_env = dict(
            os.environ,
            MOTCUA__LOG__LEVEL="warn",
            MOTCUA__LOG__FORMAT="json",
            MOTCUA__SERVER__SHUTDOWN_GRACE_SECS="1",
            **env,
        )
        self.env = full_env
        self.log = open(log, "w")
        self.proc = subprocess.Popen(
            [str(BIN), "--database-url", self.url, "serve", "--bind", f"127.0.0.1:{self.port}", "--no-migrate"],
            env=full_env,
            cwd=ROOT,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(self.base + "/healthz", timeout=1):
                    return
            except OSError:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"server exited: see {log}")
                time.sleep(0.2)
        raise RuntimeError("server did not start")

    def user(self, username, role, unit=None, province=None, full_name=None):
        args = [str(BIN), "--database-url", self.url, "user", "create", "--username", username, "--role", role, "--password-stdin"]
        if unit:
            args += ["--unit", unit]
        if province:
            args += ["--province", province]
        args += ["--full-name", full_name or username]
        subprocess.run(args, input=PASSWORD.encode(), check=True, env=self.env, cwd=ROOT, capture_output=True)
        return username

    def api(self, method, path, body=None, token=None, headers=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data, method=method)
        req.add_header("Accept", "application/json")
        if data is not None:
            req.add_header("Content-Type", "application/json")
        if token:
            req.add_header("Authorization", f"Bearer {token}")
        for k, v in (headers or {}).items():
            req.add_header(k, v)
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status, json.loads(r.read() or b"null")
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"null")

    def upload(self, token, file_name, data, content_type="application/pdf", path="/api/v1/uploads", **fields):
        """POST a file as multipart/form-data (an upload before filing, or with `path` an
        attachment to a dossier)."""
        body, ctype = multipart_body(fields, file_name, data, content_type)
        req = urllib.request.Request(self.base + path, data=body, method="POST")
        req.add_header("Accept", "application/json")
        req.add_header("Content-Type", ctype)
        req.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status, json.loads(r.read() or b"null")
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"null")

    def token(self, username):
        status, body = self.api("POST", "/api/v1/auth/login", {"username": username, "password": PASSWORD})
        assert status == 200, body
        return body["access_token"]

    def file_online(self, citizen, components=BIRTH_COMPONENTS, procedure=BIRTH):
        """A citizen files a birth registration (or `procedure`) online at Ba Đình (through
        the API), with a PDF for each of `components` (by default every mandatory one of a
        birth registration) uploaded first, as the portal does."""
        token = self.token(citizen)
        documents = []
        for kind in components:
            status, up = self.upload(token, f"{kind}.pdf", pdf_bytes(kind))
            assert status == 201, up
            documents.append({"kind": kind, "upload_id": up["id"]})
        body = {
            "procedure_code": procedure,
            "applicant": {"full_name": "Nguyễn Văn An", "id_number": "001203004567", "phone": "0912345678"},
            "address": {"ward_code": BA_DINH},
            "form": {"child_name": "Nguyễn Văn Bình"},
            "documents": documents,
        }
        status, case = self.api("POST", "/api/v1/cases", body, token, {"Idempotency-Key": f"k-{time.time_ns()}"})
        assert status == 201, case
        return case["code"]

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


@pytest.fixture
def server_factory(template_db, tmp_path):
    servers = []

    def make(**env):
        db = tmp_path / f"s{len(servers)}.db"
        # The database with its write-ahead log and key, whatever was not checkpointed.
        for suffix in ["", "-wal", "-shm", ".jwt.key"]:
            src = Path(str(template_db) + suffix)
            if src.exists():
                shutil.copy(src, Path(str(db) + suffix))
        s = Server(db, env, tmp_path / f"server{len(servers)}.log")
        servers.append(s)
        return s

    yield make
    for s in servers:
        s.stop()


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield b
        b.close()


class Watch:
    """A browser context that records CSP violations, page errors and requests that left
    the machine."""

    def __init__(self, browser, base, block_outside=True, viewport=None):
        self.context = browser.new_context(viewport=viewport or {"width": 1280, "height": 900}, locale="en-US")
        self.problems = []
        self.outside = []
        self.base = base
        if block_outside:
            def route(r):
                url = r.request.url
                # The browser's own resources (its PDF viewer, in a preview's frame) stay on
                # the machine too.
                if url.startswith((base, "data:", "blob:", "chrome://", "chrome-extension://")):
                    r.continue_()
                else:
                    self.outside.append(url)
                    r.abort()
            self.context.route("**/*", route)
        self.page = self.context.new_page()
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))

    def _console(self, msg):
        if msg.type == "error" and ("Content Security Policy" in msg.text or "Refused to" in msg.text):
            self.problems.append(msg.text)

    def login(self, username, password=PASSWORD):
        p = self.page
        if "/login" not in p.url:
            p.goto(self.base + "/login")
        p.fill("#username", username)
        p.fill("#password", password)
        with p.expect_navigation():
            p.click("form[action='/login'] button[type=submit]")

    def logout(self):
        with self.page.expect_navigation():
            self.page.click("form[action='/logout'] button")

    def shot(self, name):
        SHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)

    def check_clean(self):
        assert not self.problems, self.problems
        assert not self.outside, f"requests left the machine: {self.outside}"

    def close(self):
        self.context.close()


def act(page, action, **fields):
    """Press an action's button on the dossier page, filling its fields first."""
    form = page.locator(f"#action-{action}")
    for name, value in fields.items():
        el = form.locator(f"[name={name}]")
        if el.evaluate("e => e.tagName") == "SELECT":
            el.select_option(value)
        else:
            el.fill(value)
    # The form posts and the server redirects back to the page: wait for that navigation
    # itself (a bare wait_for_load_state may return on the old page, already loaded).
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    assert page.locator("#case-done").is_visible(), page.locator("main").inner_text()


CONTRAST_JS = """() => {
  // WCAG 2.1 contrast of every element's own text against the first opaque background
  // behind it; AA asks 4.5:1, or 3:1 for large text (24 px, or 18.66 px bold).
  const parse = c => { const m = c.match(/rgba?\\(([^)]+)\\)/); if (!m) return null;
    const p = m[1].split(',').map(x => parseFloat(x)); return {r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1}; };
  const lum = c => { const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b); };
  const bg = el => { for (let e = el; e; e = e.parentElement) { const c = parse(getComputedStyle(e).backgroundColor);
    if (c && c.a >= 0.99) return c; } return {r: 255, g: 255, b: 255, a: 1}; };
  const out = [];
  for (const el of document.querySelectorAll('body *')) {
    if (['SCRIPT', 'STYLE', 'svg', 'SVG', 'OPTION'].includes(el.tagName) || el.closest('svg')) continue;
    const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
    if (!own || !el.getClientRects().length) continue;
    const s = getComputedStyle(el);
    if (s.visibility === 'hidden' || parseFloat(s.opacity) === 0) continue;
    const fg = parse(s.color), b = bg(el);
    const l1 = lum(fg), l2 = lum(b);
    const ratio = (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05);
    const size = parseFloat(s.fontSize), bold = parseInt(s.fontWeight) >= 700;
    const need = (size >= 24 || (bold && size >= 18.66)) ? 3 : 4.5;
    if (ratio < need) out.push(`${el.tagName}.${el.className} "${el.textContent.trim().slice(0, 30)}" ${ratio.toFixed(2)} < ${need}`);
  }
  return out;
}"""


def contrast_failures(page):
    """Text on the page below WCAG AA contrast."""
    return page.evaluate(CONTRAST_JS)
