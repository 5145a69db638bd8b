"""Objects at the spec's example ids, made before the conformance run, as stripe-mock ships
fixtures for its spec: the examples phase then reads, changes and deletes real objects (a
contractor, an entity, a job, an eligible quote and its policy) instead of meeting only 404s,
whatever the random walk of the stateful phase reaches.

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

    def create(kind: str, path: str, body: dict) -> None:
        response = api.post(path, json=body)
        response.raise_for_status()
        table = TABLES[kind]
        with engine.begin() as connection:
            connection.execute(
                update(table)
                .where(table.c.id == response.json()["id"])
                .values(id=EXAMPLE_IDS[kind])
            )

    try:
        create("contractor", "/contractors", new_contractor(years_experience=10))
        create("entity", "/entities", new_entity(required_coverage=[]))
        create("job", "/jobs", new_job(EXAMPLE_IDS["entity"]))
        quote = {
            "contractor": EXAMPLE_IDS["contractor"],
            "job": EXAMPLE_IDS["job"],
            "coverage_type": ["general", "workers-comp"],
        }
        create("quote", "/quotes", quote)
        create("policy", "/policies", {"quote": EXAMPLE_IDS["quote"]})
    finally:
        api.close()
        engine.dispose()
