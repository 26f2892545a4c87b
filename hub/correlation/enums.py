"""Vocabulary of correlation: what a complaint links to, and how two places relate."""

from __future__ import annotations

from enum import StrEnum


class LinkType(StrEnum):
    """What a complaint's link points at (CONTRACT.md §4)."""

    work_order = "work_order"
    alarm = "alarm"
    notice = "notice"
    signal = "signal"
    complaint = "complaint"
    inspection = "inspection"


class Relation(StrEnum):
    """How the complaint's place relates to a candidate's place in the location tree."""

    same_place = "same_place"
    same_entrance = "same_entrance"
    same_floor = "same_floor"
    next_door = "next_door"
    floor_above = "floor_above"
    floors_above = "floors_above"
    in_building = "in_building"
    site = "site"


class Found(StrEnum):
    """Which way a link was found: at intake (complaint → sensors) or later (sensor → complaint)."""

    intake = "intake"
    alarm = "alarm"
