import pandas as pd
import pytest

from classit_utils import evalstage


def test_correlation_table_is_spearman_per_task_and_model():
    corr = pd.DataFrame({"model": ["a"] * 4 + ["b"] * 4, "task": "wug_adj", "item_id": list(range(4)) * 2,
                         "score": [0.1, 0.2, 0.3, 0.4, 0.4, 0.3, 0.2, 0.1], "target": [1, 2, 3, 4] * 2})
    t = evalstage.correlation_table(corr)
    assert t.loc["a", "wug_adj"] == pytest.approx(1.0) and t.loc["b", "wug_adj"] == pytest.approx(-1.0)


def test_score_table_and_metrics_keep_skips_apart():
    summary = pd.DataFrame([
        {"model": "m1", "task": "blimp", "score": 60.0, "status": "ok", "reason": ""},
        {"model": "m2", "task": "blimp", "score": 70.0, "status": "ok", "reason": ""},
        {"model": "m1", "task": "comps", "score": None, "status": "skipped", "reason": "comps/: folder not found"}])
    table = evalstage.score_table(summary)
    assert list(table.columns) == ["m1", "m2"] and table.loc["blimp"].tolist() == [60.0, 70.0]
    m = evalstage.stage_metrics(summary)
    assert m == {"scores": {"m1": {"blimp": 60.0}, "m2": {"blimp": 70.0}}, "skipped": {"comps": "comps/: folder not found"}}
