"""The Python client: the package openapi-python-client generated is installed, then it runs the
scenario the TypeScript client runs against the live server."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import pytest

from codegen import clients

pytestmark = pytest.mark.usefixtures("built")


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Iterator[None]:
    """Installs the generated project (its own build backend, poetry-core) where it imports."""
    target = tmp_path_factory.mktemp("site")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",  # httpx and attrs are pinned in this env already
            "--no-build-isolation",
            "--target",
            str(target),
            str(clients.python_project()),
        ],
        check=True,
    )
    assert (target / clients.PYTHON_PACKAGE / "py.typed").exists()
    sys.path.insert(0, str(target))
    yield
    sys.path.remove(str(target))
    for name in [name for name in sys.modules if name.startswith(clients.PYTHON_PACKAGE)]:
        del sys.modules[name]


def test_the_scenario_runs_against_the_server(installed, server):
    from ten99policy_client import AuthenticatedClient, models
    from ten99policy_client.api.contractors import (
        create_contractor,
        delete_contractor,
        list_contractors,
        retrieve_contractor,
        update_contractor,
    )

    client = AuthenticatedClient(base_url=server.base_url, token=server.api_key)
    new = models.ContractorCreate(
        first_name="Joe",
        last_name="Parker",
        email="parker@gmail.com",
        phone="415-474-9088",
        address=models.Address(
            line1="1 Kearny St", locality="San Francisco", postalcode="94104", region="CA"
        ),
        custom_metadata=models.CustomMetadata.from_dict({"campaign": "Red Bull"}),
    )

    created = create_contractor.sync_detailed(client=client, body=new)
    assert created.status_code == 201
    contractor = created.parsed
    assert isinstance(contractor, models.Contractor)
    assert contractor.id.startswith("cn_") and contractor.object_ == "contractor"
    assert contractor.custom_metadata["campaign"] == "Red Bull"

    listed = list_contractors.sync(client=client, limit=10)
    assert [each.id for each in listed] == [contractor.id]

    retrieved = retrieve_contractor.sync(contractor.id, client=client)
    assert isinstance(retrieved, models.Contractor) and retrieved.email == "parker@gmail.com"

    change = models.ContractorUpdate(email="joe.parker@gmail.com", middle_name="Lee")
    updated = update_contractor.sync(contractor.id, client=client, body=change)
    assert isinstance(updated, models.Contractor)
    assert (updated.email, updated.middle_name) == ("joe.parker@gmail.com", "Lee")

    deleted = delete_contractor.sync(contractor.id, client=client)
    assert isinstance(deleted, models.DeletedContractor)
    assert deleted.deleted is True and deleted.id == contractor.id

    missing = retrieve_contractor.sync_detailed(contractor.id, client=client)
    assert missing.status_code == 404
    assert isinstance(missing.parsed, models.Error)
    assert missing.parsed.error_code == "resource_not_found"
    assert contractor.id in missing.parsed.message

    stranger = AuthenticatedClient(base_url=server.base_url, token="t9k_test_x")
    refused = list_contractors.sync_detailed(client=stranger)
    assert refused.status_code == 401
    assert isinstance(refused.parsed, models.Error)
    assert refused.parsed.error_code == "invalid_api_key"
