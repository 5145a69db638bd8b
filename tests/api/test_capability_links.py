"""The links that are their own credential (`/files/<token>`, `/apply/<session id>`): whatever a
path holds, an unknown one is a 404 on every database, and every response tells browsers not to
guess its type."""

from __future__ import annotations

import pytest

from tests.conftest import bearer, bind, created, settings_from, underwrite

# A NUL, an undecodable byte, a quote, a space, an overlong value: none names anything.
ODD = ["%00", "abc%00def", "%ff", "%c3%28", "x'y", "a%20b", "A" * 200]


@pytest.mark.parametrize("value", ODD)
def test_an_odd_file_token_is_a_404(client, value):
    response = client.get(f"/files/{value}")
    assert response.status_code == 404
    assert response.json()["error_code"] == "resource_not_found"


@pytest.mark.parametrize("value", ODD)
@pytest.mark.parametrize(
    ("method", "suffix"), [("GET", ""), ("POST", "/accept"), ("POST", "/decline")]
)
def test_an_odd_session_id_is_the_not_found_page(client, value, method, suffix):
    response = client.request(method, f"/apply/{value}{suffix}")
    assert response.status_code == 404
    assert "not valid" in response.text


def test_every_kind_of_response_says_nosniff(client, sandbox_key, run_tasks):
    made = underwrite(client, sandbox_key)
    policy = bind(client, sandbox_key, made["quote"]["id"])
    run_tasks()
    pdf_url = client.get(f"/api/v1/policies/{policy['id']}", headers=bearer(sandbox_key)).json()[
        "pdf_url"
    ]
    session = created(
        client.post(
            "/api/v1/apply/sessions",
            json={"quote": underwrite(client, sandbox_key)["quote"]["id"]},
            headers=bearer(sandbox_key),
        )
    )
    responses = [
        client.get(pdf_url.removeprefix("http://testserver")),
        client.get(f"/apply/{session['id']}"),
        client.get("/api/v1/contractors", headers=bearer(sandbox_key)),
        client.get("/api/v1/contractors"),  # 401
        client.get("/files/unknown"),
    ]
    assert [r.status_code for r in responses] == [200, 200, 200, 401, 404]
    assert all(r.headers["x-content-type-options"] == "nosniff" for r in responses)


def _session_url(client, key, **headers) -> str:
    quote = underwrite(client, key)["quote"]["id"]
    response = client.post(
        "/api/v1/apply/sessions", json={"quote": quote}, headers=bearer(key, **headers)
    )
    return created(response)["url"]


def test_a_host_header_not_trusted_does_not_choose_the_links_host(client, sandbox_key):
    """Without TEN99_PUBLIC_URL, a link carries the request's Host only when TEN99_LINK_HOSTS
    names it or it is the address the request reached; otherwise that address."""
    assert _session_url(client, sandbox_key).startswith("http://testserver/apply/")
    assert _session_url(client, sandbox_key, Host="localhost:8000").startswith(
        "http://localhost:8000/apply/"
    )
    spoofed = _session_url(client, sandbox_key, Host="evil.example")
    assert spoofed.startswith("http://testserver:80/apply/"), spoofed


def test_link_hosts_names_the_hosts_links_may_carry(client_with, sandbox_key):
    with client_with(link_hosts=("sandbox.example",)) as other:
        url = _session_url(other, sandbox_key, Host="sandbox.example")
    assert url.startswith("http://sandbox.example/apply/")


def test_link_hosts_is_read_from_the_environment():
    found = settings_from({"TEN99_LINK_HOSTS": " Sandbox.example, localhost ,"})
    assert found.link_hosts == ("sandbox.example", "localhost")
    assert settings_from({}).link_hosts == ("localhost", "127.0.0.1", "::1")
