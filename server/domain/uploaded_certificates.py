"""Certificates of insurance uploaded for review: a PDF the contractor holds from elsewhere,
checked in the background against the insurance requirement of the entities the contractor
works for (the coverage types they require, and their limits).

In the sandbox the PDF's text decides the review, as a test card number decides a charge: each
line `<coverage>: each occurrence $<n>; aggregate $<n>; expires <YYYY-MM-DD>` states a coverage,
and `Sandbox outcome: denied` (or `error`) picks that outcome."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Literal

from server.core import ids
from server.core.errors import InvalidRequest
from server.core.pagination import PageRequest
from server.core.uploads import UploadedFile
from server.domain import events, rating, required
from server.store.unit_of_work import Task, UnitOfWork

REVIEW = "review_certificate"  # the task that reviews an upload
MAX_FILE_BYTES = 15 * 1024 * 1024
PDF_TYPE = "application/pdf"
PDF_SIGNATURE = b"%PDF"
PAGES_READ = 2  # only the first pages of a certificate are read, as the reference's are

Status = Literal["pending", "processing", "approved", "flagged", "denied", "error"]
PENDING: Status = "pending"
PROCESSING: Status = "processing"
APPROVED: Status = "approved"
FLAGGED: Status = "flagged"
DENIED: Status = "denied"
ERROR: Status = "error"
OUTCOMES: tuple[Status, ...] = (APPROVED, FLAGGED, DENIED, ERROR)


@dataclass(frozen=True)
class Requirement:
    """What a certificate must show: every coverage type the contractor's entities require,
    with the highest limits (in cents) any of them sets; None where none sets one."""

    coverage_types: tuple[str, ...]
    occurrence_limit: int | None
    aggregate_limit: int | None


# No requirement: what a review that never ran is judged against.
NONE = Requirement(coverage_types=(), occurrence_limit=None, aggregate_limit=None)


def requirement_of(entities: list[Mapping[str, Any]]) -> Requirement:
    coverage = sorted({c for entity in entities for c in entity["required_coverage"] or []})
    limits = [entity["coverage_limit"] for entity in entities if entity["coverage_limit"]]
    return Requirement(
        coverage_types=tuple(coverage),
        occurrence_limit=max((lim["occurrence_limit"] for lim in limits), default=None),
        aggregate_limit=max((lim["aggregate_limit"] for lim in limits), default=None),
    )


def check_pdf(file: UploadedFile) -> None:
    """A certificate is a PDF three ways, its name, its media type and its first bytes, and at
    most MAX_FILE_BYTES."""
    name = file.filename or ""
    if not name.lower().endswith(".pdf"):
        raise InvalidRequest(
            f"The certificate must be a PDF file (.pdf); its name is {name!r}.",
            code="invalid_file_type",
            param="certificate",
        )
    media_type = (file.content_type or "").split(";")[0].strip().lower()
    if media_type != PDF_TYPE:
        raise InvalidRequest(
            f"The certificate must be a PDF ({PDF_TYPE}); it was sent as "
            f"{media_type or 'no type'}.",
            code="invalid_mime_type",
            param="certificate",
        )
    if not file.content.startswith(PDF_SIGNATURE):
        raise InvalidRequest(
            "The certificate is not a PDF: its content does not start with %PDF.",
            code="invalid_mime_type",
            param="certificate",
        )
    if len(file.content) > MAX_FILE_BYTES:
        raise InvalidRequest(
            f"The certificate is {len(file.content)} bytes; it may be at most {MAX_FILE_BYTES}.",
            code="invalid_file_size",
            param="certificate",
        )


def upload(uow: UnitOfWork, fields: Mapping[str, Any], storage_limit: int) -> dict[str, Any]:
    """Keep the PDF and its certificate, `pending` the review the worker does (`REVIEW`)."""
    file = fields.get("certificate")
    if not isinstance(file, UploadedFile):
        raise InvalidRequest(
            "The certificate file is missing: send it as the multipart field `certificate`.",
            code="missing_certificate",
            param="certificate",
        )
    contractor_id = fields.get("contractor")
    if not contractor_id:
        raise InvalidRequest(
            "The contractor is missing: send its ID as the multipart field `contractor`.",
            code="missing_contractor_id",
            param="contractor",
        )
    check_pdf(file)
    required(
        uow.contractors.get(contractor_id),
        "contractor",
        contractor_id,
        param="contractor",
        code="invalid_contractor_id",
    )
    if not requirement_of(uow.uploaded_certificates.entities_of(contractor_id)).coverage_types:
        raise InvalidRequest(
            f"No entity the contractor {contractor_id} works for requires coverage: there is "
            "no insurance requirement to review the certificate against.",
            code="no_insurance_requirement_found",
            param="contractor",
        )
    if uow.uploaded_certificates.stored_bytes() + len(file.content) > storage_limit:
        raise InvalidRequest(
            f"The certificates of this account hold {storage_limit} bytes at most; this one "
            "does not fit.",
            code="storage_limit_reached",
            param="certificate",
        )
    filename = (file.filename or "certificate.pdf")[-200:]
    token = uow.documents.put(filename, PDF_TYPE, file.content, uow.now)
    record = uow.uploaded_certificates.add(
        {
            "contractor": contractor_id,
            "status": PENDING,
            "updated": uow.now,
            "filename": filename,
            "size": len(file.content),
            "document": token,
            "review": None,
        },
        uow.now,
    )
    uow.enqueue(Task(REVIEW, record["id"]))
    return record


def retrieve(uow: UnitOfWork, certificate_id: str) -> dict[str, Any]:
    found = uow.uploaded_certificates.get(certificate_id)
    return required(found, "certificate", certificate_id, param="certificate_id")


def list_(uow: UnitOfWork, page: PageRequest) -> list[dict[str, Any]]:
    return uow.uploaded_certificates.page(page)


# The review, in two steps the worker runs: `start` marks it processing; the text read from the
# PDF (outside any transaction) is then judged by `review`, and `finish` records the outcome.


def start(uow: UnitOfWork, certificate_id: str) -> tuple[dict, Requirement] | None:
    """The certificate, now `processing`, and the requirement it is reviewed against; None once
    it has an outcome (or is gone)."""
    record = uow.uploaded_certificates.get(certificate_id)
    if record is None or record["status"] in OUTCOMES:
        return None
    if record["status"] == PENDING:
        record = uow.uploaded_certificates.update(
            certificate_id, {"status": PROCESSING, "updated": uow.now}
        )
    requirement = requirement_of(uow.uploaded_certificates.entities_of(record["contractor"]))
    return record, requirement


def finish(uow: UnitOfWork, certificate_id: str, outcome: dict[str, Any]) -> None:
    """Record the review's outcome and announce it: `certificate.<status>`."""
    record = uow.uploaded_certificates.get(certificate_id)
    if record is None or record["status"] in OUTCOMES:
        return
    results = [
        {**result, "id": ids.new_id("car"), "created": uow.now}
        for result in outcome["audit_results"]
    ]
    review = {**outcome, "audit_results": results, "id": ids.new_id("ca"), "created": uow.now}
    updated = uow.uploaded_certificates.update(
        certificate_id, {"status": outcome["status"], "updated": uow.now, "review": review}
    )
    uow.publish(f"certificate.{outcome['status']}", events.CERTIFICATE, updated)


