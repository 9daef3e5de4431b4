"""The classifier on the golden set (tests/data: golden_tune.csv used for rule tuning,
golden_holdout.csv kept out of it; golden_longform_*.csv, long 12345-style livelihood reports,
likewise), hard cases, and learning from labelled cases."""
from __future__ import annotations

import json

import pytest

from classifier import Classifier, LearnedModel
from classifier.evaluate import metrics, predict_label, read_labelled
from tests.conftest import DATA
from tests.test_imports import run
from workers.settings import PROJECT_ROOT

CLF = Classifier.from_file(PROJECT_ROOT / "routing_rules.yaml")


def test_golden_set_has_four_hundred_messages_over_every_label():
    rows = read_labelled(DATA / "golden_tune.csv") + read_labelled(DATA / "golden_holdout.csv")
    assert len(rows) >= 400
    labels = {label for _, label in rows}
    assert labels == {"stability", "legal_aid", "petition", "urban_construction", "environment", "transport",
                      "education_culture", "labor_social_security", "commerce_tourism", "health", "civil_affairs"}


@pytest.mark.parametrize("name, floor_accuracy, floor_subcategory_f1", [
    ("golden_tune.csv", 0.93, 0.93), ("golden_holdout.csv", 0.90, 0.85),
    ("golden_longform_tune.csv", 0.93, 0.93), ("golden_longform_holdout.csv", 0.90, 0.85)])
def test_figures_on_the_golden_set(name, floor_accuracy, floor_subcategory_f1):
    result = json.loads(run(None, "classifier", "eval", str(DATA / name), "--json").output)
    assert result["accuracy"] >= floor_accuracy, result["per_class"]
    sub = json.loads(run(None, "classifier", "eval", str(DATA / name), "--level", "subcategory", "--json").output)
    assert sub["macro_f1"] >= floor_subcategory_f1, sub["per_class"]
    assert {"n", "accuracy", "macro_f1", "per_class"} <= set(result)


@pytest.mark.parametrize("text, category, subcategory", [
    ("不是打架，是邻居家装修噪音太大", "livelihood", "environment"),       # negation
    ("没有漏水了，现在是暖气不热", "livelihood", "urban_construction"),
    ("小區門口的路燈壞了", "livelihood", "urban_construction"),            # traditional characters
    ("ＬＥＤ路灯坏了！！", "livelihood", "urban_construction"),              # full width
    ("路灯坏了", "livelihood", "urban_construction"),                      # very short
    ("俺们村的路灯黑了好几天咧", "livelihood", "urban_construction"),       # dialect
    ("家门口的窨井盖破了一个大洞", "livelihood", "urban_construction"),     # keyword inside a longer token
    ("村东头两伙人打起来了", "stability", None),
    ("你好", "unclassified", None),
    # absence is the complaint: 没有 negates events (a fight), not things (street lights, buses)
    ("小区门口没有路灯，晚上很黑", "livelihood", "urban_construction"),
    ("我们这里没有公交车，出行很不方便", "livelihood", "transport"),
    ("开发商到现在还没有交房", "livelihood", "urban_construction"),
    ("刚才没有打架，只是吵了几句", "unclassified", None),
])
def test_hard_cases(text, category, subcategory):
    result = CLF.classify(text)
    assert (result.category, result.subcategory) == (category, subcategory), result.to_dict()


def test_negated_words_are_explained():
    result = CLF.classify("不是打架，是邻居家装修噪音太大")
    assert "打架" in [m.keyword for m in result.negated]
    assert result.urgency != "urgent"
    no_fire = CLF.classify("没有着火，是邻居在烧烤")
    assert no_fire.urgency != "urgent" and "着火" in [m.keyword for m in no_fire.negated]


def test_close_runner_up_is_offered_for_co_handling():
    result = CLF.classify("老板欠工资不给，我想找律师起诉他")
    assert result.runner_up is not None
    assert {result.category, result.runner_up.category} <= {"livelihood", "legal_aid"}


def _write(path, rows):
    path.write_text("text,label\n" + "".join(f"{t},{label}\n" for t, label in rows), encoding="utf-8")
    return path


def test_learn_adds_a_city_s_own_words(tmp_path):
    training = _write(tmp_path / "past.csv", [
        (t, "transport") for t in ["滴滴打不到，嘀嗒拼车乱加价", "嘀嗒拼车司机绕远", "嘀嗒拼车爽约", "嘀嗒拼车收费高"]
    ] + [(t, "卫生计生") for t in ["卫生室医生不在", "卫生室没有药", "卫生室关门了"]])  # Chinese names work too
    lexicon = tmp_path / "lexicon.json"
    output = run(None, "classifier", "learn", str(training), "-o", str(lexicon)).output
    assert "来自 7 条案例，2 个标签" in output and "交叉验证" in output
    model = LearnedModel.load(lexicon, CLF.rules)
    assert model.labels == ["health", "transport"]
    weights = model.weights_of("拼车") or model.weights_of("拼+车")  # a word, or two characters
    assert weights["transport"] > 0 > weights["health"]
    top = json.loads(lexicon.read_text(encoding="utf-8"))["top_words"]  # readable without Gridline
    assert any("拼" in word for word in top["transport"]) and any("卫生" in word for word in top["health"])
    test = _write(tmp_path / "test.csv", [("嘀嗒拼车又乱收钱", "transport")])
    without = json.loads(run(None, "classifier", "eval", str(test), "--level", "subcategory", "--json").output)
    with_lexicon = json.loads(run(None, "classifier", "eval", str(test), "--level", "subcategory", "--lexicon",
                                  str(lexicon), "--json").output)
    assert with_lexicon["accuracy"] == 1.0 and without["accuracy"] == 0.0


