"""Assignments: rating, binding to the contractor's active policy, certificates of insurance,
the PUT rules for bound assignments, voiding, and every rule of extend."""

from __future__ import annotations

import io

import pypdf
import pytest

from server.core.clock import now
from server.domain import rating
from server.domain.terms import DAY
from server.pdf.layout import format_date
from server.store.tables import emails, tasks
from tests.conftest import assert_error, bearer, bind, created, new_job, underwrite

BASE = "/api/v1/assignments"


def _pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(content)).pages)


@pytest.fixture
def covered(client, sandbox_key, run_tasks):
    """A contractor with an active general + workers' comp policy (its document issued), and a
    second job of the same entity to assign them to."""
    made = underwrite(client, sandbox_key, quote={"coverage_type": ["general", "workers-comp"]})
    policy = bind(client, sandbox_key, made["quote"]["id"])
    run_tasks()
    made["policy"] = client.get(
        f"/api/v1/policies/{policy['id']}", headers=bearer(sandbox_key)
    ).json()
    made["job2"] = created(
        client.post(
            "/api/v1/jobs",
            json=new_job(made["entity"]["id"], name="Night shift"),
            headers=bearer(sandbox_key),
        )
    )
    return made


def assign(client, key, contractor, job, coverage=("general",), **fields):
    body = {"contractor": contractor, "job": job, "coverage_type": list(coverage), **fields}
    return client.post(BASE, json=body, headers=bearer(key))


def assign_to(client, key, made, job="job", coverage=("general",), **fields):
    """Assign the contractor of an `underwrite` result (or `covered`) to one of its jobs."""
    return assign(client, key, made["contractor"]["id"], made[job]["id"], coverage, **fields)


def get(client, key, assignment_id):
    response = client.get(f"{BASE}/{assignment_id}", headers=bearer(key))
    assert response.status_code == 200, response.text
    return response.json()


def extend(client, key, job_id, end_date, **fields):
    body = {"job_id": job_id, "end_date": end_date, **fields}
    return client.post(f"{BASE}/extend", json=body, headers=bearer(key))


@pytest.fixture
def bound(client, sandbox_key, covered, run_tasks):
    """A bound assignment with its first certificates generated."""
    made = created(assign_to(client, sandbox_key, covered, "job2", ("general", "workers-comp")))
    run_tasks()
    return get(client, sandbox_key, made["id"])


# Creation and binding


def test_without_coverage_type_an_assignment_asks_for_what_the_entity_requires(
    client, sandbox_key, covered
):
    """As the official libraries' READMEs create one: a contractor and a job only."""
    body = {"contractor": covered["contractor"]["id"], "job": covered["job2"]["id"]}
    assignment = created(client.post(BASE, json=body, headers=bearer(sandbox_key)))
    assert assignment["coverage_type"] == covered["entity"]["required_coverage"]
    assert assignment["bind"] is True


def test_an_unbound_assignment_passes_to_another_contractor_and_is_rated_again(
    client, sandbox_key, covered
):
    made = underwrite(client, sandbox_key)
    unbound = created(assign_to(client, sandbox_key, made))
    assert unbound["bind"] is False
    url = f"{BASE}/{unbound['id']}"
    unknown = client.put(url, json={"contractor": "cn_missing"}, headers=bearer(sandbox_key))
    assert_error(unknown, 404, "invalid_contractor_id", "contractor")
    body = {"contractor": covered["contractor"]["id"]}
    moved = client.put(url, json=body, headers=bearer(sandbox_key))
    assert moved.status_code == 200, moved.text
    # The covered contractor holds a policy for general liability: the assignment binds.
    assert moved.json()["contractor"] == covered["contractor"]["id"]
    assert moved.json()["bind"] is True
    # Bound, it stays with its contractor.
    back = client.put(
        url, json={"contractor": made["contractor"]["id"]}, headers=bearer(sandbox_key)
    )
    assert_error(back, 400, "assignment_is_bound", "contractor")


