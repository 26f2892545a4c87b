"""Where a complaint says the problem is: location paths read from Chinese and English text."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hub.complaints.classify import classify, location_from_text

PATH = re.compile(r"^[1-9][0-9]*/[1-9][0-9]*(/[0-9]{3,4})?$")


@pytest.mark.parametrize(
    ("text", "path"),
    [
        # Chinese
        ("3号楼12层走廊灯坏了", "3/12"),
        ("3號樓12層走廊燈壞了", "3/12"),
        ("二号楼十二层的灯", "2/12"),
        ("5栋3楼楼道灯不亮", "5/3"),
        ("4-2-301家里漏水", "4/3/301"),
        ("我家爆水管了,4-2-301,快点", "4/3/301"),
        ("4栋2单元301天花板渗水", "4/3/301"),
        ("7号楼1202室漏水", "7/12/1202"),
        ("业主住3-12-1201,说楼道灯不亮", "3/12/1201"),
        ("１号楼８层", "1/8"),
        # English
        ("The light on floor 12 of building 3 is out", "3/12"),
        ("building 3 floor 12 corridor is dark", "3/12"),
        ("The lights on building 3, floor 12 are out", "3/12"),
        ("Block 2, 7th floor corridor is dark", "2/7"),
        ("bldg 3, 12th floor: water on the stairs", "3/12"),
        ("Bldg. 3 fl. 12", "3/12"),
        ("Building 3, 12F lamp broken", "3/12"),
        ("the 12th floor of Building 3 smells of gas", "3/12"),
        ("3rd floor, block 5", "5/3"),
        ("B3 F12 corridor light", "3/12"),
        ("B3F12 corridor light", "3/12"),
        ("b3-f12", "3/12"),
        ("Leak in 3-12-1201, please hurry", "3/12/1201"),
        ("on 12-01-2026 the pipe in 4-2-301 burst", "4/3/301"),
    ],
)
def test_location_is_read_from_the_text(text: str, path: str) -> None:
    found = location_from_text(text)
    assert found is not None, text
    assert found[0] == path


@pytest.mark.parametrize(
    "text",
    [
        # phone numbers
        "请回电13800000001",
        "call me on 138-0000-0001",
        "+86 138 0000 0001",
        "+86-10-12345678",
        "座机0755-8888-1234",
        "3号楼13800000001",
        # dates
        "2026-12-01开始就这样了",
        "since 2026-12-01",
        "since 12-01-2026",
        "from 1-12-2026 on",
        "2026年12月1号报修过",
        # amounts and counts
        "赔偿5000元",
        "3栋2023年就坏了",
        "paid 3,500 yuan for the repair",
        "it cost $12.50",
        "等了3-5天",
        # half a location, or none
        "B3层停车场的灯",
        "F12",
        "building 3 of 12",
        "building 0 floor 0",
        "4-0-001",
        "电梯坏了",
        "",
    ],
)
def test_numbers_that_are_not_locations(text: str) -> None:
    assert location_from_text(text) is None


def test_the_classification_names_the_location_it_read() -> None:
    result = classify("The corridor light on floor 12 of building 3 has been out for days")
    assert result.location_hint == "3/12"
    assert any("location 3/12 from the text" in r for r in result.reasons)


@settings(max_examples=300, deadline=None)
@given(text=st.text())
def test_any_text_reads_without_error(text: str) -> None:
    found = location_from_text(text)
    if found is not None:
        assert PATH.match(found[0]), found


PIECES = [*"0123456789-- ,.#bfBF+年元月层栋楼", "号楼", "单元", "building ", "floor ", "of ", "th "]
LOCATIONISH = st.lists(st.sampled_from(PIECES), max_size=20).map("".join)


@settings(max_examples=300, deadline=None)
@given(text=LOCATIONISH)
def test_location_like_text_reads_without_error(text: str) -> None:
    found = location_from_text(text)
    if found is not None:
        assert PATH.match(found[0]), found


@settings(max_examples=200, deadline=None)
@given(
    building=st.integers(1, 30),
    floor=st.integers(1, 60),
    room=st.integers(1, 12),
    form=st.sampled_from(
        [
            "{b}号楼{f}层",
            "{b}栋{f}楼",
            "building {b} floor {f}",
            "Bldg {b}, {f}th floor",
            "floor {f} of building {b}",
            "B{b}F{f}",
            "B{b} F{f}",
            "{b}-{f}-{unit}",
            "{b}号楼{unit}室",
        ]
    ),
)
def test_every_form_gives_its_building_and_floor(
    building: int, floor: int, room: int, form: str
) -> None:
    unit = f"{floor}{room:02d}"
    text = "请处理 " + form.format(b=building, f=floor, unit=unit) + " 的问题"
    found = location_from_text(text)
    assert found is not None, text
    expected = f"{building}/{floor}/{unit}" if "{unit}" in form else f"{building}/{floor}"
    assert found[0] == expected