def test_a_learned_answer_explains_itself(tmp_path, monkeypatch):
    training = _write(tmp_path / "past.csv", [(t, "transport") for t in ["嘀嗒拼车乱加价", "嘀嗒拼车绕远", "嘀嗒拼车爽约"]]
                      + [(t, "health") for t in ["卫生室医生不在", "卫生室没有药", "卫生室关门了"]])
    lexicon = tmp_path / "lexicon.json"
    run(None, "classifier", "learn", str(training), "-o", str(lexicon))
    monkeypatch.setenv("GRIDLINE_LEXICON", str(lexicon))
    result = json.loads(run(None, "classify", "--json", "嘀嗒拼车又乱收钱").output)
    assert (result["category"], result["subcategory"], result["department"]) == ("livelihood", "transport", "transport_bureau")
    learned = [m for m in result["matched"] if m["source"] == "learned"]
    assert learned and learned[0]["weight"] > 0 and {"嘀嗒", "拼车"} & {m["keyword"] for m in learned}
    assert "学习所得: " in run(None, "classify", "嘀嗒拼车又乱收钱").output


def test_learned_model_reproduces_its_training_cases():
    """The exported numbers are the trained model: scored by the pure-Python scorer, the
    training cases come back with their own labels (a wrong label order or IDF would not)."""
    from classifier.learn import learn

    rows = read_labelled(DATA / "golden_tune.csv") + read_labelled(DATA / "golden_longform_tune.csv")
    model = learn(CLF, rows)
    learned = Classifier(CLF.rules, model=model)
    predicted = [predict_label(learned.classify(text), "subcategory") for text, _ in rows]
    gold = [label for _, label in rows]
    assert metrics(gold, predicted)["accuracy"] >= 0.97
    assert model.info["learner"]["kind"] in ("svm", "logreg") and model.info["features"] > 500


def test_a_model_of_livelihood_cases_leaves_clear_stability_reports_alone():
    from classifier.learn import learn

    rows = [(t, l) for t, l in read_labelled(DATA / "golden_tune.csv") if l not in ("stability", "legal_aid", "petition")]
    learned = Classifier(CLF.rules, model=learn(CLF, rows))
    assert learned.classify("村东头两伙人打起来了，有人拿着刀").category == "stability"
    assert learned.classify("楼上漏水把我家天花板泡了").subcategory == "urban_construction"


def test_an_old_or_broken_lexicon_is_refused_with_a_reason(tmp_path):
    old = tmp_path / "old.json"
    old.write_text(json.dumps({"level": "subcategory", "labels": {"transport": {"拼车": 2.0}}}), encoding="utf-8")
    result = run(None, "classifier", "eval", str(DATA / "golden_holdout.csv"), "--lexicon", str(old))
    assert result.exit_code == 2 and "run gridline classifier learn again" in result.output
    broken = tmp_path / "broken.json"
    broken.write_text("{not json", encoding="utf-8")
    result = run(None, "classifier", "eval", str(DATA / "golden_holdout.csv"), "--lexicon", str(broken))
    assert result.exit_code == 2 and "not a lexicon file" in result.output
    cut = tmp_path / "cut.json"
    good = tmp_path / "good.json"
    _write(tmp_path / "past.csv", [("路灯坏了", "urban_construction"), ("公交太挤", "transport")])
    run(None, "classifier", "learn", str(tmp_path / "past.csv"), "-o", str(good))
    data = json.loads(good.read_text(encoding="utf-8"))
    data["matrix"] = data["matrix"][:-8]
    cut.write_text(json.dumps(data), encoding="utf-8")
    result = run(None, "classifier", "eval", str(DATA / "golden_holdout.csv"), "--lexicon", str(cut))
    assert result.exit_code == 2 and "damaged lexicon" in result.output


def test_learn_and_eval_explain_a_file_that_is_not_utf8(tmp_path):
    gbk = tmp_path / "gbk.csv"
    gbk.write_bytes("text,label\n路灯坏了,urban_construction\n".encode("gbk"))
    for args in (("learn", str(gbk), "-o", str(tmp_path / "x.json")), ("eval", str(gbk))):
        result = run(None, "classifier", *args)
        assert result.exit_code == 2 and "文件不是 UTF-8 编码" in result.output


def test_learn_refuses_unknown_labels(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("text,label\n路灯坏了,streetlights\n", encoding="utf-8")
    result = run(None, "classifier", "learn", str(bad), "-o", str(tmp_path / "x.json"))
    assert result.exit_code == 2 and "第 2 行：未知标签 'streetlights'" in result.output


def test_metrics_are_computed_right():
    result = metrics(["a", "a", "b", "b"], ["a", "b", "b", "b"])
    assert result["accuracy"] == 0.75
    assert result["per_class"]["a"] == {"precision": 1.0, "recall": 0.5, "f1": 0.6667, "support": 2}
    assert result["confusion"] == {"a": {"a": 1, "b": 1}, "b": {"b": 2}}


def test_exclusions_cancel_a_category():
    assert CLF.classify("楼道着火了").category == "stability"
    assert CLF.classify("小区明天搞消防演练，会有着火的烟雾").category != "stability"


def test_a_keyword_inside_a_longer_keyword_does_not_count():
    result = CLF.classify("我家楼上卫生间漏水好几天了")
    assert "卫生" not in [m.keyword for m in result.matched] and "卫生间" in [m.keyword for m in result.matched]