def test_without_coverage_type_or_an_entity_requirement_it_is_general_liability(
    client, sandbox_key
):
    made = underwrite(client, sandbox_key, entity={"required_coverage": []})
    body = {"contractor": made["contractor"]["id"], "job": made["job"]["id"]}
    assignment = created(client.post(BASE, json=body, headers=bearer(sandbox_key)))
    assert assignment["coverage_type"] == ["general"]


def test_an_assignment_without_a_policy_is_unbound_and_carries_its_rating(client, sandbox_key):
    made = underwrite(client, sandbox_key)
    assignment = created(assign_to(client, sandbox_key, made, coverage=("general", "workers-comp")))
    assert assignment["id"].startswith("an_")
    assert assignment["bind"] is False
    assert assignment["eligible"] == {"result": True, "message": rating.ELIGIBLE_MESSAGE}
    assert assignment["net_rate"] == assignment["gl_net_rate"] + assignment["wc_net_rate"]
    assert set(assignment["quote_json"]) == {"gl", "wc"}
    assert "policy" not in assignment and "certificates" not in assignment
    # Rated exactly as a quote of the same terms.
    quote = created(
        client.post(
            "/api/v1/quotes",
            json={
                "contractor": made["contractor"]["id"],
                "job": made["job"]["id"],
                "coverage_type": ["general", "workers-comp"],
            },
            headers=bearer(sandbox_key),
        )
    )
    assert assignment["quote_json"] == quote["quote_json"]


@pytest.mark.storage
def test_an_assignment_binds_to_the_contractors_active_policy_and_gets_certificates(
    client, sandbox_key, covered, run_tasks
):
    # Ends with the policy, so that binding does not lengthen it (a task of its own).
    end = covered["policy"]["expiration_date"]
    assignment = created(
        assign_to(client, sandbox_key, covered, "job2", ("general", "workers-comp"), end_date=end)
    )
    assert assignment["bind"] is True
    assert assignment["policy"] == covered["policy"]["id"]
    assert assignment["certificates"] == {}
    assert assignment["certificate_refresh_pending"] is True
    assert "quote_json" not in assignment

    assert run_tasks() == 1
    ready = get(client, sandbox_key, assignment["id"])
    assert ready["certificate_refresh_pending"] is False
    assert set(ready["certificates"]) == {"gl_coi_pdf_url", "wc_coi_pdf_url"}
    for key, name in (("gl", "General liability"), ("wc", "Workers' compensation")):
        pdf = client.get(ready["certificates"][f"{key}_coi_pdf_url"])  # no API key
        assert pdf.status_code == 200
        assert pdf.headers["content-type"] == "application/pdf"
        text = _pdf_text(pdf.content)
        for expected in (
            name,
            "Joe Parker",
            "Apple, Inc",
            "Night shift",
            covered["policy"]["id"],
            f"{assignment['id']}-{key}",
            format_date(ready["effective_date"]),
            format_date(ready["end_date"]),
            "$1,000,000",
            "$2,000,000",
        ):
            assert expected in text, (expected, text)


def test_an_assignment_asking_for_coverage_the_policy_lacks_stays_unbound(
    client, sandbox_key, run_tasks
):
    made = underwrite(client, sandbox_key)  # the policy covers general liability only
    bind(client, sandbox_key, made["quote"]["id"])
    assert run_tasks() == 1  # the policy's document
    assignment = created(assign_to(client, sandbox_key, made, coverage=("general", "workers-comp")))
    assert assignment["bind"] is False
    assert run_tasks() == 0


def test_an_ineligible_assignment_stays_unbound_even_with_a_policy(client, sandbox_key, covered):
    assignment = created(assign_to(client, sandbox_key, covered, "job2", ["professional"]))
    assert assignment["eligible"]["result"] is False
    assert assignment["bind"] is False


