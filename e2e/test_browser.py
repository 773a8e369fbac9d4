"""A real browser (headless Chromium) on another origin than the API proves the cookie-mode set-up:
CORS with credentials, the HttpOnly `SameSite=None; Secure` refresh cookie, logout, and that the
browser enforces CORS_ALLOWED_ORIGINS. The page is e2e/browser/auth_flow.html."""

import contextlib
import html
import http.server
import json
import re
import secrets
import subprocess
import tempfile
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest

from e2e import chromium as browsers
from e2e.conftest import DEMO_PASSWORD
from tools.procs import free_port

PAGE = Path(__file__).parent / "browser" / "auth_flow.html"
# Under the refresh cookie's path (/api/auth/): were the cookie not HttpOnly, document.cookie on a
# page that shares the API's host would show it.
PAGE_PATH = "/api/auth/flow.html"
EMAIL = "student1@example.com"
BROWSER_TIMEOUT = 30  # seconds for one page; a run takes about 1.5 s

# Chromium's third-party cookie setting (preference profile.cookie_controls_mode). Debian's
# chromium blocks third-party cookies by default (debian/patches/disable/third-party-cookies.patch;
# Safari and Brave do the same), Google Chrome blocks them only in incognito. There is no
# command-line flag for it, so each run seeds its fresh profile with the value it tests, which
# keeps the outcome independent of the Chromium build.
THIRD_PARTY_COOKIES_BLOCKED = 1  # CookieControlsMode::kBlockThirdParty
THIRD_PARTY_COOKIES_ALLOWED = 2  # CookieControlsMode::kIncognitoOnly, Chrome's default

# Cross-site to https://localhost:<api port>: the refresh cookie is a third-party cookie there and
# only SameSite=None lets the browser store and send it. http://127.0.0.1 is loopback, hence still
# a secure context, and the cookie itself only travels on the HTTPS connection to the API, so both
# behave alike; https:// is the shape of a real frontend on another site.
CROSS_SITE_ORIGINS = {
    "cross-site-https": "https://127.0.0.1:{port}",
    "cross-site-http-loopback": "http://127.0.0.1:{port}",
}


@pytest.fixture(scope="module")
def chromium() -> str:
    return browsers.chromium_path()


@pytest.fixture(scope="module")
def certificate_spki(edge) -> str:
    return browsers.certificate_spki(edge.certificate)


@contextlib.contextmanager
def frontend(origin: str, edge):
    """Serve the page at `origin` (HTTPS with the stack's certificate, which names both localhost
    and 127.0.0.1) from a thread, for as long as the block runs."""
    url = urlsplit(origin)
    page = PAGE.read_bytes()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            if urlsplit(self.path).path != PAGE_PATH:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, format, *args):
            pass

    certificate = edge.certificate if url.scheme == "https" else None
    with browsers.serve(Handler, url.port, certificate):
        yield


def page_result(chromium: str, spki: str, url: str, *, third_party_cookies: int) -> dict:
    """Load `url` in a fresh headless Chromium and return the JSON the page wrote into #result.

    --dump-dom with a virtual time budget waits for the page's fetches: virtual time stands still
    while a network request is pending, so the DOM is dumped once the chain of calls is done."""
    with tempfile.TemporaryDirectory(prefix="lms-e2e-chromium-", ignore_cleanup_errors=True) as tmp:
        profile = Path(tmp)
        (profile / "Default").mkdir()
        (profile / "Default" / "Preferences").write_text(
            json.dumps({"profile": {"cookie_controls_mode": third_party_cookies}})
        )
        command = browsers.command(
            chromium,
            profile=profile,
            spki=spki,
            url=url,
            extra=("--virtual-time-budget=10000", "--dump-dom"),
        )
        browser = browsers.start(command)
        try:
            dom, log = browser.communicate(timeout=BROWSER_TIMEOUT)
        except subprocess.TimeoutExpired:
            browsers.end(browser)
            browser.communicate()
            raise AssertionError(f"Chromium did not finish {url} in {BROWSER_TIMEOUT} s") from None
        finally:
            browsers.end(browser)
    match = re.search(r'<pre id="result">(.*?)</pre>', dom, re.DOTALL)
    assert match, f"no result in the dumped page; Chromium said:\n{log[-3000:]}"
    text = html.unescape(match.group(1))
    assert text != "running", "the DOM was dumped before the page's calls had finished"
    return json.loads(text)


@pytest.fixture
def open_page(edge, chromium, certificate_spki):
    """open_page(origin, third_party_cookies=..., run=...) serves the page at `origin`, loads it
    in Chromium against the stack and returns what the page saw."""

    def open_(origin: str, *, third_party_cookies: int, run: str = "") -> dict:
        query = urlencode(
            {"api": edge.base_url, "login": EMAIL, "password": DEMO_PASSWORD, "run": run}
        )
        with frontend(origin, edge):
            return page_result(
                chromium,
                certificate_spki,
                f"{origin}{PAGE_PATH}?{query}",
                third_party_cookies=third_party_cookies,
            )

    return open_