# Reading a certificate's text.

_COVERAGE_LINE = re.compile(r"^\s*(?P<name>[A-Za-z' ]+?)\s*:\s*(?P<terms>.*)$", re.MULTILINE)
_AMOUNT = r"\$\s*(?P<{}>[0-9][0-9,]*)"
_OCCURRENCE = re.compile(r"each occurrence\s+" + _AMOUNT.format("n"), re.IGNORECASE)
_AGGREGATE = re.compile(r"aggregate\s+" + _AMOUNT.format("n"), re.IGNORECASE)
_EXPIRES = re.compile(r"expires\s+(?P<d>\d{4}-\d{2}-\d{2})", re.IGNORECASE)
_INSURED = re.compile(r"^\s*Insured\s*:\s*(?P<name>.+?)\s*$", re.MULTILINE | re.IGNORECASE)
_OUTCOME = re.compile(r"Sandbox outcome\s*:\s*(?P<outcome>denied|error)", re.IGNORECASE)
_COVERAGE_OF_NAME = {name.lower(): kind for kind, name in rating.COVERAGE_NAMES.items()}


def _dollars(pattern: re.Pattern[str], terms: str) -> int | None:
    found = pattern.search(terms)
    return int(found.group("n").replace(",", "")) if found else None


def read(text: str) -> dict[str, Any]:
    """What a certificate's text states (`parsed_certificate_json`)."""
    coverages: dict[str, dict[str, Any]] = {}
    for line in _COVERAGE_LINE.finditer(text):
        kind = _COVERAGE_OF_NAME.get(line.group("name").strip().lower())
        if kind is None:
            continue
        terms = line.group("terms")
        expires = _EXPIRES.search(terms)
        coverages[kind] = {
            "each_occurrence_dollars": _dollars(_OCCURRENCE, terms),
            "aggregate_dollars": _dollars(_AGGREGATE, terms),
            "expiration_date": expires.group("d") if expires else None,
        }
    insured = _INSURED.search(text)
    return {"insured": {"name": insured.group("name") if insured else None}, "coverages": coverages}