def test_a_cancelled_policy_binds_nothing(client, sandbox_key, covered):
    client.put(
        f"/api/v1/policies/{covered['policy']['id']}",
        json={"is_active": False},
        headers=bearer(sandbox_key),
    )
    assignment = created(assign_to(client, sandbox_key, covered, "job2"))
    assert assignment["bind"] is False


def test_binding_lengthens_the_policy_to_the_end_of_the_assignment(
    client, sandbox_key, covered, run_tasks
):
    policy = covered["policy"]
    end = policy["expiration_date"] + 20 * DAY
    assignment = created(
        assign_to(client, sandbox_key, covered, "job2", effective_date=now() + DAY, end_date=end)
    )
    assert assignment["bind"] is True
    assert run_tasks() == 2  # the certificates, and the lengthened policy's document
    read = client.get(f"/api/v1/policies/{policy['id']}", headers=bearer(sandbox_key)).json()
    assert read["expiration_date"] == end
    assert read["pdf_url"] != policy["pdf_url"]  # the policy document was re-issued


def test_a_job_has_at_most_one_live_assignment(client, sandbox_key, covered):
    contractor, job = covered["contractor"]["id"], covered["job2"]["id"]
    first = created(assign(client, sandbox_key, contractor, job))
    body = assert_error(assign(client, sandbox_key, contractor, job), 400, "job_has_assignment")
    assert body["param"] == "job" and first["id"] in body["message"]
    client.delete(f"{BASE}/{first['id']}", headers=bearer(sandbox_key))
    created(assign(client, sandbox_key, contractor, job))


def test_unknown_references_and_bad_dates(client, sandbox_key, covered):
    contractor, job = covered["contractor"]["id"], covered["job2"]["id"]
    assert_error(
        assign(client, sandbox_key, "cn_missing", job), 404, "invalid_contractor_id", "contractor"
    )
    assert_error(
        assign(client, sandbox_key, contractor, "jb_missing"), 404, "invalid_job_id", "job"
    )
    assert_error(
        assign(client, sandbox_key, contractor, job, effective_date=now() - DAY),
        400,
        "effective_date_invalid",
        "effective_date",
    )
    start = now() + DAY
    assert_error(
        assign(
            client, sandbox_key, contractor, job, effective_date=start, end_date=start + 400 * DAY
        ),
        400,
        "end_date_invalid",
        "end_date",
    )
    assert_error(assign(client, sandbox_key, contractor, job, coverage=()), 400, "invalid_input")


def test_another_accounts_assignment_does_not_exist(client, sandbox_key, new_key, bound):
    other = new_key(account="acct_b")
    response = client.get(f"{BASE}/{bound['id']}", headers=bearer(other))
    assert_error(response, 404, "resource_not_found", "assignment_id")
    assert_error(
        extend(client, other, bound["job"], bound["end_date"] + DAY), 404, "resource_not_found"
    )


# PUT and DELETE


def test_an_unbound_assignment_is_updated_and_rated_again(client, sandbox_key):
    made = underwrite(client, sandbox_key)
    assignment = created(assign_to(client, sandbox_key, made))
    response = client.put(
        f"{BASE}/{assignment['id']}",
        json={"coverage_type": ["general", "workers-comp"]},
        headers=bearer(sandbox_key),
    )
    assert response.status_code == 200, response.text
    updated = response.json()
    assert updated["coverage_type"] == ["general", "workers-comp"]
    assert "wc_net_rate" in updated and updated["net_rate"] > assignment["net_rate"]


def test_an_update_binds_once_a_policy_covers_the_assignment(client, sandbox_key, run_tasks):
    made = underwrite(client, sandbox_key)
    assignment = created(assign_to(client, sandbox_key, made))
    assert assignment["bind"] is False
    bind(client, sandbox_key, made["quote"]["id"])
    assert run_tasks() == 1  # the policy's document
    response = client.put(
        f"{BASE}/{assignment['id']}",
        json={"end_date": assignment["end_date"] - DAY},
        headers=bearer(sandbox_key),
    )
    assert response.json()["bind"] is True
    assert run_tasks() == 1
    assert "gl_coi_pdf_url" in get(client, sandbox_key, assignment["id"])["certificates"]


