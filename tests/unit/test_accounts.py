from server.core.ids import new_id
from server.core.principals import Environment, generate_key, hash_key, key_environment


def test_keys_carry_their_environment_in_the_prefix():
    assert generate_key(Environment.SANDBOX).startswith("t9k_test_")
    assert generate_key(Environment.PRODUCTION).startswith("t9k_live_")
    assert key_environment(generate_key(Environment.PRODUCTION)) is Environment.PRODUCTION
    assert key_environment("sk_test_123") is None


def test_keys_are_unique_and_only_their_hash_is_kept():
    key = generate_key(Environment.SANDBOX)
    assert key != generate_key(Environment.SANDBOX)
    assert key not in hash_key(key)
    assert hash_key(key) == hash_key(key)


def test_ids_have_the_kind_prefix_and_random_characters():
    ids = {new_id("cn") for _ in range(1000)}
    assert len(ids) == 1000
    assert all(i.startswith("cn_") and i[3:].isalnum() for i in ids)
