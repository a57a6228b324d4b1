import math

import pandas as pd
import pytest

from classit_utils import report


def test_correlation_table_is_spearman_per_task_and_model():
    corr = pd.DataFrame({"model": ["a"] * 4 + ["b"] * 4, "task": "wug_adj", "item_id": list(range(4)) * 2,
                         "score": [0.1, 0.2, 0.3, 0.4, 0.4, 0.3, 0.2, 0.1], "target": [1, 2, 3, 4] * 2})
    t = report.correlation_table(corr)
    assert t.loc["a", "wug_adj (Spearman ρ)"] == "1.000" and t.loc["b", "wug_adj (Spearman ρ)"] == "−1.000"


def test_score_table_has_fixed_decimals_per_metric_and_units_and_metrics_keep_skips_apart():
    summary = pd.DataFrame([
        {"model": "m1", "task": "blimp", "metric": "accuracy", "score": 65.0, "status": "ok", "reason": ""},
        {"model": "m2", "task": "blimp", "metric": "accuracy", "score": 65.833333, "status": "ok", "reason": ""},
        {"model": "m1", "task": "wug_adj", "metric": "spearman", "score": 0.56789, "status": "ok", "reason": ""},
        {"model": "m1", "task": "comps", "score": None, "status": "skipped", "reason": "comps/: folder not found"}])
    table = report.score_table(summary)
    assert list(table.columns) == ["m1", "m2"]
    assert table.loc["blimp (accuracy, %)"].tolist() == ["65.0", "65.8"]         # never 65.00 beside 65.833333
    assert table.loc["wug_adj (spearman, rho)"].tolist() == ["0.568", "–"]
    m = report.stage_metrics(summary)
    assert m["scores"] == {"m1": {"blimp": 65.0, "wug_adj": 0.56789}, "m2": {"blimp": 65.833333}}
    assert m["skipped"] == {"comps": "comps/: folder not found"}
    assert report.skipped(summary).to_dict("records") == [{"task": "comps", "reason": "comps/: folder not found"}]
    none = report.skipped(summary[summary.status == "ok"])
    assert isinstance(none, report.Note) and none._repr_markdown_().startswith("Nothing skipped")


def test_finetune_tables_average_seeds_of_the_headline_metric():
    from pathlib import Path

    from classit_utils.config import load_config
    cfg = load_config(Path(__file__).resolve().parent.parent / "params" / "demo.yaml", check_paths=False)
    rows = [{"model": "m", "size": "tiny", "condition": "base", "pretrain_seed": 0, "tune_seed": -1, "task": t,
             "seed": s, "selection": sel,
             "metric": metric, "value": v, "unit": "%", "headline": metric == ("f1" if t == "mrpc" else "accuracy"),
             "status": "ok"}
            for t, metric, vals in [("rte", "accuracy", (50.0, 60.0)), ("mrpc", "f1", (70.0, 80.0)),
                                    ("mrpc", "accuracy", (10.0, 10.0))]
            for sel in ("valid", "heldout") for s, v in zip((0, 1), vals)]
    tables = report.finetune_tables(cfg, pd.DataFrame(rows))
    assert set(tables) == {"valid", "heldout"}
    assert tables["valid"].loc["rte (accuracy, %)", "m"] == "55.0" and tables["valid"].loc["mrpc (f1, %)", "m"] == "75.0"


def test_effects_and_claims_tables_are_short_and_say_when_there_is_no_test():
    eff = pd.DataFrame([
        {"size": "tiny", "task": "rte", "comparison": "conv - base", "scale": "points", "estimate": 1.23456,
         "ci_low": -0.5, "ci_high": 2.96912, "p": 0.0004, "n": 6, "method": "OLS", "p_holm": 0.0012, "note": ""},
        {"size": "tiny", "task": "mrpc", "comparison": "conv - base", "scale": "points", "estimate": 0.0,
         "ci_low": math.nan, "ci_high": math.nan, "p": math.nan, "n": 6, "method": "OLS", "p_holm": math.nan,
         "note": "no variation in the compared values: no test"}])
    t = report.effects_table(eff)
    assert t.index.names == ["size", "task", "comparison"]
    assert list(t.columns) == ["estimate (points)", "95% CI", "p", "Holm p", "n", "note"]
    assert t.iloc[0][["estimate (points)", "95% CI", "p", "Holm p"]].tolist() == ["1.23", "[−0.50, 2.97]", "<0.001",
                                                                                  "0.001"]
    assert "Holm p" not in report.effects_table(eff.drop(columns="p_holm")).columns   # uncorrected: not shown
    assert t.iloc[1][["estimate (points)", "95% CI", "p"]].tolist() == ["0.00", "–", "–"]
    claims = pd.DataFrame([{"size": "tiny", "hypothesis": "IT gains do not carry over to zero-shot accuracy",
                            "scale": "log_odds", "estimate": -0.0061, "ci_low": -0.0234, "ci_high": 0.011,
                            "p_holm": 1.0, "verdict": "supported", "note": ""}])
    c = report.claims_display(claims)
    assert c.reset_index().to_dict("records") == [{
        "size": "tiny", "hypothesis": "IT gains do not carry over to zero-shot accuracy",
        "estimate [95% CI]": "−0.006 [−0.023, 0.011] log-odds", "Holm p": "1.000", "verdict": "supported"}]


@pytest.mark.parametrize("x,d,text", [(-0.0004, 3, "0.000"), (-1.25, 1, "−1.2"), (3, 2, "3.00"), (None, 1, "–")])
def test_number_format(x, d, text):
    assert report.number(x, d) == text


def test_spread_table_gives_mean_sd_and_runs_per_condition():
    res = pd.DataFrame([
        {"model": "b", "size": "tiny", "condition": "base", "kind": "zero-shot", "task": "blimp", "metric": "accuracy",
         "score": 60.0},
        {"model": "c0", "size": "tiny", "condition": "conv", "kind": "zero-shot", "task": "blimp", "metric": "accuracy",
         "score": 61.0},
        {"model": "c1", "size": "tiny", "condition": "conv", "kind": "zero-shot", "task": "blimp", "metric": "accuracy",
         "score": 63.0}])
    t = report.spread_table(res)
    # SD of (61, 63) with ddof 1 is sqrt(2) = 1.414: one decimal for accuracy
    assert t.loc[("tiny", "zero-shot", "blimp (accuracy, %)")].tolist() == ["60.0 (1)", "62.0 ± 1.4 (2)"]


def test_runs_note_counts_runs_per_it_condition_and_says_when_run_variance_is_not_estimable():
    rows = lambda n: pd.DataFrame([{"model": "b", "size": "tiny", "condition": "base"}] + [  # noqa: E731
        {"model": f"{c}{s}", "size": "tiny", "condition": c} for c in ("conv", "qa") for s in range(n)])
    per = report.runs_per_condition(rows(3))
    assert per.to_dict() == {("tiny", "conv"): 3, ("tiny", "qa"): 3}
    assert str(report.runs_note(per)) == "Runs per IT condition: 3."
    assert "not estimable" in str(report.runs_note(report.runs_per_condition(rows(1))))