def test_an_empty_update_binds_once_a_policy_covers_the_assignment(client, sandbox_key, run_tasks):
    made = underwrite(client, sandbox_key)
    assignment = created(assign_to(client, sandbox_key, made))
    url = f"{BASE}/{assignment['id']}"
    # Nothing to bind to yet: nothing changes, and nothing is reported.
    still = client.put(url, json={}, headers=bearer(sandbox_key))
    assert still.json() == assignment
    bind(client, sandbox_key, made["quote"]["id"])
    run_tasks()
    rebound = client.put(url, json={}, headers=bearer(sandbox_key))
    assert rebound.status_code == 200, rebound.text
    assert rebound.json()["bind"] is True
    run_tasks()
    assert "gl_coi_pdf_url" in get(client, sandbox_key, assignment["id"])["certificates"]


def test_put_on_a_bound_assignment_points_to_extend(client, sandbox_key, bound):
    url = f"{BASE}/{bound['id']}"
    body = assert_error(
        client.put(url, json={"end_date": bound["end_date"] + DAY}, headers=bearer(sandbox_key)),
        400,
        "use_extend_endpoint",
        "end_date",
    )
    assert "/assignments/extend" in body["message"]
    assert_error(
        client.put(url, json={"coverage_type": ["general"]}, headers=bearer(sandbox_key)),
        400,
        "assignment_is_bound",
        "coverage_type",
    )
    # Sending the current values is not a change.
    same = client.put(
        url,
        json={"end_date": bound["end_date"], "coverage_type": bound["coverage_type"]},
        headers=bearer(sandbox_key),
    )
    assert same.status_code == 200 and same.json() == bound


def test_deleting_an_assignment_voids_its_coverage_and_certificates(client, sandbox_key, bound):
    certificate = bound["certificates"]["gl_coi_pdf_url"]
    assert client.get(certificate).status_code == 200
    response = client.delete(f"{BASE}/{bound['id']}", headers=bearer(sandbox_key))
    assert response.status_code == 200
    assert response.json()["deleted"] is True and response.json()["id"] == bound["id"]
    assert client.get(certificate).status_code == 404
    assert client.get(f"{BASE}/{bound['id']}", headers=bearer(sandbox_key)).status_code == 404
    # Extending the job now meets the voided record.
    assert_error(
        extend(client, sandbox_key, bound["job"], bound["end_date"] + DAY),
        400,
        "assignment_cancelled",
        "job_id",
    )


def test_a_job_with_a_bound_assignment_cannot_be_deleted(client, sandbox_key, bound):
    response = client.delete(f"/api/v1/jobs/{bound['job']}", headers=bearer(sandbox_key))
    assert_error(response, 400, "job_is_used")


# Extend


def test_extend_answers_at_once_with_the_old_certificates_then_regenerates(
    client, sandbox_key, bound, run_tasks, database
):
    old = bound["certificates"]
    new_end = bound["end_date"] + 10 * DAY
    response = extend(client, sandbox_key, bound["job"], new_end, send_email=False)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["end_date"] == new_end
    assert answer["certificate_refresh_pending"] is True
    assert answer["certificates"] == old
    # Until the worker runs, a GET shows the same.
    pending = get(client, sandbox_key, bound["id"])
    assert pending["certificate_refresh_pending"] is True and pending["certificates"] == old

    assert run_tasks() == 2  # the certificates, and the lengthened policy's document
    fresh = get(client, sandbox_key, bound["id"])
    assert fresh["certificate_refresh_pending"] is False
    assert set(fresh["certificates"]) == set(old)
    for name, url in fresh["certificates"].items():
        assert url != old[name]
        assert client.get(old[name]).status_code == 404  # the stale PDF is gone
        text = _pdf_text(client.get(url).content)
        assert format_date(new_end) in text
    # No email was asked for.
    with database.transaction() as session:
        assert session.execute(emails.select()).first() is None


