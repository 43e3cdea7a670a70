"""Bad and hostile input, property-based: whatever arrives, the answer is a 4xx in the one error
shape (or a 200 for input that is valid after all), never a 500, and the server keeps answering.
Also: keys and user text stay out of logs."""

from __future__ import annotations

import json
import signal
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

LIMITS = {"max_items": 8, "max_chars": 2000, "max_body_bytes": 65536}

json_leaf = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=50))
json_any = st.recursive(
    json_leaf, lambda c: st.lists(c, max_size=5) | st.dictionaries(st.text(max_size=10), c, max_size=5), max_leaves=30
)
item = st.one_of(
    st.text(max_size=300),
    st.fixed_dictionaries(
        {"response": st.text(max_size=300)}, optional={"prompt": st.one_of(st.none(), st.text(max_size=300))}
    ),
    json_any,
)
bodies = st.one_of(
    json_any,
    st.fixed_dictionaries({"items": st.lists(item, max_size=12)}),
    st.fixed_dictionaries(
        {"items": st.lists(item, min_size=1, max_size=3)}, optional={"threshold": json_leaf, "extra": json_any}
    ),
)


@pytest.fixture(scope="module")
def server(trained_store: dict) -> Any:
    from app.settings import Settings

    from .conftest import LiveServer

    srv = LiveServer(Settings(store=trained_store["root"], **LIMITS))
    yield srv
    srv.stop()


def check(r: httpx.Response) -> None:
    assert r.status_code < 500, (r.status_code, r.text[:300])
    if r.status_code >= 400:
        body = r.json()
        assert (
            set(body) == {"error"}
            and isinstance(body["error"]["type"], str)
            and isinstance(body["error"]["message"], str)
        )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=bodies, route=st.sampled_from(["/score", "/gate"]))
def test_random_json_bodies(server: Any, body: Any, route: str) -> None:
    # json.dumps writes inf/nan as Infinity/NaN (not JSON, but Python's parser takes them): good abuse
    raw = json.dumps(body).encode()
    check(httpx.post(server.url + route, content=raw, headers={"content-type": "application/json"}, timeout=30))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    raw=st.binary(max_size=2000),
    ctype=st.sampled_from(["application/json", "text/plain", "application/x-www-form-urlencoded", ""]),
)
def test_random_bytes_and_content_types(server: Any, raw: bytes, ctype: str) -> None:
    headers = {"content-type": ctype} if ctype else {}
    check(httpx.post(server.url + "/gate", content=raw, headers=headers, timeout=30))


@pytest.mark.parametrize(
    "raw, status",
    [
        (b'{"items": ["\xff\xfe bad utf-8"]}', 422),
        (b"[" * 50000 + b"]" * 50000, 413),
        (b'{"items": ' + b"[" * 5000 + b"]" * 5000 + b"}", 422),
        (b'{"items": ["' + b"x" * 3000 + b'"]}', 422),
        (b'{"items": []}', 422),
        (b'{"items": ["a","a","a","a","a","a","a","a"]}', 200),
        (b'{"items": ["a","a","a","a","a","a","a","a","a"]}', 413),
        (b'{"items": [{"response": "nul \\u0000 byte"}]}', 200),
        (b'{"items": ["ok"], "threshold": 1e999}', 422),
        (b"", 422),
        (b"null", 422),
    ],
)
def test_specific_hostile_bodies(server: Any, raw: bytes, status: int) -> None:
    r = httpx.post(server.url + "/gate", content=raw, headers={"content-type": "application/json"}, timeout=30)
    check(r)
    assert r.status_code == status, r.text[:300]


def test_still_answers_after_abuse(server: Any) -> None:
    r = httpx.post(server.url + "/score", json={"items": ["fine"]})
    assert r.status_code == 200 and len(r.json()["results"]) == 1


def test_keys_and_user_text_stay_out_of_logs(trained_store: dict) -> None:
    """``python -m app`` with the logging it really uses (uvicorn's loggers included), at debug
    level: neither keys nor user text reach its output."""
    from tests.test_reliability import start_app

    env = {
        "REWARDGATE_STORE": str(trained_store["root"]),
        "REWARDGATE_API_KEYS": "sekrit-api-key",
        "REWARDGATE_ADMIN_KEYS": "sekrit-admin-key",
        "REWARDGATE_LOG_LEVEL": "debug",
    }
    proc, url = start_app(env)
    marker = "USER-TEXT-MARKER-91"
    try:
        for key in ("wrong-key-guess", "sekrit-api-key"):
            r = httpx.post(url + "/gate", json={"items": [marker]}, headers={"Authorization": f"Bearer {key}"})
            assert "sekrit" not in r.text and "wrong-key-guess" not in r.text
        auth = {"Authorization": "Bearer sekrit-api-key"}
        httpx.post(url + "/score", json={"items": [marker * 10000]}, headers=auth)
        httpx.post(url + "/score", json={"items": [{"prompt": marker, "response": ""}]}, headers=auth)
        httpx.post(url + "/score", content=b'{"items": ["' + marker.encode() + b'"', headers=auth)
        httpx.post(
            url + "/admin/reload",
            json={"version": "../" + marker},
            headers={"Authorization": "Bearer sekrit-admin-key"},
        )
        ok = httpx.post(url + "/admin/reload", headers={"Authorization": "Bearer sekrit-admin-key"})
        assert ok.status_code == 200
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
    logged = out.decode()
    assert "uvicorn" in logged.lower() or "Started server" in logged  # uvicorn's own loggers were captured
    assert "loaded default/" in logged  # and ours
    for secret in ("sekrit-api-key", "sekrit-admin-key", "wrong-key-guess", marker):
        assert secret not in logged, secret


def test_pickle_weights_are_never_loaded(store_copy: dict, serve: Any) -> None:
    """A version whose only weights are a pickle file is refused, even with a matching checksum."""
    from model_store import ModelStore
    from model_store.store import sha256_file

    root = store_copy["root"]
    vdir = root / "default" / "versions" / store_copy["v1"]
    (vdir / "model.safetensors").rename(vdir / "pytorch_model.bin")
    m = json.loads((vdir / "manifest.json").read_text())
    m["files"].pop("model.safetensors")
    m["files"]["pytorch_model.bin"] = sha256_file(vdir / "pytorch_model.bin")
    (vdir / "manifest.json").write_text(json.dumps(m))
    srv = serve(root)
    r = httpx.post(srv.url + "/admin/reload", json={"version": store_copy["v1"]})
    assert r.status_code == 409 and "safetensors" in r.json()["error"]["message"]
    assert ModelStore(root).current("default") == store_copy["v2"]
