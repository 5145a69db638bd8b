import pytest

from server.core.errors import InvalidRequest
from server.domain.contractors import (
    MAX_METADATA_KEYS,
    apply_update,
    check_metadata_size,
    merge_custom_metadata,
)

CURRENT = {
    "first_name": "Joe",
    "middle_name": "Lee",
    "last_name": "Parker",
    "email": "parker@gmail.com",
    "phone": "415-474-9088",
    "company_name": "Acme Co.",
    "address": {"line1": "1 Kearny St", "locality": "SF", "postalcode": "94104", "region": "CA"},
    "tax_identification": None,
    "custom_metadata": {"campaign": "Red Bull", "tier": "gold"},
}


def test_empty_object_unsets_every_metadata_key():
    assert merge_custom_metadata({"a": "1", "b": "2"}, {}) == {}


def test_empty_value_unsets_one_key_and_others_are_set_or_replaced():
    merged = merge_custom_metadata({"a": "1", "b": "2"}, {"a": "", "b": "3", "c": "4"})
    assert merged == {"b": "3", "c": "4"}


def test_unsetting_a_key_that_is_not_there_is_harmless():
    assert merge_custom_metadata({"a": "1"}, {"zzz": ""}) == {"a": "1"}


def test_update_leaves_fields_it_does_not_name():
    updated = apply_update(CURRENT, {"email": "joe@example.org"})
    assert updated == {**CURRENT, "email": "joe@example.org"}


def test_update_with_null_clears_a_nullable_field():
    assert apply_update(CURRENT, {"middle_name": None})["middle_name"] is None


def test_update_replaces_the_whole_address():
    address = {"line1": "2 Main St", "locality": "Austin", "postalcode": "78701", "region": "TX"}
    assert apply_update(CURRENT, {"address": address})["address"] == address


def test_update_merges_metadata_by_the_documented_rules():
    updated = apply_update(CURRENT, {"custom_metadata": {"campaign": "", "source": "ads"}})
    assert updated["custom_metadata"] == {"tier": "gold", "source": "ads"}


def test_update_refuses_metadata_that_would_grow_past_the_limit():
    full = {**CURRENT, "custom_metadata": {f"k{i}": "v" for i in range(MAX_METADATA_KEYS)}}
    with pytest.raises(InvalidRequest) as raised:
        apply_update(full, {"custom_metadata": {"one_more": "v"}})
    assert raised.value.param == "custom_metadata"


def test_metadata_at_the_limit_is_fine():
    check_metadata_size({f"k{i}": "v" for i in range(MAX_METADATA_KEYS)})
