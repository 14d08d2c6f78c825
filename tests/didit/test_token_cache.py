"""The OAuth token in a shared cache: adopted while good, renewed before expiry, dropped on 401."""

from __future__ import annotations

import time


class DictCache:
    """The part of Django's cache API the transport uses."""

    def __init__(self) -> None:
        self.data: dict[str, object] = {}

    def get(self, key):
        return self.data.get(key)

    def set(self, key, value, timeout=None):
        self.data[key] = value

    def delete(self, key):
        self.data.pop(key, None)


def test_clients_sharing_a_cache_share_one_token(didit_sandbox, make_client):
    cache = DictCache()
    session_id = didit_sandbox.session_ids()[0]
    for _ in range(3):
        make_client(didit_sandbox, auth="oauth", token_cache=cache).get_decision(session_id)
    assert didit_sandbox.calls["token"] == 1
    [entry] = cache.data.values()
    assert "sandbox-client-secret" not in repr(cache.data)
    assert entry["renew_at"] > time.time()


def test_a_cached_token_past_its_renewal_time_is_not_used(didit_sandbox, make_client):
    cache = DictCache()
    session_id = didit_sandbox.session_ids()[0]
    make_client(didit_sandbox, auth="oauth", token_cache=cache).get_decision(session_id)
    for entry in cache.data.values():
        entry["renew_at"] = time.time() - 1
    make_client(didit_sandbox, auth="oauth", token_cache=cache).get_decision(session_id)
    assert didit_sandbox.calls["token"] == 2


def test_a_broken_cache_costs_a_token_fetch_not_the_call(didit_sandbox, make_client):
    class BrokenCache(DictCache):
        def get(self, key):
            raise ConnectionError("cache down")

        def set(self, key, value, timeout=None):
            raise ConnectionError("cache down")

    client = make_client(didit_sandbox, auth="oauth", token_cache=BrokenCache())
    session_id = didit_sandbox.session_ids()[0]
    assert client.get_decision(session_id)["session_id"] == session_id
    assert didit_sandbox.calls["token"] == 1
