import pandas as pd
import pytest

from classit_utils import report


def test_correlation_table_is_spearman_per_task_and_model():
    corr = pd.DataFrame({"model": ["a"] * 4 + ["b"] * 4, "task": "wug_adj", "item_id": list(range(4)) * 2,
                         "score": [0.1, 0.2, 0.3, 0.4, 0.4, 0.3, 0.2, 0.1], "target": [1, 2, 3, 4] * 2})
    t = report.correlation_table(corr)
    assert t.loc["a", "wug_adj"] == pytest.approx(1.0) and t.loc["b", "wug_adj"] == pytest.approx(-1.0)


def test_score_table_and_metrics_keep_skips_apart():
    summary = pd.DataFrame([
        {"model": "m1", "task": "blimp", "score": 60.0, "status": "ok", "reason": ""},
        {"model": "m2", "task": "blimp", "score": 70.0, "status": "ok", "reason": ""},
        {"model": "m1", "task": "comps", "score": None, "status": "skipped", "reason": "comps/: folder not found"}])
    table = report.score_table(summary)
    assert list(table.columns) == ["m1", "m2"] and table.loc["blimp"].tolist() == [60.0, 70.0]
    m = report.stage_metrics(summary)
    assert m == {"scores": {"m1": {"blimp": 60.0}, "m2": {"blimp": 70.0}}, "skipped": {"comps": "comps/: folder not found"}}


def test_finetune_tables_average_seeds_of_the_headline_metric(tmp_path, monkeypatch):
    from classit_utils.config import load_config
    from pathlib import Path
    cfg = load_config(Path(__file__).resolve().parent.parent / "params" / "demo.yaml", check_paths=False)
    rows = [{"model": "m", "size": "tiny", "condition": "base", "task": t, "seed": s, "selection": sel,
             "metric": metric, "value": v, "unit": "%", "headline": metric == ("f1" if t == "mrpc" else "accuracy"),
             "status": "ok"}
            for t, metric, vals in [("rte", "accuracy", (50.0, 60.0)), ("mrpc", "f1", (70.0, 80.0)),
                                    ("mrpc", "accuracy", (10.0, 10.0))]
            for sel in ("valid", "heldout") for s, v in zip((0, 1), vals)]
    tables = report.finetune_tables(cfg, pd.DataFrame(rows))
    assert set(tables) == {"valid", "heldout"}
    assert tables["valid"].loc["rte", "m"] == 55.0 and tables["valid"].loc["mrpc", "m"] == 75.0   # F1 for MRPC
