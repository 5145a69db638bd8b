import pytest

from server.middleware.resolver import snake_case


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("createContractor", "create_contractor"),
        ("listApplicationSessions", "list_application_sessions"),
        ("Contractors", "contractors"),
        ("Application Sessions", "application_sessions"),
    ],
)
def test_operation_ids_and_tags_become_python_names(name, expected):
    assert snake_case(name) == expected