def test_extend_with_send_email_records_the_email_with_the_fresh_links(
    client, sandbox_key, bound, run_tasks, database
):
    new_end = bound["end_date"] + 5 * DAY
    assert extend(client, sandbox_key, bound["job"], new_end).status_code == 200  # default: email
    with database.transaction() as session:
        assert session.execute(emails.select()).first() is None  # sent after regeneration
    run_tasks()
    fresh = get(client, sandbox_key, bound["id"])
    with database.transaction() as session:
        sent = session.execute(emails.select()).all()
    assert len(sent) == 1
    email = sent[0]
    assert email.recipient == "parker@gmail.com"
    assert email.status == "recorded"  # no SMTP server configured
    assert email.about == bound["id"]
    assert format_date(new_end) in email.subject
    for url in fresh["certificates"].values():
        # Without TEN99_PUBLIC_URL, a response's links are on the address it was asked at, and
        # an email's are paths on the server.
        assert url.removeprefix("http://testserver") in email.body


def test_extend_moves_the_policy_out_to_the_new_end(client, sandbox_key, bound):
    policy = client.get(f"/api/v1/policies/{bound['policy']}", headers=bearer(sandbox_key)).json()
    new_end = policy["expiration_date"] + 30 * DAY
    assert extend(client, sandbox_key, bound["job"], new_end, send_email=False).status_code == 200
    moved = client.get(f"/api/v1/policies/{bound['policy']}", headers=bearer(sandbox_key)).json()
    assert moved["expiration_date"] == new_end


class TestTheSameEndDate:
    """The no-op: allowed without the email; with it, "same end date when no-op is not
    allowed"."""

    def test_without_the_email_it_is_a_200_that_still_regenerates(
        self, client, sandbox_key, bound, run_tasks
    ):
        response = extend(client, sandbox_key, bound["job"], bound["end_date"], send_email=False)
        assert response.status_code == 200, response.text
        assert response.json()["end_date"] == bound["end_date"]
        assert response.json()["certificate_refresh_pending"] is True
        assert run_tasks() == 1
        fresh = get(client, sandbox_key, bound["id"])
        assert fresh["end_date"] == bound["end_date"]
        assert fresh["certificates"] != bound["certificates"]

    def test_with_the_email_it_is_refused(self, client, sandbox_key, bound, run_tasks, database):
        for body in ({}, {"send_email": True}):  # the default is true
            response = extend(client, sandbox_key, bound["job"], bound["end_date"], **body)
            error = assert_error(response, 400, "end_date_unchanged", "end_date")
            assert "send_email: false" in error["message"]
        assert run_tasks() == 0
        assert get(client, sandbox_key, bound["id"]) == bound
        with database.transaction() as session:
            assert session.execute(emails.select()).first() is None


def test_extend_an_unknown_job_or_a_job_without_assignment_is_404(client, sandbox_key, covered):
    body = assert_error(
        extend(client, sandbox_key, "jb_missing", now() + DAY), 404, "resource_not_found", "job_id"
    )
    assert "jb_missing" in body["message"]
    body = assert_error(
        extend(client, sandbox_key, covered["job2"]["id"], now() + DAY),
        404,
        "resource_not_found",
        "job_id",
    )
    assert "assignment" in body["message"]


def test_extend_an_unbound_assignment_is_refused(client, sandbox_key):
    made = underwrite(client, sandbox_key)
    unbound = created(assign_to(client, sandbox_key, made))
    response = extend(client, sandbox_key, made["job"]["id"], unbound["end_date"] + DAY)
    assert_error(response, 400, "assignment_not_bound", "job_id")


