"""The reply check: each forbidden phrase and don't in several variants; polite replies pass."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hub.complaints.phrases import RULES, RULES_BY_ID, RuleKind, check
from tests.complaints.phrase_cases import POLITE, VARIANTS

CASES = [(rule, text) for rule, texts in VARIANTS.items() for text in texts]
NINE = [
    "没有这回事",
    "我绝对没有说过那种话",
    "这个问题属于开发商的事,你去找开发商",
    "我们的服务是一分钱、一份事",
    "这个问题太简单",
    "改天我再和你联系",
    "我不太清楚",
    "总会有办法的",
    "肯定不行",
]


def test_the_rules_cover_the_nine_phrases_and_the_donts() -> None:
    forbidden = [r for r in RULES if r.kind == RuleKind.forbidden_phrase]
    donts = [r for r in RULES if r.kind == RuleKind.anger_dont]
    assert len(forbidden) == 9
    assert len(donts) == 8
    assert set(VARIANTS) == set(RULES_BY_ID)
    assert all(len(texts) >= 4 for texts in VARIANTS.values())
    for rule in RULES:
        assert rule.suggestion
        assert rule.phrase


@pytest.mark.parametrize("phrase", NINE)
def test_each_of_the_nine_phrases_as_written(phrase: str) -> None:
    hits = check(phrase)
    assert hits
    assert hits[0].rule.kind == RuleKind.forbidden_phrase


@pytest.mark.parametrize(("rule", "text"), CASES)
def test_variants_are_found(rule: str, text: str) -> None:
    hits = check(text)
    assert rule in [h.rule.id for h in hits], f"{rule} not found in {text!r}"
    hit = next(h for h in hits if h.rule.id == rule)
    assert hit.matched
    assert hit.matched in text or rule == "only_apologise"


@pytest.mark.parametrize("text", POLITE)
def test_polite_replies_raise_nothing(text: str) -> None:
    assert check(text) == [], [(h.rule.id, h.matched) for h in check(text)]


def test_the_desk_example_comes_back_with_a_better_phrasing() -> None:
    hits = check("这个问题属于开发商的事,你去找开发商")
    assert [h.rule.id for h in hits] == ["go_to_developer"]
    assert "帮您联系开发商" in hits[0].suggestion
    assert hits[0].matched == "属于开发商的事"


_NOISE = st.text(alphabet=" ,.!?;:、,。!?…—~ \u3000", max_size=2)


@settings(max_examples=150, deadline=None)
@given(data=st.data(), phrase=st.sampled_from(NINE))
def test_punctuation_and_spacing_inside_a_phrase_change_nothing(
    data: st.DataObject, phrase: str
) -> None:
    noisy = "".join(ch + data.draw(_NOISE) for ch in phrase)
    assert check(noisy), noisy


@settings(max_examples=150, deadline=None)
@given(prefix=st.sampled_from(POLITE), suffix=st.sampled_from(POLITE), phrase=st.sampled_from(NINE))
def test_a_phrase_inside_polite_text_is_still_found(prefix: str, suffix: str, phrase: str) -> None:
    assert check(f"{prefix}{phrase}。{suffix}")


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet=st.characters(categories=["Nd", "Zs", "Po"]), max_size=40))
def test_digits_spaces_and_punctuation_alone_raise_nothing(text: str) -> None:
    assert check(text) == []
