"""The logic under correlation, without a database: places, problem words, scores, replies,
areas read from text, notice texts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hub.complaints.phrases import check
from hub.complaints.places import area_hint, best_area
from hub.correlation import weights as w
from hub.correlation.enums import LinkType, Relation
from hub.correlation.places import codes, relate
from hub.correlation.problems import PROBLEMS, said
from hub.correlation.scoring import Candidate, Where, known_issue, rank, score
from hub.correlation.wording import STATUSES, OnIt, suggestion
from hub.notices import wording as notice_wording
from hub.registry.places import place_text

ZONE = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("where", "there", "leak", "gate", "expected"),
    [
        ("3/12", "3/12", False, False, Relation.same_place),
        ("3/12/1201", "3/12", False, False, Relation.same_floor),
        ("3/12", "3/12/pipe-well", True, False, Relation.same_floor),
        ("3/12/1201", "3/12/pipe-well", True, False, Relation.same_floor),
        ("3", "3/12", False, False, Relation.in_building),
        ("2/4/401", "2/5/pipe-well", True, False, Relation.floor_above),
        ("2/2/201", "2/5/pipe-well", True, False, Relation.floors_above),
        ("2/1/101", "2/5/pipe-well", True, False, None),
        ("2/6/601", "2/5/pipe-well", True, False, None),
        ("3/5", "3/12", False, False, None),
        ("1/5", "3/5", False, False, None),
        ("garage", "garage/entrance", False, True, Relation.same_entrance),
        ("north-gate", "north-gate", False, True, Relation.same_entrance),
        ("south-gate", "north-gate", False, True, None),
        (None, "3/12", False, False, Relation.site),
    ],
)
def test_how_places_relate(
    where: str | None, there: str, leak: bool, gate: bool, expected: Relation | None
) -> None:
    there_codes = codes(there)
    assert there_codes is not None
    related = relate(codes(where), there_codes, leak=leak, gate=gate)
    assert (related.relation if related else None) == expected


def test_another_room_on_the_floor_is_not_the_same_restroom() -> None:
    related = relate(
        codes("clubhouse/2/women-restroom"),
        ("clubhouse", "2", "men-restroom"),
        leak=False,
        gate=False,
        room=True,
    )
    assert related is not None
    assert related.relation is Relation.next_door


@pytest.mark.parametrize(
    ("text", "alarms"),
    [
        ("走廊灯不亮，很黑", {"lamp_failure", "light_fault"}),
        ("The lights are out on my floor", {"lamp_failure", "light_fault"}),
        ("会所男卫生间没纸了", {"supplies_low", "supplies_empty"}),
        ("道闸砸到我的车了", {"gate_closed_on_vehicle", "obstruction"}),
        ("南门被大货车堵住了", {"lane_blocked"}),
        ("天花板在滴水", {"leak_detected"}),
        ("下水道堵了", set()),
        ("物业费太贵了", set()),
    ],
)
def test_problem_words(text: str, alarms: set[str]) -> None:
    assert set(said(text).alarms) == alarms


def test_every_problem_names_a_device_kind_and_alarms() -> None:
    assert {str(p.kind) for p in PROBLEMS} == {"light", "leak", "restroom", "gate"}
    assert all(p.alarms and p.terms for p in PROBLEMS)


def _where(text: str, path: str | None, kinds: set[str]) -> Where:
    words = said(text)
    return Where(
        site_id="s",
        path=codes(path),
        unit_only=False,
        kinds=frozenset(kinds) | words.kinds,
        said=words,
        category="facility",
        at=NOW,
    )


def _alarm(path: str, kind: str, alarm: str, *, active: bool = True, ended: int = 0) -> Candidate:
    return Candidate(
        type=LinkType.alarm,
        id=1,
        kinds=frozenset({kind}),
        alarms=frozenset({alarm}),
        places=(codes(path) or (),),
        active=active,
        began_at=NOW - timedelta(minutes=38),
        ended_at=None if active else NOW - timedelta(minutes=ended),
        label=alarm,
    )


def test_a_score_adds_its_parts_and_says_each() -> None:
    found = score(
        _where("3号楼12层楼道灯不亮", "3/12", {"light"}),
        _alarm("3/12", "light", "lamp_failure"),
        zone=ZONE,
    )
    assert found is not None
    assert found.score == round(w.PLACE[Relation.same_place] + w.KIND + w.ACTIVE + w.WORDS, 3)
    assert found.reasons == (
        "同一位置 3/12 same place",
        "lamp_failure since 13:22+08:00, 38 min before",
        "设备类型 device kind light",
        "words: 灯不亮",
    )


def test_ended_candidates_fade_and_then_do_not_count() -> None:
    where = _where("3号楼12层楼道灯不亮", "3/12", {"light"})
    soon = score(where, _alarm("3/12", "light", "lamp_failure", active=False, ended=10), zone=ZONE)
    late = score(where, _alarm("3/12", "light", "lamp_failure", active=False, ended=600), zone=ZONE)
    gone = score(
        where, _alarm("3/12", "light", "lamp_failure", active=False, ended=13 * 60), zone=ZONE
    )
    assert soon is not None
    assert late is not None
    assert soon.score > late.score
    assert gone is None


def test_a_complaint_about_something_else_is_not_scored_against_a_device() -> None:
    assert (
        score(
            _where("楼上装修太吵了", "3/12", set()),
            _alarm("3/12", "light", "lamp_failure"),
            zone=ZONE,
        )
        is None
    )


def test_two_orders_explaining_it_equally_leave_the_choice_to_the_desk() -> None:
    where = _where("会所卫生间没纸了", "clubhouse", {"restroom"})

    def order(n: int, floor: int) -> Candidate:
        return Candidate(
            type=LinkType.work_order,
            id=n,
            kinds=frozenset({"restroom"}),
            alarms=frozenset({"supplies_low"}),
            places=(("clubhouse", str(floor), "men-restroom"),),
            active=True,
            began_at=NOW,
            ended_at=None,
            label=f"work order {n}",
        )

    ranked = rank([s for c in (order(1, 1), order(2, 2)) if (s := score(where, c, zone=ZONE))])
    assert len(ranked) == 2
    assert known_issue(ranked) is None


@settings(max_examples=200, deadline=None)
@given(
    status=st.sampled_from(sorted(STATUSES)),
    department=st.sampled_from(["engineering", "cleaning", "security", "front_desk"]),
    assignee=st.one_of(st.none(), st.text(max_size=30)),
    hold=st.one_of(st.none(), st.text(max_size=60), st.sampled_from(["我不太清楚", "改天再说"])),
    place=st.sampled_from(
        [None, "3/12", "3/12/1201", "2/5/pipe-well", "north-gate", "clubhouse/2/men-restroom"]
    ),
    alarm=st.sampled_from(
        ["lamp_failure", "leak_detected", "supplies_low", "gate_fault", "lane_blocked"]
    ),
    shutoff=st.booleans(),
    overdue=st.booleans(),
)
def test_a_suggested_reply_never_breaks_the_desks_phrase_rules(
    status: str,
    department: str,
    assignee: str | None,
    hold: str | None,
    place: str | None,
    alarm: str,
    shutoff: bool,
    overdue: bool,
) -> None:
    on_it = OnIt(
        order_id=7,
        status=status,
        department=department,
        assignee=assignee,
        place=place,
        alarm_types=(alarm,),
        kinds=(),
        next_step="on_site",
        next_due=NOW + timedelta(minutes=30),
        hold_reason=hold,
        on_hold_since=NOW - timedelta(days=2) if status == "on_hold" else None,
        sensed_at=NOW - timedelta(hours=1),
        resolved_at=NOW if status in ("resolved", "callback", "closed") else None,
        shutoff=shutoff,
        overdue=overdue,
    )
    zh, en = suggestion(on_it, ZONE)
    assert check(zh) == []
    assert check(en) == []
    if status not in ("resolved", "callback", "closed", "cancelled"):
        assert "11月23日 14:30" in zh  # local, as an owner reads it: no ISO, no offset
        assert "Nov 23, 14:30" in en
    assert "+08:00" not in zh + en


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("会所二楼女卫生间没纸了", "clubhouse/2/women-restroom"),
        ("clubhouse 2F women's restroom has no paper", "clubhouse/2/women-restroom"),
        ("会所二楼卫生间", "clubhouse/2"),
        ("北门道闸抬不起来", "north-gate"),
        ("The barrier at the garage entrance hit my car", "garage/entrance"),
        ("second floor ladies in the clubhouse", "clubhouse/2/women-restroom"),
        ("3楼的灯", None),
    ],
)
def test_areas_read_from_the_text(text: str, expected: str | None) -> None:
    paths = [
        "clubhouse",
        "clubhouse/1",
        "clubhouse/2",
        "clubhouse/1/men-restroom",
        "clubhouse/2/men-restroom",
        "clubhouse/2/women-restroom",
        "garage",
        "garage/entrance",
        "north-gate",
        "south-gate",
        "3",
        "3/12",
    ]
    hint = area_hint(text)
    assert (best_area(hint, paths) if hint else None) == expected


def test_an_area_below_a_floor_read_by_its_number() -> None:
    hint = area_hint("3号楼12层管井漏水")
    assert hint is not None
    assert best_area(hint, ["3/12/pipe-well", "3/12/1201"], under="3/12") == "3/12/pipe-well"


@pytest.mark.parametrize(
    ("path", "zh", "en"),
    [
        ("3/12/1201", "3号楼12层1201室", "unit 1201, floor 12 of building 3"),
        ("2/5/pipe-well", "2号楼5层管井", "the pipe well, floor 5 of building 2"),
        ("clubhouse/2/men-restroom", "会所2楼男卫生间", "the clubhouse, floor 2, men's restroom"),
        ("north-gate", "北门", "the north gate"),
    ],
)
def test_places_as_people_say_them(path: str, zh: str, en: str) -> None:
    assert place_text(path) == (zh, en)


def test_a_leak_notice_tells_the_floors_below() -> None:
    text = notice_wording.text("leak_detected", ["2/5/pipe-well"])
    assert "2号楼5层及以下" in text.body
    assert "floor 5 and below in building 2" in text.body_en
    assert notice_wording.notice_type(["battery_low", "device_offline"]) is None
    assert notice_wording.notice_type(["gate_closed_on_vehicle", "lane_blocked"]) == "lane_blocked"
    assert MappingProxyType(notice_wording.GROUPS)["lamp_failure"] == "lights"