def test_extend_refuses_a_cancelled_policy(client, sandbox_key, bound):
    client.put(
        f"/api/v1/policies/{bound['policy']}",
        json={"is_active": False},
        headers=bearer(sandbox_key),
    )
    response = extend(client, sandbox_key, bound["job"], bound["end_date"] + DAY)
    assert_error(response, 400, "assignment_cancelled", "job_id")


def test_extend_refuses_a_deleted_policy(client, sandbox_key, bound):
    client.delete(f"/api/v1/policies/{bound['policy']}", headers=bearer(sandbox_key))
    response = extend(client, sandbox_key, bound["job"], bound["end_date"] + DAY)
    assert_error(response, 400, "assignment_cancelled", "job_id")


def test_extend_refuses_coverage_that_has_ended(client, sandbox_key, bound, sandbox_clock):
    sandbox_clock.start()
    sandbox_clock.advance(bound["end_date"] + DAY)
    response = extend(client, sandbox_key, bound["job"], bound["end_date"] + 10 * DAY)
    assert_error(response, 400, "coverage_expired", "job_id")


def test_extend_refuses_when_the_policy_has_expired(client, sandbox_key, bound, sandbox_clock):
    # The policy is shortened to end a day after it starts, long before the assignment does.
    sandbox_clock.start()
    policy = client.get(f"/api/v1/policies/{bound['policy']}", headers=bearer(sandbox_key)).json()
    shorter = {"expiration_date": policy["effective_date"] + DAY}
    response = client.put(
        f"/api/v1/policies/{bound['policy']}", json=shorter, headers=bearer(sandbox_key)
    )
    assert response.status_code == 200, response.text
    sandbox_clock.advance(shorter["expiration_date"])
    assert sandbox_clock.now < bound["end_date"]
    response = extend(client, sandbox_key, bound["job"], bound["end_date"] + DAY)
    assert_error(response, 400, "coverage_expired", "job_id")


def test_extend_refuses_to_shorten(client, sandbox_key, bound):
    response = extend(client, sandbox_key, bound["job"], bound["end_date"] - 1)
    body = assert_error(response, 400, "cannot_shorten_coverage", "end_date")
    assert str(bound["end_date"]) in body["message"]


def test_extend_refuses_more_than_a_year_after_the_effective_date(client, sandbox_key, bound):
    limit = bound["effective_date"] + 365 * DAY
    body = assert_error(
        extend(client, sandbox_key, bound["job"], limit + 1), 400, "end_date_invalid", "end_date"
    )
    assert "within one year of the effective date" in body["message"]
    # The bound policy's own year may end a moment sooner: it took effect at binding.
    policy = client.get(f"/api/v1/policies/{bound['policy']}", headers=bearer(sandbox_key)).json()
    reachable = min(limit, policy["effective_date"] + 365 * DAY)
    response = extend(client, sandbox_key, bound["job"], reachable, send_email=False)
    assert response.status_code == 200, response.text


def test_extend_refuses_invalid_input(client, sandbox_key, bound):
    for body in (
        {"job_id": bound["job"]},
        {"end_date": bound["end_date"] + DAY},
        {"job_id": bound["job"], "end_date": "soon"},
        {"job_id": bound["job"], "end_date": -1},
        {"job_id": bound["job"], "end_date": bound["end_date"] + DAY, "send_email": "yes"},
    ):
        response = client.post(f"{BASE}/extend", json=body, headers=bearer(sandbox_key))
        assert_error(response, 400, "invalid_input")


def test_a_refused_extension_changes_nothing(client, sandbox_key, bound, database):
    extend(client, sandbox_key, bound["job"], bound["end_date"] - 1)
    assert get(client, sandbox_key, bound["id"]) == bound
    with database.transaction() as session:
        assert session.execute(tasks.select().where(tasks.c.done_at.is_(None))).first() is None


# bind and policy, as the current reference has them


