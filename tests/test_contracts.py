"""Every route's real answers, from the real server, checked against the app's own OpenAPI
schema: the status is documented for the route, the content type too, and the body validates
against the documented schema (JSON Schema 2020-12, which OpenAPI 3.1 uses). A route the schema
lists and this test does not call fails the test, so a new route comes with its check."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import httpx
from jsonschema import Draft202012Validator

from .test_api import ITEMS

ANSWERS_LEFT_OUT = {("/openapi.json", "get")}  # the schema itself


def documented(spec: dict[str, Any], path: str, method: str, r: httpx.Response) -> None:
    responses = spec["paths"][path][method]["responses"]
    status = str(r.status_code)
    assert status in responses, f"{method.upper()} {path} answered {status}, documented: {sorted(responses)}"
    media = r.headers["content-type"].split(";")[0].strip()
    content = responses[status].get("content", {})
    assert media in content, f"{method.upper()} {path} {status}: {media} not documented ({sorted(content)})"
    body = r.json() if media == "application/json" else r.text
    # the response schema with the components beside it, so its $refs resolve
    schema = {**content[media]["schema"], "components": spec["components"]}
    errors = sorted(Draft202012Validator(schema).iter_errors(body), key=str)
    assert not errors, f"{method.upper()} {path} {status}: {[e.message for e in errors][:3]}\n{r.text[:500]}"


def unreadable_version(root: Path, vid: str) -> str:
    """A version the store lists but cannot read (a manifest from the future): /v1/models says so."""
    bad = vid[:-6] + "bad000"
    shutil.copytree(root / "default" / "versions" / vid, root / "default" / "versions" / bad)
    manifest = root / "default" / "versions" / bad / "manifest.json"
    m = json.loads(manifest.read_text())
    m["schema_version"] = 99
    manifest.write_text(json.dumps(m))
    return bad


def test_every_route_answers_as_its_openapi_schema_says(store_copy: dict, serve: Any) -> None:
    bad = unreadable_version(store_copy["root"], store_copy["v1"])
    srv = serve(store_copy["root"])
    spec = httpx.get(srv.url + "/openapi.json").json()
    assert spec["openapi"].startswith("3.1")
    called: set[tuple[str, str]] = set()

    def call(method: str, path: str, status: int, **kw: Any) -> httpx.Response:
        r = httpx.request(method, srv.url + path, timeout=60, **kw)
        assert r.status_code == status, (method, path, r.status_code, r.text)
        documented(spec, path, method.lower(), r)
        called.add((path, method.lower()))
        return r

    call("GET", "/healthz", 200)
    call("GET", "/readyz", 200)
    assert "rewardgate_requests_total" in call("GET", "/metrics", 200).text
    models = call("GET", "/v1/models", 200).json()
    assert {"error"} <= set(next(v for v in models["versions"] if v["version"] == bad))
    call("POST", "/score", 200, json={"items": ITEMS})
    call("POST", "/score", 422, json={"items": []})
    call("POST", "/score", 413, json={"items": ["a"] * 65})
    gate = call("POST", "/gate", 200, json={"items": ITEMS, "threshold": 0.0}).json()
    # the test model has quality dimensions: a score per dimension, and reasons
    fields = {"score", "scores", "allowed", "decision", "would_block", "reasons", "truncated"}
    assert [set(r) for r in gate["results"]] == [fields] * 4
    call("POST", "/gate", 200, json={"items": ITEMS, "thresholds": {"privacy": 1e9}})
    call("POST", "/gate", 422, json={"items": ITEMS, "thresholds": {"spelling": 0.0}})
    moderated = call("POST", "/v1/moderations", 200, json={"input": ["a reply", "another"]}).json()
    assert len(moderated["results"]) == 2
    call("POST", "/v1/moderations", 200, json={"input": "one reply", "model": "default"})
    call("POST", "/v1/moderations", 404, json={"input": "hi", "model": "omni-moderation-latest"})
    call("POST", "/v1/moderations", 422, json={"input": []})
    call("POST", "/classify", 200, json={"model": "default", "input": ["a reply", "another"]})
    call("POST", "/classify", 200, json={"input": "one reply", "use_activation": False})
    call("POST", "/classify", 404, json={"model": "gpt-4", "input": "hi"})
    call("POST", "/predict", 200, json={"inputs": ["Where is my order?", "It arrives tomorrow."]})
    call("POST", "/predict", 200, json={"inputs": [["Where is it?", "Here."], "Go away."], "raw_scores": True})
    call("POST", "/rank", 200, json={"prompt": "Where is my order?", "responses": ["Tomorrow.", "Go away."]})
    call("POST", "/rank", 422, json={"prompt": "Where is my order?", "responses": []})
    call("POST", "/rerank", 200, json={"query": "Where is my order?", "texts": ["Tomorrow.", "Go away."]})
    call("POST", "/v1/rerank", 200, json={"query": "Where is my order?", "documents": ["Tomorrow.", "Go away."]})
    call("POST", "/v1/rerank", 404, json={"model": "rerank-v3", "query": "q", "documents": ["a"]})
    call("POST", "/admin/reload", 200, json={"version": store_copy["v1"]})
    call("POST", "/admin/reload", 200)
    call("POST", "/admin/reload", 409, json={"version": "20990101T000000000000Z-nope00"})
    call("POST", "/admin/reload", 422, json={"version": "../../etc"})
    assert call("POST", "/admin/challenger", 200, json={"version": store_copy["v1"], "share": 0.25}).json() == {
        "version": store_copy["v1"],
        "share": 0.25,
    }
    call("POST", "/admin/challenger", 200, json={"version": None})
    listed = {(path, method) for path, ops in spec["paths"].items() for method in ops}
    assert listed - ANSWERS_LEFT_OUT - called == set(), "routes whose answers no test checks"


def test_auth_and_not_ready_answers_are_documented(tmp_path: Path, serve: Any) -> None:
    srv = serve(tmp_path / "empty", wait_ready=False, api_keys="k1", admin_keys="adm", metrics_auth=True)
    spec = httpx.get(srv.url + "/openapi.json").json()
    for method, path in [("POST", "/score"), ("GET", "/v1/models"), ("POST", "/admin/reload"), ("GET", "/metrics")]:
        r = httpx.request(method, srv.url + path, json={"items": ["a"]} if path == "/score" else None)
        assert r.status_code == 401
        documented(spec, path, method.lower(), r)
    r = httpx.post(srv.url + "/admin/reload", headers={"Authorization": "Bearer k1"})
    assert r.status_code == 403
    documented(spec, "/admin/reload", "post", r)
    r = httpx.get(srv.url + "/readyz")
    assert r.status_code == 503
    documented(spec, "/readyz", "get", r)
    r = httpx.post(srv.url + "/gate", json={"items": ["a"]}, headers={"Authorization": "Bearer k1"})
    assert r.status_code == 503
    documented(spec, "/gate", "post", r)
