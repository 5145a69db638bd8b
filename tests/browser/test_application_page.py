"""The hosted application page in a real browser: headless Chromium, driven by Selenium, on
the real server in a subprocess. The contractor opens the session's `url`, reads the coverage,
accepts or declines, and lands on the platform's own site (a tiny local HTTP server here)."""

from __future__ import annotations

import re
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

pytest.importorskip("selenium", reason="selenium is not installed (pip install selenium)")

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions as EC  # noqa: N812
from selenium.webdriver.support.ui import WebDriverWait

from server.pdf.layout import format_money
from tests.conftest import new_contractor, new_entity, new_job
from tests.live import LiveServer

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium")
CHROMEDRIVER = shutil.which("chromedriver")
if CHROMIUM is None or CHROMEDRIVER is None:
    pytest.skip(
        "needs Chromium and its driver on PATH (apt-get install chromium chromium-driver): "
        f"chromium={CHROMIUM}, chromedriver={CHROMEDRIVER}",
        allow_module_level=True,
    )

WAIT = 20  # seconds: page loads, redirects and the bind behind Accept
WELCOME = "Welcome back"


# The platform's own site, where success_url and cancel_url point.


@dataclass
class ReturnSite:
    base_url: str
    visits: list[str]  # the pages the browser asked for, in order (not /favicon.ico)

    @property
    def success_url(self) -> str:
        return f"{self.base_url}/success"

    @property
    def cancel_url(self) -> str:
        return f"{self.base_url}/cancel"


def _handler(visits: list[str]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if path != "/favicon.ico":  # the browser asks for it on its own, at any time
                visits.append(path)
            if path not in ("/success", "/cancel"):
                self.send_error(404)
                return
            body = (
                f"<!doctype html><html><head><title>Platform</title></head><body>"
                f'<h1 id="welcome">{WELCOME}</h1><p id="landed">{path[1:]}</p></body></html>'
            ).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args) -> None:
            pass  # keep the test output clean

    return Handler


@pytest.fixture(scope="module")
def return_site() -> Iterator[ReturnSite]:
    visits: list[str] = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(visits))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield ReturnSite(base_url=f"http://127.0.0.1:{httpd.server_address[1]}", visits=visits)
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=10)


# The run's shared server, its API with a key of this module's own, and the browser.


@pytest.fixture(scope="module")
def server(live_server) -> LiveServer:
    return live_server


@pytest.fixture(scope="module")
def api(server) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {server.new_key()}"}
    with httpx.Client(base_url=server.base_url, headers=headers, timeout=30) as client:
        yield client


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage"):
        options.add_argument(argument)
    # Chromium calls home (updates, sync, sign-in) unless told not to; and no host resolves but
    # this machine, so that whatever it still tries never leaves it.
    for argument in (
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE localhost , EXCLUDE 127.0.0.1",
    ):
        options.add_argument(argument)
    options.add_argument("--window-size=1280,900")
    with pytest.MonkeyPatch.context() as patch:
        # Both paths are given, so Selenium Manager is never run; were it run, stay offline.
        patch.setenv("SE_OFFLINE", "true")
        driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(WAIT)
    try:
        yield driver
    finally:
        driver.quit()


def _created(response: httpx.Response) -> dict:
    assert response.status_code == 201, response.text
    return response.json()


@dataclass(frozen=True)
class Applicant:
    contractor: dict
    entity: dict
    job: dict
    quote: dict


def _underwrite(api: httpx.Client, tag: str) -> Applicant:
    """An entity, a job, a contractor and an eligible general-liability quote, named for
    `tag` so each test's page shows its own names."""
    entity = _created(api.post("/entities", json=new_entity(name=f"Harbor Garage {tag}")))
    job = _created(api.post("/jobs", json=new_job(entity["id"], name=f"Brake specialist {tag}")))
    contractor = _created(
        api.post(
            "/contractors",
            json=new_contractor(first_name="Ada", last_name=f"Lovelace{tag}"),
        )
    )
    quote = _created(
        api.post(
            "/quotes",
            json={"contractor": contractor["id"], "job": job["id"], "coverage_type": ["general"]},
        )
    )
    assert quote["eligible"] is True, quote.get("eligibility_message")
    return Applicant(contractor=contractor, entity=entity, job=job, quote=quote)


def _open_session(api: httpx.Client, server: LiveServer, quote: dict, site: ReturnSite) -> dict:
    session = _created(
        api.post(
            "/apply/sessions",
            json={
                "quote": quote["id"],
                "success_url": site.success_url,
                "cancel_url": site.cancel_url,
            },
        )
    )
    origin = server.base_url.removesuffix("/api/v1")
    assert session["url"] == f"{origin}/apply/{session['id']}"
    assert session["status"] == "open" and session["policy"] is None
    return session