def test_bind_false_leaves_a_covered_assignment_unbound_until_an_update_asks(
    client, sandbox_key, covered, run_tasks
):
    made = created(assign_to(client, sandbox_key, covered, "job2", bind=False))
    assert made["bind"] is False and "policy" not in made and "quote_json" in made
    assert run_tasks() == 0  # nothing issued
    # An update that does not ask keeps it unbound, though a policy covers it...
    later = made["end_date"] - DAY
    kept = client.put(f"{BASE}/{made['id']}", json={"end_date": later}, headers=bearer(sandbox_key))
    assert kept.status_code == 200 and kept.json()["bind"] is False
    # ...and one that sends bind: true binds it.
    bound_now = client.put(f"{BASE}/{made['id']}", json={"bind": True}, headers=bearer(sandbox_key))
    assert bound_now.status_code == 200, bound_now.text
    assert bound_now.json()["bind"] is True
    assert bound_now.json()["policy"] == covered["policy"]["id"]


def test_an_update_with_bind_false_keeps_an_unbound_assignment_unbound(client, sandbox_key):
    made = underwrite(client, sandbox_key)  # no policy yet: the assignment is unbound
    assignment = created(assign_to(client, sandbox_key, made))
    url = f"{BASE}/{assignment['id']}"
    kept = client.put(url, json={"bind": False}, headers=bearer(sandbox_key))
    assert kept.status_code == 200 and kept.json()["bind"] is False
    bind(client, sandbox_key, made["quote"]["id"])  # now a policy covers it...
    still = client.put(url, json={}, headers=bearer(sandbox_key))
    assert still.status_code == 200 and still.json()["bind"] is False  # ...but binding was refused
    bound_now = client.put(url, json={"bind": True}, headers=bearer(sandbox_key))
    assert bound_now.status_code == 200 and bound_now.json()["bind"] is True


def test_an_assignment_binds_to_the_policy_it_names(client, sandbox_key, covered):
    # A second policy of the contractor that covers what the assignments ask for (general
    # liability; the same cover again would be refused as on file): each assignment takes the
    # one it names.
    quote = {
        "contractor": covered["contractor"]["id"],
        "job": covered["job"]["id"],
        "coverage_type": ["general"],
    }
    second = created(client.post("/api/v1/quotes", json=quote, headers=bearer(sandbox_key)))
    policies = [covered["policy"]["id"], bind(client, sandbox_key, second["id"])["id"]]
    for policy in policies:
        job = client.post(
            "/api/v1/jobs", json=new_job(covered["entity"]["id"]), headers=bearer(sandbox_key)
        )
        named = created(
            assign(
                client, sandbox_key, covered["contractor"]["id"], created(job)["id"], policy=policy
            )
        )
        assert named["bind"] is True and named["policy"] == policy


def test_a_named_policy_must_exist_cover_the_assignment_and_bind(client, sandbox_key, covered):
    contractor, job = covered["contractor"]["id"], covered["job2"]["id"]
    assert_error(
        assign(client, sandbox_key, contractor, job, policy="pl_Missing123"),
        404,
        "invalid_policy_id",
        "policy",
    )
    # Another contractor's policy covers nothing of this one.
    other = underwrite(client, sandbox_key, contractor={"email": "other@example.com"})
    theirs = bind(client, sandbox_key, other["quote"]["id"])
    assert_error(
        assign(client, sandbox_key, contractor, job, policy=theirs["id"]),
        400,
        "no_active_policy",
        "policy",
    )
    policy = covered["policy"]["id"]
    assert_error(
        assign(client, sandbox_key, contractor, job, policy=policy, bind=False),
        400,
        "invalid_input",
        "policy",
    )
    # Nothing was made by the refusals.
    listed = client.get(BASE, headers=bearer(sandbox_key)).json()
    assert [a for a in listed if a["job"] == job] == []


# Cancel


def cancel(client, key, job_id, **fields):
    body = {"job_id": job_id, **fields}
    return client.post(f"{BASE}/cancel", json=body, headers=bearer(key))