def allowed_origin(edge, template: str, port: int) -> str:
    origin = template.format(port=port)
    if origin not in edge.env["CORS_ALLOWED_ORIGINS"].split(","):
        pytest.skip(f"{origin} is not in CORS_ALLOWED_ORIGINS (set by e2e/conftest.py)")
    return origin


def assert_login_sets_the_refresh_cookie_only(edge, result: dict) -> None:
    login = result["login"]
    assert login.get("status") == 200, result
    assert login["body"]["user"]["email"] == EMAIL
    assert "access" in login["body"]
    assert "refresh" not in login["body"]  # cookie mode: the refresh token is only the cookie
    cookie_name = edge.env.get("AUTH_REFRESH_COOKIE_NAME", "refresh_token")
    assert cookie_name not in result["cookieAfterLogin"]  # HttpOnly: out of the page's reach


@pytest.mark.parametrize(
    ("page_origin", "third_party_cookies"),
    [
        # Another origin on the same site (ports do not count), as app.example.com and
        # api.example.com are: the cookie is first-party, so blocking third-party cookies does
        # not matter, and the strictest setting shows it.
        pytest.param("https://localhost:{port}", THIRD_PARTY_COOKIES_BLOCKED, id="same-site-https"),
        *(
            pytest.param(origin, THIRD_PARTY_COOKIES_ALLOWED, id=name)
            for name, origin in CROSS_SITE_ORIGINS.items()
        ),
    ],
)
def test_page_on_an_allowed_origin_refreshes_with_the_httponly_cookie_until_logout(
    edge, frontend_port, open_page, page_origin, third_party_cookies
):
    origin = allowed_origin(edge, page_origin, frontend_port)
    result = open_page(origin, third_party_cookies=third_party_cookies)

    # CORS with credentials: the page read the login response and the browser kept the cookie.
    assert_login_sets_the_refresh_cookie_only(edge, result)
    # A refresh with no body succeeds only if the browser sent the cookie on its own.
    refresh = result["refresh"]
    assert refresh.get("status") == 200, result
    assert set(refresh["body"]) == {"access"}
    assert refresh["body"]["access"] != result["login"]["body"]["access"]
    me = result["me"]
    assert me.get("status") == 200, result
    assert me["body"]["email"] == EMAIL
    # 204 means the browser sent the rotated refresh token: the consumed one would be refused.
    assert result["logout"].get("status") == 204, result
    # Logout's expiring Set-Cookie was honoured: the next refresh carries no token at all, and
    # is told to log in again...
    after = result["refreshAfterLogout"]
    assert after.get("status") == 401, result
    assert after["body"]["error"]["code"] == "not_authenticated"
    # ...and the session is gone on the server: the access token from before logout is refused.
    assert result["meAfterLogout"].get("status") == 401, result


@pytest.mark.parametrize("page_origin", CROSS_SITE_ORIGINS.values(), ids=CROSS_SITE_ORIGINS.keys())
def test_cross_site_page_keeps_no_refresh_cookie_where_third_party_cookies_are_blocked(
    edge, frontend_port, open_page, page_origin
):
    """Why a cookie-mode frontend belongs on the API's site: Debian's Chromium, Safari and Brave
    refuse a cross-site SameSite=None cookie, so login works but the session cannot be kept."""
    origin = allowed_origin(edge, page_origin, frontend_port)
    result = open_page(origin, third_party_cookies=THIRD_PARTY_COOKIES_BLOCKED)

    assert_login_sets_the_refresh_cookie_only(edge, result)
    refresh = result["refresh"]
    assert refresh.get("status") == 401, result
    assert refresh["body"]["error"]["code"] == "not_authenticated"  # no cookie came with it


def test_page_on_an_origin_outside_the_allow_list_cannot_read_the_login_response(edge, open_page):
    # Same scheme and host as the allowed frontend, another port: another origin all the same.
    origin = f"https://localhost:{free_port()}"
    assert origin not in edge.env["CORS_ALLOWED_ORIGINS"].split(",")
    run = secrets.token_hex(8)
    result = open_page(origin, third_party_cookies=THIRD_PARTY_COOKIES_ALLOWED, run=run)

    assert result["login"]["error"] == "TypeError", result  # what fetch does on a CORS failure
    assert "status" not in result["login"]
    # A JSON POST needs a preflight; its answer allowed no origin, so the browser never sent the
    # login itself: nginx saw this run's OPTIONS and nothing else.
    access_log = (edge.run_dir / "nginx" / "access.log").read_text()
    methods = re.findall(rf'"([A-Z]+) /api/auth/login/\?run={run} ', access_log)
    assert methods == ["OPTIONS"]
