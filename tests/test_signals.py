"""Risk, intent and addressee signals decide before topic words (issue 9). The sentences here are
written for the tests: none is an example of the rules file or a line of the shipped corpus.
Each signal family is checked twice: by the stock rules alone (GRIDLINE_STOCK_MODEL=off) and by
the whole classifier with the stock model."""
from __future__ import annotations

import pytest

from classifier import STOCK_MODEL_PATH, Classifier, stock_model_wanted
from classifier.rules import load_classifier_rules
from tests.conftest import RESIDENT_G1, cases
from tests.test_console_api import login, users  # noqa: F401  (fixture)
from workers.settings import PROJECT_ROOT

RULES = load_classifier_rules(PROJECT_ROOT / "routing_rules.yaml")
RULES_ONLY = Classifier(RULES, stock_model=False)
WITH_MODEL = Classifier(RULES, stock_model=True)

FAMILIES = [
    # individual extreme acts: self-harm, threats, someone armed
    ("individual_extreme", "stability", "我哥说再找不到工作就从六楼跳下去，信都写好了"),
    ("individual_extreme", "stability", "那个包工头再不给钱，我就弄死他"),
    ("individual_extreme", "stability", "隔壁男的提着一把砍刀站在我家门口骂街"),
    # collective action: a crowd plus a collective act, or mobilising for one
    ("collective_action", "stability", "明天上午三百多名职工要到区政府门口静坐"),
    ("collective_action", "stability", "有人在业主群里号召周末去售楼部拉横幅"),
    # disputes turning violent
    ("violent_dispute", "stability", "两口子在楼下扭打成一团，女的脸上都是血"),
    ("violent_dispute", "stability", "小区里有个喝多了的男人在停车场乱砸车窗"),
    # public security
    ("public_security", "stability", "最近我们这栋楼连着三家被撬锁，东西都没了"),
    ("public_security", "stability", "村口小卖部后面天天有人聚赌，一晚上输赢几万"),
    # rumour and incitement
    ("incitement", "stability", "有人在朋友圈散布谣言说水厂的水有毒，超市的矿泉水都被抢光了"),
    # a question form plus a legal object; asking for legal help
    ("legal_question", "legal_aid", "公司辞退我一分钱补偿都不给，这样合法吗，我能去仲裁吗"),
    ("legal_question", "legal_aid", "家里穷请不起律师，儿子的官司怎么办"),
    # an office plus a failure to act or misconduct
    ("office_conduct", "petition", "镇里的干部收了开发商的好处，我们的投诉一直压着不办"),
    ("office_conduct", "petition", "街道的工作人员态度蛮横，把我的申请材料扔了出来"),
    # contesting a decision
    ("contested_decision", "petition", "拆迁办给我家算的补偿我们不服，要求重新评估"),
    # repeated grievances, asking a higher level, joint letters
    ("repeated_grievance", "petition", "这件事我已经向区里反映了五次，请上级督办"),
    ("repeated_grievance", "petition", "我们二十户村民联名举报村会计做假账"),
]


@pytest.mark.parametrize("family, category, text", FAMILIES)
def test_each_signal_family_fires_and_decides_by_the_rules_alone(family, category, text):
    result = RULES_ONLY.classify(text)
    assert family in [s.family for s in result.signals], result.to_dict()
    assert result.category == category, result.to_dict()
    assert result.decision["stage"] == {"stability": "risk", "legal_aid": "intent", "petition": "addressee"}[category]
    assert result.decision["words"] and all(w in text or w in result.decision["words"] for w in result.decision["words"])


@pytest.mark.parametrize("family, category, text", FAMILIES)
def test_the_stock_model_keeps_each_family_s_answer(family, category, text):
    assert WITH_MODEL.classify(text).category == category


def test_stability_is_urgent_and_names_the_topic_s_department():
    result = WITH_MODEL.classify("工地老板欠了半年工资，四十多个工人明天要去堵项目部大门")
    assert (result.category, result.urgency) == ("stability", "urgent")
    assert result.decision["family"] == "collective_action"
    assert (result.topic, result.department) == ("labor_social_security", "hrss_bureau")


@pytest.mark.parametrize("text, subcategory", [
    # full of words that are signals elsewhere, yet a service failure the resident wants fixed
    ("楼下的烧烤摊天天吵到半夜两点，油烟也大，请环保部门管一管", "environment"),
    ("小区电梯又停了，九楼的老人下不了楼，请物业尽快修", "urban_construction"),
    ("孩子的班主任每天布置的作业太多了，能不能减一减", "education_culture"),
    ("公交车十五分钟一班太少了，早上挤不上去，能不能加车", "transport"),
])
def test_livelihood_full_of_trigger_words_stays_livelihood(text, subcategory):
    result = WITH_MODEL.classify(text)
    assert (result.category, result.subcategory) == ("livelihood", subcategory), result.to_dict()
    assert result.decision["stage"] == "topic"


def test_a_denied_signal_does_not_count():
    result = RULES_ONLY.classify("刚才不是打架，是两只狗在叫")
    assert "violent_dispute" not in [s.family for s in result.signals]


def test_low_confidence_goes_to_triage_with_two_readings_and_reasons():
    result = WITH_MODEL.classify("你好，上次说的那个事情到底怎么弄")
    assert result.category == "unclassified"
    assert len(result.readings) == 2
    assert all(r["category"] and "words" in r and "signals" in r for r in result.readings)
    assert result.to_dict()["readings"] == list(result.readings)


def test_the_stock_model_ships_with_the_package_and_can_be_switched_off():
    assert STOCK_MODEL_PATH.is_file() and WITH_MODEL.stock_model is not None
    assert stock_model_wanted({"GRIDLINE_STOCK_MODEL": "off"}) is None
    assert stock_model_wanted({}) == STOCK_MODEL_PATH
    assert RULES_ONLY.model is None


def test_the_crowd_over_wages_informs_the_labour_department(phone, rt, demo):
    phone.text(RESIDENT_G1, "厂里三个月没发工资，一百多个工友约好明天早上去区政府门口拉横幅")
    [case] = cases(rt)
    assert (case.category, case.urgency, case.department) == ("stability", "urgent", "hrss_bureau")
    informed = {ct.team.code for ct in case.informed}
    assert {"DH-S1-CMD", "DH-HRSS"} <= informed
    assert case.classification["decision"]["family"] == "collective_action"


def test_the_case_page_shows_what_decided_and_the_readings_of_a_triage_case(client, users, rt, phone):  # noqa: F811
    phone.text(RESIDENT_G1, "一百多个工友约好明天早上去区政府门口拉横幅")
    phone.text("+8613805710002", "你好，上次说的那个事情到底怎么弄")
    crowd, vague = cases(rt)
    login(client, "admin")
    page = client.get(f"/console/cases/{crowd.number}").data.decode()
    assert "判定依据" in page and "风险信号 · 群体性事件" in page and "拉横幅" in page
    page = client.get(f"/console/cases/{vague.number}").data.decode()
    assert vague.category == "unclassified" and "两种最可能的分类" in page
