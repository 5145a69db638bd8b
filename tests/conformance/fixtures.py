"""Objects at the spec's example ids, made before the conformance run, as stripe-mock ships
fixtures for its spec: the examples phase then reads, changes and deletes real objects (a
contractor, an entity, a job, a policy) and binds a real eligible quote, instead of meeting
only 404s, whatever the random walk of the stateful phase reaches.

Each object is made through the API, then given its example id in the database before the
objects that refer to it are made."""

from __future__ import annotations

import httpx
from sqlalchemy import create_engine, update

from server.store.tables import contractors, entities, jobs, policies, quotes
from tests.conftest import new_contractor, new_entity, new_job

EXAMPLE_IDS = {
    "contractor": "cn_Ehb3bYa",
    "entity": "en_Ah3tqYn",
    "job": "jb_jsb9KEcTpc",
    "quote": "qt_5DciVga8Kt",
    "policy": "pl_WzFRszJhoY",
}
TABLES = {
    "contractor": contractors,
    "entity": entities,
    "job": jobs,
    "quote": quotes,
    "policy": policies,
}


def make(base_url: str, api_key: str, database_url: str) -> None:
    api = httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {api_key}"})
    engine = create_engine(database_url)

    def create(kind: str, path: str, body: dict, *, example_id: bool = True) -> str:
        response = api.post(path, json=body)
        response.raise_for_status()
        made = response.json()["id"]
        if not example_id:
            return made
        table = TABLES[kind]
        with engine.begin() as connection:
            connection.execute(update(table).where(table.c.id == made).values(id=EXAMPLE_IDS[kind]))
        return EXAMPLE_IDS[kind]

    try:
        # The examples delete the contractor, entity and job at the example ids early on, so
        # the example quote and policy stand on a chain of their own.
        create("contractor", "/contractors", new_contractor(years_experience=10))
        create("entity", "/entities", new_entity(required_coverage=[]))
        create("job", "/jobs", new_job(EXAMPLE_IDS["entity"]))
        contractor = create("contractor", "/contractors", new_contractor(), example_id=False)
        entity = create("entity", "/entities", new_entity(), example_id=False)
        job = create("job", "/jobs", new_job(entity), example_id=False)
        quote = {"contractor": contractor, "job": job, "coverage_type": ["general"]}
        # An eligible quote at the example id, left unbound for the createPolicy example...
        create("quote", "/quotes", quote)
        # ...and the example policy, bound on another quote.
        bound = create("quote", "/quotes", quote, example_id=False)
        create("policy", "/policies", {"quote": bound})
    finally:
        api.close()
        engine.dispose()
