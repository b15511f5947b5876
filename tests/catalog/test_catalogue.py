"""The catalogue: service items with their standard elements, bundles with the union of their
materials, and the `catalog load` command that fills it."""
from __future__ import annotations

import json

import pytest

from tests.catalog.support import load_sample_catalogue, problem_type


@pytest.fixture
def catalogue(app):
    load_sample_catalogue()


def test_anyone_reads_the_service_items_with_their_standard_elements(client, catalogue):
    response = client.get("/api/v1/service-items")
    assert response.status_code == 200
    items = response.json
    assert len(items) >= 12 and len({i["department"] for i in items}) >= 5
    item = client.get("/api/v1/service-items/basic-pension-claim").json
    assert item["name"] == "城镇职工基本养老保险待遇申领"
    assert item["department"] == "市人力资源和社会保障局"
    assert item["materials"] == ["resident-id", "social-security-card"]
    assert item["time_limit_days"] == 5 and item["fee"] == "free"
    assert item["conditions"] and item["steps"] and item["guide"]
    assert {"name": "card_number", "label": "社会保障卡号", "credential": "social-security-card",
            "claim": "card_number"} in item["form"]
    narrowed = client.get("/api/v1/service-items", query_string={"department": "市医疗保障局"}).json
    assert narrowed and {i["department"] for i in narrowed} == {"市医疗保障局"}


def test_an_unknown_item_or_bundle_is_404(client, catalogue):
    for path in ("/api/v1/service-items/no-such-item", "/api/v1/bundles/no-such-bundle",
                 "/api/v1/service-items/%00", "/api/v1/bundles/" + "x" * 300):
        response = client.get(path)
        assert response.status_code == 404 and problem_type(response) == "not-found"


def test_a_bundle_lists_its_items_and_the_union_of_their_materials(client, catalogue):
    bundles = client.get("/api/v1/bundles").json
    assert {"birth", "starting-a-business", "retirement", "moving-house"} <= {b["code"] for b in bundles}
    birth = client.get("/api/v1/bundles/birth").json
    assert birth["name"] == "出生一件事"
    assert [i["code"] for i in birth["items"]] == [
        "birth-medical-certificate", "newborn-household-registration", "newborn-medical-insurance",
        "newborn-social-security-card"]
    assert birth["materials"] == ["resident-id", "household-register", "birth-certificate"]
    for bundle in bundles:
        union = set()
        for item in bundle["items"]:
            # every item's materials are a subset of its bundle's
            assert set(item["materials"]) <= set(bundle["materials"])
            union |= set(item["materials"])
        assert set(bundle["materials"]) == union and len(bundle["materials"]) == len(union)


def _load(runner, tmp_path, data, suffix=".json"):
    path = tmp_path / f"catalogue{suffix}"
    path.write_text(json.dumps(data, ensure_ascii=False) if suffix == ".json" else data, encoding="utf-8")
    return runner.invoke(args=["catalog", "load", str(path)])


ITEM = {"code": "library-card", "name": "读者证办理", "department": "市图书馆", "materials": ["resident-id"],
        "form": [{"name": "name", "label": "姓名", "credential": "resident-id", "claim": "name"}]}


def test_load_is_idempotent(runner, tmp_path, client):
    data = {"service_items": [ITEM, {**ITEM, "code": "library-card-renewal"}],
            "bundles": [{"code": "reading", "name": "阅读一件事", "items": ["library-card", "library-card-renewal"]}]}
    first = _load(runner, tmp_path, data)
    assert first.exit_code == 0, first.output
    assert json.loads(first.output.strip().splitlines()[-1])["bundles"]["created"] == ["reading"]
    again = json.loads(_load(runner, tmp_path, data).output.strip().splitlines()[-1])
    assert again["service_items"] == {"created": [], "updated": [], "unchanged": ["library-card", "library-card-renewal"]}
    data["service_items"][0]["fee"] = "工本费10元"
    changed = json.loads(_load(runner, tmp_path, data).output.strip().splitlines()[-1])
    assert changed["service_items"]["updated"] == ["library-card"]
    assert client.get("/api/v1/service-items/library-card").json["fee"] == "工本费10元"


def test_a_bad_entry_is_named_and_nothing_is_loaded(runner, tmp_path, client):
    data = {"bundles": [{"code": "b", "name": "x", "items": ["library-card"]}],
            "service_items": [
                ITEM,
                {**ITEM, "code": "Bad Code"},
                {**ITEM, "code": "two", "materials": ["passport"]},
                {**ITEM, "code": "three", "form": [{"name": "x", "credential": "driver-licence", "claim": "class"}]},
                {**ITEM, "code": "four", "form": [{"name": "x", "credential": "resident-id", "claim": "shoe"}]},
                {**ITEM, "code": "five", "time_limit_days": -1, "colour": "red"},
                "not a mapping",
                ITEM,
            ]}
    result = _load(runner, tmp_path, data)
    assert result.exit_code != 0
    out = result.output
    assert "nothing loaded" in out
    assert "service_items[1]: code must be" in out
    assert "service_items[2]: materials: unknown credential types: passport" in out
    assert "service_items[3]: form[0].credential 'driver-licence' is not among the item's materials" in out
    assert "service_items[4]: form[0].claim resident-id has no claim 'shoe'" in out
    assert "service_items[5]: unknown fields: colour" in out and "time_limit_days" in out
    assert "service_items[6]: must be a mapping" in out
    assert "service_items[7]: this code appears twice" in out
    assert client.get("/api/v1/service-items/library-card").status_code == 404


def test_a_bundle_must_join_known_items(runner, tmp_path, client):
    result = _load(runner, tmp_path, {"bundles": [{"code": "b", "name": "x", "items": ["nope", "nada"]},
                                                  {"code": "c", "name": "y", "items": ["solo"]}]})
    assert result.exit_code != 0
    assert "bundles[0]: items: unknown service items: nope, nada" in result.output
    assert "bundles[1]: items must be a list of at least two" in result.output


def test_yaml_files_and_broken_files(runner, tmp_path):
    ok = _load(runner, tmp_path, "service_items:\n  - code: x1\n    name: 一\n    department: 某局\n", ".yaml")
    assert ok.exit_code == 0, ok.output
    broken = _load(runner, tmp_path, "service_items: [unclosed", ".yaml")
    assert broken.exit_code != 0 and "not valid YAML" in broken.output
    unknown = _load(runner, tmp_path, {"services": []})
    assert unknown.exit_code != 0 and "unknown sections: services" in unknown.output
    not_list = _load(runner, tmp_path, {"service_items": {"code": "x"}})
    assert not_list.exit_code != 0 and "service_items: must be a list" in not_list.output
