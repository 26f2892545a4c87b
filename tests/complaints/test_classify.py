"""Classification on intake, measured on a table of realistic contacts.

The table is `classification_cases.toml` beside this file.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from hub.complaints.classify import (
    CATEGORY_TERMS,
    LocationContext,
    classify,
    escalation_signals,
    location_from_text,
)
from hub.complaints.enums import Category, Responsibility, Trigger
from hub.registry.enums import DeviceKind

CASES: list[dict[str, Any]] = tomllib.loads(
    (Path(__file__).parent / "classification_cases.toml").read_text(encoding="utf-8")
)["case"]
FIELDS = ("responsibility", "category", "device_kinds")


def _expected(case: dict[str, Any]) -> dict[str, object]:
    responsibility = case["responsibility"]
    if case.get("party"):
        responsibility += f"/{case['party']}"
    return {
        "responsibility": responsibility,
        "category": case["category"],
        "device_kinds": sorted(case["devices"]),
    }


def _actual(case: dict[str, Any]) -> dict[str, object]:
    location = None
    if "location" in case:
        location = LocationContext(case["location"], case.get("location_kind", "area"))
    result = classify(case["text"], location=location)
    responsibility = str(result.responsibility)
    if result.party:
        responsibility += f"/{result.party}"
    return {
        "responsibility": responsibility,
        "category": str(result.category),
        "device_kinds": sorted(str(k) for k in result.device_kinds),
    }


def test_the_table_is_big_and_varied_enough() -> None:
    assert len(CASES) >= 60
    scripts = {c["script"] for c in CASES}
    assert scripts == {"zh-Hans", "zh-Hant", "en"}
    assert all(sum(c["script"] == s for c in CASES) >= 15 for s in scripts)
    assert {c["domain_case"] for c in CASES if "domain_case" in c} == {1, 2, 3, 4, 5, 6}
    assert {c["category"] for c in CASES} == {str(c) for c in Category}
    assert {c["responsibility"] for c in CASES} == {str(r) for r in Responsibility}
    assert {c.get("party") for c in CASES} >= {"developer", "utility", "government", "neighbour"}
    assert {d for c in CASES for d in c["devices"]} == {str(k) for k in DeviceKind}


def test_accuracy_on_the_table() -> None:
    """Reports accuracy per field; every DOMAIN.md case must be right, the rest mostly."""
    correct = dict.fromkeys(FIELDS, 0)
    held_out = [c for c in CASES if c.get("holdout")]
    held_out_right = 0
    wrong: list[str] = []
    for case in CASES:
        expected, actual = _expected(case), _actual(case)
        for name in FIELDS:
            correct[name] += expected[name] == actual[name]
        if expected != actual:
            wrong.append(f"{case['text'][:40]}… expected {expected}, got {actual}")
            assert "domain_case" not in case, f"DOMAIN.md case {case['domain_case']} wrong"
        elif case.get("holdout"):
            held_out_right += 1
    n = len(CASES)
    all_right = n - len(wrong)
    print(f"\nclassification on {n} texts: all fields right {all_right}/{n} ({all_right / n:.0%})")
    for name in FIELDS:
        print(f"  {name}: {correct[name]}/{n} ({correct[name] / n:.0%})")
    print(f"  held-out texts (not tuned on): {held_out_right}/{len(held_out)} all fields right")
    for line in wrong:
        print("  wrong:", line)
    assert all(correct[name] / n >= 0.9 for name in FIELDS)
    assert all_right / n >= 0.85


def test_every_decision_names_its_reasons() -> None:
    result = classify("3号楼12层走廊灯坏了好几天了,晚上回家很黑")
    assert result.responsibility == Responsibility.property
    assert result.category == Category.facility
    assert result.device_kinds == [DeviceKind.light]
    joined = " | ".join(result.reasons)
    for expected in ("category facility", "走廊灯", "device light", "responsibility property"):
        assert expected in joined
    assert result.location_hint == "3/12"


def test_traditional_and_simplified_read_the_same() -> None:
    simplified = classify("楼上邻居家卫生间漏水,渗到我家天花板了")
    traditional = classify("樓上鄰居家衛生間漏水,滲到我家天花板了")
    assert (simplified.responsibility, simplified.party, simplified.category) == (
        traditional.responsibility,
        traditional.party,
        traditional.category,
    )
    assert simplified.device_kinds == traditional.device_kinds == [DeviceKind.leak]


def test_the_location_counts() -> None:
    bare = classify("没纸了,快来补一下")
    assert DeviceKind.restroom in bare.device_kinds  # supplies alone say restroom
    in_restroom = classify("这里很脏", location=LocationContext("clubhouse/2/men-restroom", "area"))
    assert in_restroom.category == Category.sanitation
    assert DeviceKind.restroom in in_restroom.device_kinds
    assert any("location clubhouse/2/men-restroom" in r for r in in_restroom.reasons)
    at_home = classify("卫生间的灯不亮", location=LocationContext("1/8/802", "unit"))
    assert at_home.device_kinds == [DeviceKind.light]  # a bathroom at home has no dispensers
    public = classify("灯不亮", location=LocationContext("3/12", "floor"))
    assert any("common area" in r for r in public.reasons)


def test_a_near_tie_is_undetermined_not_guessed() -> None:
    result = classify("小区里的路灯不亮,不知道归物业还是市政管")
    assert result.responsibility == Responsibility.undetermined
    assert any("undetermined" in r for r in result.reasons)


@pytest.mark.parametrize(
    ("text", "path"),
    [
        ("3号楼12层走廊灯坏了", "3/12"),
        ("3號樓12層走廊燈壞了", "3/12"),
        ("二号楼十二层的灯", "2/12"),
        ("5栋3楼楼道灯不亮", "5/3"),
        ("我家爆水管了,4-2-301,快点", "4/3/301"),
        ("7号楼1202室漏水", "7/12/1202"),
        ("The lights on building 3, floor 12 are out", "3/12"),
        ("Block 2, 7th floor corridor is dark", "2/7"),
    ],
)
def test_location_is_read_from_the_text(text: str, path: str) -> None:
    found = location_from_text(text)
    assert found is not None
    assert found[0] == path


def test_no_location_in_plain_text() -> None:
    assert location_from_text("电梯坏了") is None


@pytest.mark.parametrize(
    ("text", "trigger"),
    [
        ("当时人群里有记者模样的人扛着录像机在拍", Trigger.media_exposure),
        ("你们再不处理我就发微博曝光", Trigger.media_exposure),
        ("A reporter from the newspaper called me about the flood", Trigger.media_exposure),
        ("我已经请了律师,准备起诉物业", Trigger.reputational_damage),
        ("业主们准备拉横幅,联名换物业", Trigger.reputational_damage),
        ("We have started a petition to replace the property company", Trigger.reputational_damage),
    ],
)
def test_escalation_signals_in_the_text(text: str, trigger: Trigger) -> None:
    assert trigger in escalation_signals(text)


def test_ordinary_text_has_no_escalation_signal() -> None:
    assert escalation_signals("3号楼12层走廊灯坏了好几天了,晚上回家很黑") == {}
    assert escalation_signals("The issue with the courtyard lights is fixed, thanks") == {}


def test_the_lexicons_are_loaded_for_every_label() -> None:
    assert all(CATEGORY_TERMS[c] for c in Category if c is not Category.other)