def _text(browser: WebDriver, element_id: str) -> str:
    return browser.find_element(By.ID, element_id).text.strip()


def _land(browser: WebDriver, url: str) -> None:
    """Wait until the browser is on `url` and the platform's page has rendered."""
    WebDriverWait(browser, WAIT).until(EC.url_to_be(url))
    WebDriverWait(browser, WAIT).until(
        EC.text_to_be_present_in_element((By.ID, "welcome"), WELCOME)
    )


def _show_application(browser: WebDriver, session: dict) -> None:
    browser.get(session["url"])
    WebDriverWait(browser, WAIT).until(EC.presence_of_element_located((By.TAG_NAME, "h1")))


def test_accept_binds_the_policy_and_lands_on_success_url(browser, api, server, return_site):
    applicant = _underwrite(api, "Accept")
    session = _open_session(api, server, applicant.quote, return_site)

    _show_application(browser, session)
    assert _text(browser, "contractor") == f"Ada {applicant.contractor['last_name']}"
    assert _text(browser, "job") == applicant.job["name"]
    assert _text(browser, "entity") == applicant.entity["name"]
    rate = _text(browser, "rate")
    assert rate == f"{format_money(applicant.quote['net_rate'])} per $100 earned"
    assert re.fullmatch(r"\$\d[\d,]*\.\d\d per \$100 earned", rate)
    assert applicant.quote["net_rate"] > 0
    assert _text(browser, "period").endswith("(UTC)")
    assert browser.find_elements(By.ID, "refusal") == []

    accept = WebDriverWait(browser, WAIT).until(EC.element_to_be_clickable((By.ID, "accept")))
    accept.click()
    _land(browser, return_site.success_url)
    assert return_site.visits[-1] == "/success"

    completed = api.get(f"/apply/sessions/{session['id']}")
    assert completed.status_code == 200, completed.text
    completed = completed.json()
    assert completed["status"] == "complete"
    assert re.fullmatch(r"pl_[A-Za-z0-9]+", completed["policy"] or "")

    policy = api.get(f"/policies/{completed['policy']}")
    assert policy.status_code == 200, policy.text
    policy = policy.json()
    assert policy["status"] == "active"
    assert policy["quote"] == applicant.quote["id"]


def test_decline_lands_on_cancel_url_and_leaves_the_session_open(browser, api, server, return_site):
    applicant = _underwrite(api, "Decline")
    session = _open_session(api, server, applicant.quote, return_site)

    _show_application(browser, session)
    assert _text(browser, "contractor") == f"Ada {applicant.contractor['last_name']}"
    assert _text(browser, "job") == applicant.job["name"]

    decline = WebDriverWait(browser, WAIT).until(EC.element_to_be_clickable((By.ID, "decline")))
    decline.click()
    _land(browser, return_site.cancel_url)
    assert return_site.visits[-1] == "/cancel"

    after = api.get(f"/apply/sessions/{session['id']}")
    assert after.status_code == 200, after.text
    after = after.json()
    assert after["status"] == "open"
    assert after["policy"] is None


def test_a_completed_session_shows_its_outcome(browser, api, server, return_site):
    applicant = _underwrite(api, "Twice")
    session = _open_session(api, server, applicant.quote, return_site)
    # The contractor accepts once (a plain form post, as the page's form sends it)...
    accepted = httpx.post(f"{session['url']}/accept", timeout=30)
    assert accepted.status_code == 303, accepted.text
    assert accepted.headers["location"] == return_site.success_url
    done = api.get(f"/apply/sessions/{session['id']}").json()
    assert done["status"] == "complete"
    # ... accepts again (a double click): the same success, back to the platform...
    again = httpx.post(f"{session['url']}/accept", timeout=30)
    assert (again.status_code, again.headers["location"]) == (303, return_site.success_url)

    # ... then opens the link again: the page says the coverage is bound.
    _show_application(browser, session)
    outcome = WebDriverWait(browser, WAIT).until(
        EC.visibility_of_element_located((By.ID, "refusal"))
    )
    assert outcome.get_attribute("data-error-code") == "complete"
    assert done["policy"] in outcome.text
    assert browser.find_elements(By.ID, "accept") == []
    assert browser.find_elements(By.ID, "decline") == []
    back = browser.find_elements(By.ID, "back")
    assert [link.get_attribute("href") for link in back] == [return_site.success_url]