def review(text: str | None, requirement: Requirement, at: int) -> dict[str, Any]:
    """The review's outcome from the certificate's text (None: none could be read): its status,
    what was read, and a result per required coverage type. No id or time yet (`finish`)."""
    parsed = read(text or "")
    chosen = _OUTCOME.search(text or "")
    if not (text or "").strip() or (chosen and chosen.group("outcome").lower() == ERROR):
        return _outcome(ERROR, parsed, [])
    results = [_rule(kind, parsed, requirement, at) for kind in requirement.coverage_types]
    if chosen:  # denied, by the reviewer the line stands for
        return _outcome(DENIED, parsed, results)
    passed = all(result["result"] == "pass" for result in results)
    return _outcome(APPROVED if passed else FLAGGED, parsed, results)


def _outcome(status: Status, parsed: dict, results: list[dict]) -> dict[str, Any]:
    passed = sum(result["result"] == "pass" for result in results)
    return {
        "status": status,
        "summary": {"total_rules": len(results), "passed": passed, "failed": len(results) - passed},
        "parsed_certificate_json": parsed,
        "audit_results": results,
    }


def _rule(kind: str, parsed: dict, requirement: Requirement, at: int) -> dict[str, Any]:
    name = rating.COVERAGE_NAMES[kind]
    failure = _failure(kind, parsed["coverages"].get(kind), requirement, at)
    return {
        "rule_name": name,
        "rule_path": f"coverages.{kind}",
        "result": "fail" if failure else "pass",
        "message": failure or f"{name} is stated, with the required limits, in force.",
        "manually_approved": False,
    }


def _failure(kind: str, stated: dict | None, requirement: Requirement, at: int) -> str | None:
    """Why the coverage stated fails the requirement, or None when it passes."""
    name = rating.COVERAGE_NAMES[kind]
    if stated is None:
        return f"{name} is required and the certificate does not state it."
    if kind != "workers-comp":  # statutory limits
        for field, label, cents in (
            ("each_occurrence_dollars", "Each occurrence", requirement.occurrence_limit),
            ("aggregate_dollars", "Aggregate", requirement.aggregate_limit),
        ):
            if cents is not None and (stated[field] or 0) * 100 < cents:
                shown = "not stated" if stated[field] is None else f"${stated[field]:,}"
                return f"{label} {shown} is below the required ${cents // 100:,}."
    expires = stated["expiration_date"]
    today = datetime.fromtimestamp(at, UTC).date()
    if expires is None or date.fromisoformat(expires) <= today:
        when = expires or "at a date it does not state"
        return f"{name} must be in force after {today.isoformat()}; it expires {when}."
    return None