def test_cancelling_before_the_start_ends_the_coverage_and_tells_everyone(
    client, sandbox_key, bound, run_tasks, database
):
    certificate = bound["certificates"]["gl_coi_pdf_url"]
    assert client.get(certificate).status_code == 200
    response = cancel(client, sandbox_key, bound["job"], reason="contractor_request")
    assert response.status_code == 200, response.text
    cancelled = response.json()
    assert cancelled["id"] == bound["id"]
    assert cancelled["cancelled"] is True
    assert cancelled["cancellation_reason"] == "contractor_request"
    assert abs(cancelled["cancellation_date"] - now()) < 60
    assert cancelled["certificates"] == {}
    assert client.get(certificate).status_code == 404  # no longer served
    assert get(client, sandbox_key, bound["id"]) == cancelled

    events = client.get(
        "/api/v1/events", params={"type": "assignment.cancelled"}, headers=bearer(sandbox_key)
    ).json()
    assert [e["data"]["object"]["id"] for e in events] == [bound["id"]]
    assert events[0]["data"]["object"]["cancelled"] is True

    assert run_tasks() == 1  # the contractor's email
    with database.transaction() as session:
        sent = session.execute(emails.select()).all()
    assert [(e.recipient, e.about) for e in sent] == [("parker@gmail.com", bound["id"])]
    assert "cancelled" in sent[0].subject and "contractor_request" in sent[0].body


def test_a_cancelled_assignment_cannot_change_again(client, sandbox_key, bound):
    assert cancel(client, sandbox_key, bound["job"]).status_code == 200
    assert_error(cancel(client, sandbox_key, bound["job"]), 400, "assignment_cancelled", "job_id")
    assert_error(
        extend(client, sandbox_key, bound["job"], bound["end_date"] + DAY),
        400,
        "assignment_cancelled",
        "job_id",
    )
    for change in ({"coverage_type": ["general"]}, {}):
        response = client.put(f"{BASE}/{bound['id']}", json=change, headers=bearer(sandbox_key))
        assert_error(response, 400, "assignment_cancelled", "assignment_id")
    assert get(client, sandbox_key, bound["id"])["cancellation_reason"] is None
    # It can still be deleted, which publishes no second assignment.cancelled.
    assert client.delete(f"{BASE}/{bound['id']}", headers=bearer(sandbox_key)).status_code == 200
    events = client.get(
        "/api/v1/events", params={"type": "assignment.cancelled"}, headers=bearer(sandbox_key)
    ).json()
    assert len(events) == 1


def test_an_assignment_that_has_started_cannot_be_cancelled(
    client, sandbox_key, covered, sandbox_clock
):
    start = sandbox_clock.start()
    made = created(assign_to(client, sandbox_key, covered, "job2", effective_date=start + DAY))
    sandbox_clock.advance(start + DAY)
    assert_error(
        cancel(client, sandbox_key, made["job"]), 400, "assignment_already_started", "job_id"
    )
    assert get(client, sandbox_key, made["id"])["cancelled"] is False


def test_an_unbound_assignment_is_cancelled_too(client, sandbox_key):
    made = underwrite(client, sandbox_key)
    assignment = created(assign_to(client, sandbox_key, made))
    assert assignment["bind"] is False
    response = cancel(client, sandbox_key, made["job"]["id"])
    assert response.status_code == 200, response.text
    assert response.json()["cancelled"] is True and "certificates" not in response.json()


def test_cancel_an_unknown_job_or_a_job_without_assignment_is_404(client, sandbox_key, covered):
    assert_error(cancel(client, sandbox_key, "jb_Missing123"), 404, "resource_not_found", "job_id")
    assert_error(
        cancel(client, sandbox_key, covered["job2"]["id"]), 404, "resource_not_found", "job_id"
    )
    assert_error(
        cancel(client, sandbox_key, covered["job2"]["id"], reason=""), 400, "invalid_input"
    )
