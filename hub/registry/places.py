"""Places as people say them: a location path in Chinese and in English.

`3/12/1201` is 3号楼12层1201室, "unit 1201, floor 12 of building 3"; areas are named by
their usual codes (`pipe-well` 管井, `men-restroom` 男卫生间, `north-gate` 北门), any other
code by itself.
"""

from __future__ import annotations

AREAS: dict[str, tuple[str, str]] = {
    "pipe-well": ("管井", "the pipe well"),
    "clubhouse": ("会所", "the clubhouse"),
    "garage": ("车库", "the garage"),
    "entrance": ("入口", "entrance"),
    "men-restroom": ("男卫生间", "men's restroom"),
    "women-restroom": ("女卫生间", "women's restroom"),
    "north-gate": ("北门", "the north gate"),
    "south-gate": ("南门", "the south gate"),
    "east-gate": ("东门", "the east gate"),
    "west-gate": ("西门", "the west gate"),
    "lobby": ("大堂", "the lobby"),
}


def halves(text: str) -> tuple[str, str]:
    """A "中文 English" text (the hub's rule titles, an old name) as its Chinese and English
    halves: `漏水 Water leak` → (`漏水`, `Water leak`); a text in one language is both."""
    for index, char in enumerate(text):
        if char.isascii() and char.isalpha():
            head = text[:index].strip()
            if head and any("\u3400" <= c <= "\u9fff" for c in head):
                return head, text[index:].strip()
            break
    return text, text


def place_text(path: str | None) -> tuple[str, str]:
    """A path as people say it: 3/12/1201 → 3号楼12层1201室, unit 1201, floor 12 of building 3."""
    if not path:
        return "", ""
    codes = path.split("/")
    if codes[0].isdigit():
        zh = f"{codes[0]}号楼"
        en = f"building {codes[0]}"
        if len(codes) > 1 and codes[1].isdigit():
            zh += f"{codes[1]}层"
            en = f"floor {codes[1]} of {en}"
        for code in codes[2:]:
            if code.isdigit():
                zh, en = zh + f"{code}室", f"unit {code}, {en}"
            else:
                area_zh, area_en = AREAS.get(code, (code, code))
                zh, en = zh + area_zh, f"{area_en}, {en}"
        return zh, en
    parts_zh, parts_en = [], []
    for depth, code in enumerate(codes):
        if code.isdigit() and depth > 0:
            parts_zh.append(f"{code}楼")
            parts_en.append(f"floor {code}")
        else:
            area_zh, area_en = AREAS.get(code, (code, code))
            parts_zh.append(area_zh)
            parts_en.append(area_en)
    return "".join(parts_zh), ", ".join(parts_en)
