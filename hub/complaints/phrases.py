"""Check what the desk says to an owner: the nine forbidden phrases and the anger-handling don'ts.

The sources (DOMAIN.md, seeds) list nine phrases never to say at the desk (九句禁语) and the
things never to do with an angry owner (平息顾客愤怒的"禁止"法则). Each rule here is a set
of patterns for the phrase and its everyday variants, in Chinese and English, and a better
phrasing to offer instead.

Matching is on folded text (`text.py`): Chinese patterns see the text without spaces,
punctuation or symbols and in simplified characters, so "没有,这 回事!" and "沒有這回事"
are the same; English patterns see lower-case words separated by single spaces, without
apostrophes ("I DON'T know" → "i dont know"). Patterns are written narrowly — a phrase that
denies, refuses, belittles or pushes the owner away — so that ordinary polite replies
("我们帮您联系开发商", "请放心,我们今天下午三点前给您回复") raise nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from hub.complaints.text import Folded, fold


class RuleKind(StrEnum):
    """Which list a rule comes from."""

    forbidden_phrase = "forbidden_phrase"
    anger_dont = "anger_dont"


@dataclass(frozen=True)
class PhraseRule:
    """One thing not to say, how to recognise it, and what to say instead."""

    id: str
    kind: RuleKind
    phrase: str
    suggestion: str
    zh: tuple[str, ...]
    en: tuple[str, ...]


@dataclass(frozen=True)
class Hit:
    """A rule found in a reply, with the words that triggered it."""

    rule: PhraseRule
    matched: str

    @property
    def phrase(self) -> str:
        """The canonical phrase of the rule."""
        return self.rule.phrase

    @property
    def suggestion(self) -> str:
        """A better phrasing."""
        return self.rule.suggestion


# Pieces shared by several patterns.
_YOU = "(?:你|您)(?:们)?"
_SOFT = "(?:啊|呀|吧|呢|嘛|哦|喔|啦|的)*"
# "you go and find X" unless we do it with or for the owner (帮您找, 替您问, 陪您去).
_NOT_WITH = "(?<!帮)(?<!替)(?<!为)(?<!陪)(?<!和)(?<!同)(?<!跟)(?<!给)(?<!带)(?<!让)"
_OTHERS = (
    "(?:开发商|地产公司|自来水公司|水务|供电局|电力公司|燃气公司|煤气公司|电信|城管|街道办"
    "|居委会|派出所|政府|工程部|保洁部|保安部|维修部|他们|别人|别的部门|其他部门|相关部门"
    "|邻居|楼上|楼下|对方|业委会|保险公司)"
)

RULES: tuple[PhraseRule, ...] = (
    PhraseRule(
        id="never_happened",
        kind=RuleKind.forbidden_phrase,
        phrase="没有这回事 (that never happened)",
        suggestion=(
            "谢谢您告诉我们,我马上核实情况,今天下午五点前给您答复。"
            " / Thank you for telling us; I will check what happened and reply by 5 pm today."
        ),
        zh=(
            "(?:根本|绝对|从来|压根)?(?:没有|没|不存在|不可能有)(?:这|那)(?:回|种|样的?|件)事",
            "(?:根本|绝对|从来|压根)(?:没有|没)(?:发生过?|的事)",
            "不可能(?:有|发生)(?:这|那)(?:种|样的?|回)事",
        ),
        en=(
            r"\b(?:that|this|it) (?:never|did not|didnt|could not|couldnt) happen(?:ed)?\b",
            r"\bno such thing (?:happened|ever happened)\b",
            r"\bthat is not what happened\b|\bthats not what happened\b",
        ),
    ),
    PhraseRule(
        id="never_said",
        kind=RuleKind.forbidden_phrase,
        phrase="我绝对没有说过那种话 (I never said that)",
        suggestion=(
            "可能是我没有说清楚,给您带来误会,很抱歉;我把这件事的处理结果再跟您确认一遍。"
            " / I may not have been clear, and I am sorry for the confusion; let me confirm"
            " with you exactly what we will do."
        ),
        zh=(
            "我(?:们)?(?:可|真|真的)?(?:绝对|从来|根本|压根|从)?(?:没有|没)(?:说过|讲过|答应过|承诺过)",
            "(?:谁|哪个)(?:跟|和|对)(?:你|您)(?:说|讲)(?:的|过)",
        ),
        en=(
            r"\bi (?:never|did not|didnt|have never|never ever) "
            r"(?:said|say|told|tell|promised|promise)\b",
            r"\bwho told you (?:that|so)\b",
        ),
    ),
    PhraseRule(
        id="go_to_developer",
        kind=RuleKind.forbidden_phrase,
        phrase="这个问题属于开发商的事,你去找开发商 (that's the developer's business, go to them)",
        suggestion=(
            "这属于开发商保修范围,我先跟您说明;我们会帮您联系开发商,并随时告诉您进展。"
            " / This falls under the developer's warranty, so let me say that first; we will"
            " contact the developer for you and keep you informed."
        ),
        zh=(
            "(?:属于|是)" + _OTHERS + "的(?:事|问题|责任)",
            _NOT_WITH + _YOU + "(?:自己|可以|得|要|就|最好|还是|直接|应该|只能|去|再)*(?:去|到)"
            "(?:找|问)?" + _OTHERS,
            _NOT_WITH
            + _YOU
            + "(?:自己|可以|得|要|就|最好|还是|直接|应该|只能)*(?:找|问)"
            + _OTHERS
            + "(?:去|吧|啊)",
            "(?:不归|不是)我们(?:物业|管理处)?(?:管|负责)",
            "(?:不关|不干)我们(?:物业|管理处)?(?:的)?(?:事|责任)",
            "(?:跟|和|与)我们(?:物业|管理处)?(?:没有?关系|无关)",
            "这(?:个)?(?:事|问题|事情)?我们(?:物业|管理处)?(?:不管|管不了|没法管)",
            "不是我们(?:物业|管理处)?(?:的)?(?:事|责任|问题)",
        ),
        en=(
            r"\b(?:that|this|it) is (?:the|their|the developers|a developer|a utility) "
            r"(?:developers? )?(?:business|problem|responsibility|issue|job)\b",
            r"\bthats (?:the )?(?:developers?|utility|councils?|neighbours?|neighbors?)s? "
            r"(?:business|problem|responsibility|issue|job)\b",
            r"(?<!help )(?<!with )\byou (?:should |need to |have to |must |can |could )?"
            r"(?:go (?:to|and see|and ask|talk to)|ask|call|contact|complain to) "
            r"(?:the )?(?:developer|utility|water company|power company|council|city|"
            r"police|government|neighbours?|neighbors?)\b",
            r"\bnot our (?:problem|business|responsibility|job|concern)\b",
            r"\bnothing to do with us\b",
            r"\bwe (?:dont|do not) (?:deal with|handle|do) (?:that|this)\b",
        ),
    ),
    PhraseRule(
        id="pay_for_what_you_get",
        kind=RuleKind.forbidden_phrase,
        phrase="我们的服务是一分钱、一份事 (we only do what you pay for)",
        suggestion=(
            "这项服务属于有偿服务,收费标准是这样的……您看是否需要我们安排?"
            " / This is a paid service; here is the price list. Shall we arrange it for you?"
        ),
        zh=(
            "一(?:分|份)钱一(?:分|份)(?:事|货|服务)",
            "(?:给|交|付|出)(?:多少|几)钱(?:就)?(?:办|做|干|给)(?:多少|几)(?:事|活)",
            "(?:交|给|付)(?:了)?(?:那么|这么)?(?:点|少)钱(?:还)?(?:想|要)",
        ),
        en=(
            r"\byou get what you pay for\b",
            r"\bwe only do what (?:you|youve|you have) paid for\b",
            r"\bpay (?:more|extra) (?:and|to) get more\b",
            r"\bfor (?:that|this) (?:little )?(?:fee|money) (?:what do you|you cant|you cannot)\b",
        ),
    ),
    PhraseRule(
        id="too_simple",
        kind=RuleKind.forbidden_phrase,
        phrase="这个问题太简单 (that's too simple)",
        suggestion=(
            "我来给您一步一步说明,有不清楚的地方随时问我。"
            " / Let me walk you through it step by step; ask me anything at any point."
        ),
        zh=(
            "(?:问题|事|事情)(?:太|这么|那么|也太)简单",
            "(?:这么|那么|太)简单的(?:问题|事|事情)",
            "这(?:都|也)不(?:会|懂|知道)",
            "连这(?:个|都|也)?(?:都|也)?不(?:会|懂|知道)",
        ),
        en=(
            r"\b(?:that|this|it)(?: is|s) (?:too|so|really|very) (?:simple|easy|obvious|basic)\b",
            r"\bsuch an? (?:simple|easy|basic|obvious) (?:question|problem|thing)\b",
            r"\beven a child (?:can|could|knows)\b",
            r"\byou dont (?:even )?know (?:that|this)\b",
        ),
    ),
    PhraseRule(
        id="call_you_some_day",
        kind=RuleKind.forbidden_phrase,
        phrase="改天我再和你联系 (I'll call you some other day)",
        suggestion=(
            "我今天下午四点前给您回电话,告诉您处理进展。"
            " / I will call you back before 4 pm today with the progress."
        ),
        zh=(
            "(?:改天|回头|过几天|过两天|以后|有空|有时间|下次|到时候)(?:我|我们)?(?:再)?(?:和|跟|给|与)?"
            + _YOU
            + "?(?:联系|联络|打电话|回电话|回复|说|讲)",
            "(?:改天|回头|以后|有空)再说",
        ),
        en=(
            r"\b(?:i|we)(?:ll| will| shall) (?:call|contact|get back to|phone|ring) you "
            r"(?:back )?(?:some ?(?:other )?day|another day|some ?time|later|one of these days"
            r"|when i can|when we can|when i have time)\b",
            r"\b(?:lets|let us) talk (?:about it )?(?:some )?other (?:day|time)\b",
        ),
    ),
    PhraseRule(
        id="not_sure",
        kind=RuleKind.forbidden_phrase,
        phrase="我不太清楚 (I'm not sure)",
        suggestion=(
            "这个问题我马上帮您问清楚,半小时内给您准确答复。"
            " / Let me find out for you; I will give you an exact answer within half an hour."
        ),
        zh=(
            "我(?:也|真|还|确实|实在|真的)?不(?:太|大|是很|是太|怎么|很)?(?:清楚|知道|晓得|了解)",
            "^不(?:太|大)?(?:清楚|知道|晓得)",
            "不(?:太|大)?(?:清楚|知道|晓得)(?:啊|呀|哦|喔|诶|耶)",
            "(?:谁|哪)知道(?:呢|啊|呀)",
        ),
        en=(
            r"\bi(?:m| am) not (?:really |quite |too |very )?(?:sure|certain|clear)\b",
            r"\bi (?:dont|do not) (?:really )?know\b",
            r"\bno idea\b",
            r"\bnot my (?:area|department)\b",
        ),
    ),
    PhraseRule(
        id="there_will_be_a_way",
        kind=RuleKind.forbidden_phrase,
        phrase="总会有办法的 (there'll be a way somehow)",
        suggestion=(
            "我们的方案是:……,预计周五前完成,每一步我都会告诉您。"
            " / Here is our plan: … we expect to finish by Friday and I will update you"
            " at each step."
        ),
        zh=(
            "(?:总|总归|肯定|一定)?(?:会|能)有(?:办法|解决办法|方法)" + _SOFT + "$",
            "(?:总|总归)(?:会|能)有(?:办法|方法)",
            "(?:办法|方法)总(?:会|是|归)?有的",
            "车到山前必有路",
            "船到桥头自然直",
        ),
        en=(
            r"\bthere(?:ll| will| must| is always) (?:always )?be a way\b",
            r"\bthere is always a way\b|\btheres always a way\b",
            r"\b(?:it|things|something)(?:ll| will) (?:all )?work (?:itself |themselves )?out"
            r"(?: somehow| eventually| in the end)?\b",
        ),
    ),
    PhraseRule(
        id="definitely_not",
        kind=RuleKind.forbidden_phrase,
        phrase="肯定不行 (definitely not)",
        suggestion=(
            "这个要求按规定我们做不到,原因是……;我们可以这样帮您:……"
            " / We cannot do that under the rules, because …; here is what we can do instead: …"
        ),
        zh=(
            "(?:肯定|绝对|根本|当然|坚决)(?:不行|不可以|不能|办不到|做不到|没戏|不可能)",
            "(?:想都别想|没门|门都没有|没得商量)",
        ),
        en=(
            r"\b(?:definitely|absolutely|certainly) not\b",
            r"\bno way\b",
            r"\bout of the question\b",
            r"\bforget (?:about )?it\b",
        ),
    ),
    PhraseRule(
        id="argue_or_lecture",
        kind=RuleKind.anger_dont,
        phrase="立刻与顾客摆道理 (arguing or lecturing at once)",
        suggestion=(
            "先听业主说完,表示理解:「您先别着急,我明白您的感受」,再说明情况。"
            ' / Listen first and acknowledge the feeling ("I understand how frustrating this is")'
            " before explaining anything."
        ),
        zh=(
            _YOU + "(?:先)?(?:听我说|听我讲|冷静一下听)",
            _YOU + "(?:要|得|应该)?(?:讲|懂)(?:点)?道理",
            _YOU + "(?:应该|应当)(?:知道|明白|懂|清楚)",
            _YOU + "(?:自己)?(?:不看|没看)(?:规定|公告|通知)",
        ),
        en=(
            r"\b(?:calm down and )?listen to me\b",
            r"\byou (?:need to|have to|should) (?:be reasonable|understand the rules)\b",
            r"\byou should have known\b",
            r"\bdid you not read the (?:notice|rules)\b|\bdidnt you read the (?:notice|rules)\b",
        ),
    ),
    PhraseRule(
        id="jump_to_conclusions",
        kind=RuleKind.anger_dont,
        phrase="着急得出结论 (jumping to conclusions)",
        suggestion=(
            "原因我们正在查,查清楚后第一时间告诉您。"
            " / We are still finding out the cause and will tell you as soon as we know."
        ),
        zh=(
            "(?:肯定|一定|准|绝对)是" + _YOU + "(?:自己|家)?",
            "(?:肯定|一定)是(?:你|您)们?家(?:的)?(?:问题|原因)",
        ),
        en=(
            r"\bit (?:must|has to) (?:be|have been) (?:your|you)\b",
            r"\byou must have (?:broken|done|caused|damaged)\b",
        ),
    ),
    PhraseRule(
        id="only_apologise",
        kind=RuleKind.anger_dont,
        phrase="一味地道歉 (only apologising)",
        suggestion=(
            "道歉之后说明要做什么、什么时候做:「很抱歉,我马上安排师傅,半小时内到。」"
            " / After the apology say what you will do and by when: \"I'm sorry; a technician"
            ' will be there within 30 minutes."'
        ),
        zh=(),
        en=(),
    ),
    PhraseRule(
        id="happens_all_the_time",
        kind=RuleKind.anger_dont,
        phrase='告诉顾客「这是常有的事」 ("this happens all the time")',
        suggestion=(
            "这件事给您添麻烦了,我们会查清原因,避免再次发生。"
            " / We are sorry for the trouble; we will find the cause so that it does not"
            " happen again."
        ),
        zh=(
            "常有的事",
            "(?:这|这种|这样)(?:种|个)?(?:事|情况|问题)?(?:很|挺|太)?(?:正常|常见)",
            "(?:经常|老是|天天)(?:这样|发生|有的事)",
            "(?:大家|别人|谁家)(?:都|也)(?:这样|一样|有)",
            "又不是(?:只有)?(?:你|您)(?:一)?家",
        ),
        en=(
            r"\b(?:this|that|it) happens all the time\b",
            r"\b(?:this|that|it)(?: is|s) (?:perfectly |quite |totally )?normal\b",
            r"\beveryone has (?:this|the same) (?:problem|issue)\b",
            r"\bhappens every day\b",
            r"\byou are not the only one\b|\byoure not the only one\b",
        ),
    ),
    PhraseRule(
        id="shift_blame",
        kind=RuleKind.anger_dont,
        phrase="转嫁责任 (shifting blame)",
        suggestion=(
            "这是我们的工作没做好,我来负责跟进到底。"
            " / This is on us; I will follow it through personally."
        ),
        zh=(
            "(?:这|那)?(?:是|都是|全是|该怪)(?:保洁|保安|工程部|维修工|师傅|同事|前任|上一班|他们"
            "|别人|供应商|采购)的(?:错|问题|责任|事)",
            "不是我的(?:错|问题|责任)",
            "(?:跟|和|与)我(?:没有?关系|无关)",
            "不关我的事",
            "(?:要怪|只能怪)" + _YOU + "自己",
            "(?:是|怪)" + _YOU + "自己(?:的)?(?:错|问题|原因|不小心)",
        ),
        en=(
            r"\bnot my fault\b",
            r"\b(?:it|that) (?:was|is) (?:the )?(?:cleaners?|guards?|engineers?|supplier|"
            r"their|his|her|your own)s? fault\b",
            r"\bblame (?:the|them|him|her|yourself)\b",
            r"\bnot my (?:job|responsibility)\b",
        ),
    ),
    PhraseRule(
        id="play_dumb",
        kind=RuleKind.anger_dont,
        phrase="装傻气怜 (playing dumb)",
        suggestion=(
            "我查一下记录,确认您之前的报修情况,马上告诉您。"
            " / Let me check our records of your earlier report and tell you right away."
        ),
        zh=(
            "(?:从来)?没(?:有)?(?:听说|听说过|接到过|收到过)(?:这|那|你|您)",
            "(?:是吗|有吗|真的吗)(?:我|我们)?(?:怎么)?不知道",
        ),
        en=(
            r"\b(?:i|we)(?:ve| have)? never heard (?:of|about) (?:that|this|it)\b",
            r"\bfirst (?:i|we)(?:ve| have)? heard of (?:it|this|that)\b",
            r"\bwe never (?:got|received) (?:your|any) (?:call|report|request)\b",
        ),
    ),
    PhraseRule(
        id="debate",
        kind=RuleKind.anger_dont,
        phrase="与顾客辩论 (debating)",
        suggestion=(
            "您的意见我记下了,我们一起看看怎么解决最好。"
            " / I have noted your view; let us work out together how best to solve this."
        ),
        zh=(
            _YOU + "(?:这|这样|这是|就是)?(?:是)?(?:无理取闹|胡搅蛮缠|不讲理|乱说|瞎说)",
            _YOU + "(?:说|讲)?(?:的)?(?:不对|错了)",
            _YOU + "凭什么",
            "(?:那|这)(?:是|就是)" + _YOU + "(?:的)?(?:问题|错)",
        ),
        en=(
            r"\byou(?:re| are) (?:wrong|mistaken|being unreasonable|unreasonable)\b",
            r"\bthats not true\b|\bthat is not true\b",
            r"\bwho do you think you are\b",
        ),
    ),
    PhraseRule(
        id="cut_off",
        kind=RuleKind.anger_dont,
        phrase="中断式与改变话题 (cutting off or changing the subject)",
        suggestion=(
            "请您慢慢说,我都记下来。 / Please take your time; I am writing everything down."
        ),
        zh=(
            "(?:别|不要|先别)(?:说了|再说了|讲了|吵了)",
            "不说(?:这个|这些)了",
            "说(?:点)?别的",
            "我(?:现在)?(?:很|太|每天都很|真的很|正)忙(?:着呢|的|得很)?",
            "我(?:现在)?忙(?:着呢|得很)",
            "我没(?:空|时间)(?:跟|和|听)",
            "先这样吧",
        ),
        en=(
            r"\blets (?:talk about|change) (?:something else|the subject)\b",
            r"\b(?:im|i am) (?:too |very )?busy\b",
            r"\bthat(?:s| is) enough\b",
            r"\bstop (?:talking|complaining|shouting)\b",
            r"\bi dont have time (?:for|to)\b",
        ),
    ),
)

# "Only apologising": an apology and nothing about what happens next.
_APOLOGY_ZH = re.compile(r"对不起|抱歉|不好意思|道歉|请原谅|见谅|sorry")
_ACTION_ZH = re.compile(
    r"马上|立即|立刻|安排|联系|处理|维修|跟进|回复|回电|上门|到场|今天|明天|小时|分钟|点前|之前"
    r"|方案|更换|补|查|核实|确认|通知|赔|负责|师傅|\d"
)
_APOLOGY_EN = re.compile(r"\b(?:sorry|apologi[sz]e|apologies|forgive)\b")
_ACTION_EN = re.compile(
    r"\b(?:will|we ll|ill|send|arrange|fix|repair|call|contact|today|tomorrow|hour|hours|"
    r"minutes|by|before|check|replace|follow|update|plan|technician|refund|compensat\w*)\b|\d"
)

_COMPILED: dict[str, tuple[tuple[re.Pattern[str], ...], tuple[re.Pattern[str], ...]]] = {
    rule.id: (
        tuple(re.compile(p) for p in rule.zh),
        tuple(re.compile(p) for p in rule.en),
    )
    for rule in RULES
}
RULES_BY_ID = {rule.id: rule for rule in RULES}


def _excerpt(original: str, folded: Folded, start: int, end: int) -> str:
    a, b = folded.source_span(start, end)
    return original[a:b].strip()


def check(text: str) -> list[Hit]:
    """Every rule the reply breaks, once each, in the order of the rules."""
    content = fold(text, keep="content")
    words = fold(text, keep="words")
    hits: list[Hit] = []
    for rule in RULES:
        zh, en = _COMPILED[rule.id]
        found: Hit | None = None
        for pattern in zh:
            if m := pattern.search(content.text):
                found = Hit(rule, _excerpt(text, content, m.start(), m.end()))
                break
        if found is None:
            for pattern in en:
                if m := pattern.search(words.text):
                    found = Hit(rule, _excerpt(text, words, m.start(), m.end()))
                    break
        if found is not None:
            hits.append(found)
    if _only_apologises(content.text, words.text):
        hits.append(Hit(RULES_BY_ID["only_apologise"], text.strip()[:80]))
    return hits


def _only_apologises(content: str, words: str) -> bool:
    """An apology with nothing about what will be done or when."""
    apologised = bool(_APOLOGY_ZH.search(content) or _APOLOGY_EN.search(words))
    acted = bool(_ACTION_ZH.search(content) or _ACTION_EN.search(words))
    return apologised and not acted
