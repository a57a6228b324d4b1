"""Zero-shot task families of the BabyLM 2025 evaluation, as data: one `TaskSpec` per task (data folder per
variant, fields, scored span, metric, aggregation, official item counts), plus loaders that turn the files
into `Item`s (candidates to rank) and evaluators that turn their `Score`s into the pipeline's metrics.

The rules follow `babylm/evaluation-pipeline-2025` (`evaluation_pipeline/sentence_zero_shot/read_files.py`,
`compute_results.py`, `run.py`, and `collate_preds.py` for the sizes and the predictions format):
- every ranking item lists its candidates with the correct one first (`label` 0);
- prediction = argmax of the candidates' summed log-probs; a tie goes to the *first* maximal candidate
  (`torch.max(..., dim=1)` in `rank_and_evaluate`), and since the correct candidate is always first a tie
  counts as correct in the official pipeline. `choose(..., ties="first")` is that rule; `ties="wrong"`
  (correct only if strictly greater than every other candidate) is the conservative alternative;
- accuracies are in percent; a task's score is the macro-average over its subtasks (`UID`), except entity
  tracking (mean over numops within each split, then over splits);
- `predictions.json` is `{UID: {"predictions": [{"id": "<UID>_<n>", "pred": <chosen completion>}, ...]}}`,
  items in file order within each UID.

Subtasks (paradigms, domains, files) are discovered from the data files, never listed by hand; the
official sizes below are only used to check that a folder is complete.
"""
from __future__ import annotations

import importlib
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

from ..datafiles import read_jsonl, read_jsonl_folder
from ..errors import DataError, MissingData
from ..scoring import Request, Score

__all__ = ["DataError", "MissingData", "TaskSpec", "Item", "TaskResult", "Task", "TASK_NAMES", "RULES", "RULE_TASKS",
           "recorded_name", "apply_rules", "temperature_report", "get_task", "read_jsonl",
           "read_jsonl_folder", "choose", "evaluate_ranking", "ranking_predictions", "accuracy_by",
           "OFFICIAL_SIZES", "check_sizes"]

VARIANTS = ("fast", "full")


@dataclass(frozen=True)
class TaskSpec:
    """One task as data."""
    name: str                     # our key: blimp, supplement, ewok, entity_tracking, wug_adj, wug_past, reading, comps
    pipeline_task: str            # results path: zero_shot/causal/<pipeline_task>/<dataset>/
    folders: Mapping[str, str]    # variant -> data folder (the <dataset> of the results path)
    fields: tuple[str, ...]       # fields every record must have
    scored_span: str              # which part of the text is scored
    metric: str                   # accuracy | spearman | reading
    aggregation: str              # how subtask scores become the task score
    subtask: str                  # what a subtask (UID) is
    group_by: tuple[str, ...] = ()   # extra accuracy breakdowns the pipeline reports (item metadata keys)
    report_keys: tuple[str, ...] = ()   # the report's section order (pipeline metadata order); () = UID first
    zip_name: str | None = None   # the folders live inside this password zip (EWoK)

    def folder(self, variant: str) -> str:
        if variant not in self.folders:
            raise ValueError(f"{self.name}: unknown variant {variant!r} (known: {', '.join(self.folders)})")
        return self.folders[variant]


@dataclass
class Item:
    """One evaluation item: candidates (context, continuation) to score, the correct one at `label`."""
    uid: str                            # subtask: BLiMP UID, EWoK domain, "regular_3_ops", ...
    source: str                         # "blimp_fast/adjunct_island.jsonl:3"
    contexts: tuple[str, ...]
    continuations: tuple[str, ...]
    completions: tuple[str, ...] = ()   # what predictions.json reports for each candidate
    label: int = 0
    meta: dict[str, Any] = field(default_factory=dict)

    def requests(self) -> list[Request]:
        return [Request(c, k) for c, k in zip(self.contexts, self.continuations)]


@dataclass
class TaskResult:
    task: str
    dataset: str
    metric: str
    score: float
    sub_scores: dict[str, dict[str, float]]
    n: int
    counts: dict[str, int]
    records: list[dict[str, Any]]
    predictions: dict[str, Any]
    notes: list[str] = field(default_factory=list)
    report: str | None = None           # the official report file's text (best_temperature_report / report.txt)
    # further measures computed from the same items, each recorded under its own task name beside this one
    # (reading: the project's spaced surprisal, `reading_spaced`, next to the official measure)
    companions: list["TaskResult"] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return {"dataset": self.dataset, "metric": self.metric, "score": self.score, "n": self.n,
                "counts": self.counts, "sub_scores": self.sub_scores, "notes": self.notes}


@dataclass(frozen=True)
class Task:
    spec: TaskSpec
    load: Callable[..., list[Item]]                                  # (data_dir, variant, limit=None)
    evaluate: Callable[[str, list[Item], list[list[Score]]], TaskResult]   # (variant, items, scores)
    # a task that tokenizes in its own way scores its items itself:
    # (model, tok, items, *, batch_size, bos, share_context, bf16, progress, desc) -> list[list[Score]]
    score: Callable[..., list[list[Score]]] | None = None


TASK_NAMES = ("blimp", "supplement", "ewok", "entity_tracking", "wug_adj", "wug_past", "reading", "comps",
              "global_piqa_parallel", "global_piqa_nonparallel")
_MODULES = {"blimp": "blimp", "supplement": "blimp", "ewok": "ewok", "entity_tracking": "entity_tracking",
            "wug_adj": "wug", "wug_past": "wug", "reading": "reading", "comps": "comps",
            "global_piqa_parallel": "global_piqa", "global_piqa_nonparallel": "global_piqa"}

# The evaluation rules: the 2025 pipeline (`babylm/evaluation-pipeline-2025`, the paper's) and the 2026 one
# (`babylm-org/babylm-eval`, the current leaderboard's). `all` means the rules' own task list.
RULES = ("2025", "2026")
RULE_TASKS = {
    "2025": ("blimp", "supplement", "ewok", "entity_tracking", "wug_adj", "wug_past", "reading", "comps"),
    "2026": ("blimp", "supplement", "ewok", "entity_tracking", "reading", "comps", "global_piqa_parallel",
             "global_piqa_nonparallel"),
}
# Under 2026 entity tracking drops its "nothing" items and is recorded under the leaderboard's key, and EWoK
# scores (and predicts) the full sentences.
RECORDED_NAMES = {("2026", "entity_tracking"): "entity_tracking_filtered"}


def recorded_name(name: str, rules: str = "2025") -> str:
    """The name a task's results are recorded under (summary.json, the tidy tables) under `rules`."""
    return RECORDED_NAMES.get((rules, name), name)


def apply_rules(name: str, items: list[Item], rules: str = "2025") -> list[Item]:
    """The items a task keeps under `rules` (2026: entity tracking without its "nothing" items)."""
    if rules not in RULES:
        raise ValueError(f"unknown rules {rules!r} (known: {', '.join(RULES)})")
    if rules == "2026" and name == "entity_tracking":
        from .entity_tracking import without_nothing
        return without_nothing(items)
    if rules == "2026" and name == "ewok":
        from .ewok import full_sentences
        return full_sentences(items)
    return items


def get_task(name: str) -> Task:
    if name not in _MODULES:
        raise ValueError(f"unknown task {name!r} (known: {', '.join(TASK_NAMES)})")
    module = importlib.import_module(f"{__name__}.{_MODULES[name]}")
    return module.TASKS[name]


# Official item counts (collate_preds.py: BLIMP_SIZES, SUPPLEMENT_SIZES, EWOK_SIZES, ENTITY_TRACKING_SIZES,
# COMPS_SIZES, *_FAST_SIZE, READING_SIZE, WUG_SIZE, WUG_PAST_TENSE_SIZE). Keys are lower-cased UIDs, as
# collate_preds compares them; an int applies to every UID.
_BLIMP_FULL = dict(
    superlative_quantifiers_2=986, superlative_quantifiers_1=979, anaphor_gender_agreement=971,
    principle_a_reconstruction=967, irregular_past_participle_adjectives=961, sentential_subject_island=961,
    wh_island=960, left_branch_island_simple_question=951, coordinate_structure_constraint_object_extraction=949,
    tough_vs_raising_1=948, left_branch_island_echo_question=947, principle_a_c_command=946,
    regular_plural_subject_verb_agreement_2=945, irregular_past_participle_verbs=942,
    determiner_noun_agreement_with_adj_2=941, principle_a_domain_3=941,
    determiner_noun_agreement_with_adjective_1=933, anaphor_number_agreement=931, determiner_noun_agreement_2=931,
    existential_there_quantifiers_1=930, determiner_noun_agreement_1=929, matrix_question_npi_licensor_present=929,
    adjunct_island=928, existential_there_subject_raising=924, animate_subject_trans=923, drop_argument=920,
    tough_vs_raising_2=920, wh_vs_that_with_gap=919, sentential_negation_npi_licensor_present=919,
    principle_a_case_2=915, principle_a_domain_2=915, principle_a_domain_1=914, npi_present_2=914,
    principle_a_case_1=912, existential_there_quantifiers_2=911, wh_vs_that_with_gap_long_distance=910,
    npi_present_1=909, coordinate_structure_constraint_complex_left_branch=906, passive_2=903,
    wh_questions_subject_gap=898, animate_subject_passive=895, irregular_plural_subject_verb_agreement_2=892,
    regular_plural_subject_verb_agreement_1=890, only_npi_licensor_present=882, wh_vs_that_no_gap_long_distance=875,
    distractor_agreement_relative_clause=871, sentential_negation_npi_scope=871, intransitive=868, transitive=868,
    wh_vs_that_no_gap=861, wh_questions_object_gap=859, wh_questions_subject_gap_long_distance=857, inchoative=855,
    complex_np_island=846, passive_1=840, determiner_noun_agreement_with_adj_irregular_2=840, only_npi_scope=837,
    ellipsis_n_bar_2=828, determiner_noun_agreement_irregular_2=820, causative=818,
    existential_there_object_raising=812, irregular_plural_subject_verb_agreement_1=804, ellipsis_n_bar_1=802,
    distractor_agreement_relational_noun=788, expletive_it_object_raising=759,
    determiner_noun_agreement_with_adj_irregular_1=718, determiner_noun_agreement_irregular_1=681)
_ET_FULL = {f"{s}_{k}_ops": n for s, ns in (("regular", (606, 607, 606, 606, 568, 159)),
                                            ("ambiref", (607, 607, 604, 604, 615, 187)),
                                            ("move_contents", (605, 606, 605, 606, 529, 156)))
            for k, n in enumerate(ns)}
_ET26_FULL = {f"{s}_{k}_ops": n for s, ns in (("regular", (517, 409, 405, 425, 388, 94)),
                                               ("ambiref", (508, 428, 413, 409, 434, 123)),
                                               ("move_contents", (516, 437, 399, 406, 353, 116)))
              for k, n in enumerate(ns)}
_ET26_FAST = {k: v for k, v in _ET26_FULL.items() if k.startswith("regular")}
OFFICIAL_SIZES: dict[str, dict[str, dict[str, int] | int]] = {
    "blimp": {"fast": {k: 200 for k in _BLIMP_FULL}, "full": _BLIMP_FULL},
    "supplement": {"fast": {k: 50 for k in ("hypernym", "qa_congruence_easy", "qa_congruence_tricky",
                                            "subject_aux_inversion", "turn_taking")},
                   "full": {"hypernym": 842, "qa_congruence_easy": 64, "qa_congruence_tricky": 165,
                            "subject_aux_inversion": 3867, "turn_taking": 280}},
    "ewok": {"fast": {k: 100 for k in ("agent-properties", "social-relations", "physical-relations",
                                       "material-dynamics", "physical-interactions", "spatial-relations",
                                       "social-properties", "quantitative-properties", "social-interactions",
                                       "material-properties", "physical-dynamics")},
             "full": {"agent-properties": 2210, "social-relations": 1548, "physical-relations": 818,
                      "material-dynamics": 770, "physical-interactions": 556, "spatial-relations": 490,
                      "social-properties": 328, "quantitative-properties": 314, "social-interactions": 294,
                      "material-properties": 170, "physical-dynamics": 120}},
    "entity_tracking": {"fast": {k: v for k, v in _ET_FULL.items() if k.startswith("regular")}, "full": _ET_FULL},
    "wug_adj": {"fast": {"wug_adj": 200}, "full": {"wug_adj": 200}},
    "wug_past": {"fast": {"wug_past": 50}, "full": {"wug_past": 50}},
    "reading": {"fast": {"reading": 1726}, "full": {"reading": 1726}},
    "comps": {"fast": {"base": 49340, "wugs": 13896, "wugs_dist_before": 13896, "wugs_dist_in_between": 13896},
              "full": {"base": 49340, "wugs": 13896, "wugs_dist_before": 13896, "wugs_dist_in_between": 13896}},
    # 2026 (`babylm-org/babylm-eval` @ 6f825c2 collate_preds.py: ENTITY_TRACKING_FAST_SIZE, ENTITY_TRACKING_SIZES,
    # GLOBAL_PIQA_SIZES)
    "entity_tracking_filtered": {"fast": _ET26_FAST, "full": _ET26_FULL},
    "global_piqa_parallel": {"fast": {"global_piqa_parallel": 103}, "full": {"global_piqa_parallel": 103}},
    "global_piqa_nonparallel": {"fast": {"global_piqa_nonparallel": 100}, "full": {"global_piqa_nonparallel": 100}},
}


def check_sizes(task: str, variant: str, counts: Mapping[str, int]) -> list[str]:
    """Differences between per-UID counts and the official sizes (empty when the data is complete)."""
    expected = OFFICIAL_SIZES.get(task, {}).get(variant)
    if not expected:
        return []
    got = {k.lower(): v for k, v in counts.items()}
    problems = [f"{uid}: {got.get(uid, 0)} items, official {n}" for uid, n in expected.items()
                if got.get(uid, 0) != n]
    problems += [f"{uid}: not an official subtask" for uid in got if uid not in expected]
    return problems


def limit_per_uid(items: list[Item], limit: int | None) -> list[Item]:
    """The first `limit` items of every subtask (for smoke runs and tests); all when None."""
    if limit is None:
        return items
    seen: Counter[str] = Counter()
    out = []
    for it in items:
        if seen[it.uid] < limit:
            seen[it.uid] += 1
            out.append(it)
    return out


# ----------------------------------------------------------------------------------------------- ranking

def choose(scores: Sequence[float], ties: str = "first") -> int:
    """Index of the best candidate. `ties="first"`: first maximal candidate (the official rule, so a tie
    with the correct candidate 0 counts as correct); `ties="wrong"`: -1 unless one candidate is strictly best."""
    best = max(scores)
    winners = [i for i, s in enumerate(scores) if s == best]
    if ties == "first":
        return winners[0]
    if ties == "wrong":
        return winners[0] if len(winners) == 1 else -1
    raise ValueError(f"ties must be 'first' or 'wrong' (got {ties!r})")


def accuracy_by(keys: Sequence[str], correct: Sequence[bool]) -> tuple[dict[str, float], dict[str, int]]:
    """Accuracy in percent and count per key, keys sorted."""
    tot: Counter[str] = Counter()
    hit: Counter[str] = Counter()
    for k, c in zip(keys, correct):
        tot[k] += 1
        hit[k] += bool(c)
    return ({k: 100.0 * hit[k] / tot[k] for k in sorted(tot)}, {k: tot[k] for k in sorted(tot)})


def ranking_predictions(items: Sequence[Item], preds: Sequence[int], extra: Sequence[dict] | None = None
                        ) -> dict[str, Any]:
    """The official predictions.json content (compute_results.rank_and_evaluate)."""
    out: dict[str, list] = defaultdict(list)
    for j, (it, p) in enumerate(zip(items, preds)):
        rec = {"id": f"{it.uid}_{len(out[it.uid])}", "pred": it.completions[max(p, 0)]}
        if extra is not None:
            rec.update(extra[j])
        out[it.uid].append(rec)
    return {uid: {"predictions": out[uid]} for uid in sorted(out)}


def item_record(it: Item, scores: Sequence[Score], pred: int) -> dict[str, Any]:
    return {"uid": it.uid, "source": it.source, "label": it.label, "pred": pred, "correct": pred == it.label,
            "logprobs": [s.logprob for s in scores], "n_tokens": [s.n_tokens for s in scores],
            "token_logprobs": [list(s.token_logprobs) for s in scores],
            **{k: v for k, v in it.meta.items() if isinstance(v, (str, int, float, bool))}}


def evaluate_ranking(spec: TaskSpec, variant: str, items: Sequence[Item], scores: Sequence[Sequence[Score]],
                     ties: str = "first") -> TaskResult:
    """Accuracy per UID (and per `spec.group_by` key), macro-averaged over UIDs."""
    preds = [choose([s.logprob for s in ss], ties) for ss in scores]
    correct = [p == it.label for p, it in zip(preds, items)]
    per_uid, counts = accuracy_by([it.uid for it in items], correct)
    subs = {"UID": per_uid}
    for key in spec.group_by:
        subs[key] = accuracy_by([str(it.meta.get(key)) for it in items], correct)[0]
    score = sum(per_uid.values()) / len(per_uid) if per_uid else float("nan")
    res = TaskResult(spec.name, spec.folder(variant), "accuracy", score, subs, len(items), counts,
                     [item_record(it, ss, p) for it, ss, p in zip(items, scores, preds)],
                     ranking_predictions(items, preds))
    res.report = temperature_report(_sections(spec, subs), score)
    return res


def _sections(spec: TaskSpec, subs: Mapping[str, Mapping[str, float]]) -> list[tuple[str, Mapping[str, float]]]:
    """The report's sections in the order of the pipeline's metadata keys (`read_files.decode_*`): `field`
    before `UID` for BLiMP and the supplement, `UID` first elsewhere."""
    order = [k for k in spec.report_keys if k in subs] or ["UID", *spec.group_by]
    return [(k, subs[k]) for k in order if k in subs]


def temperature_report(sections: Sequence[tuple[str, Mapping[str, float]]], average: float,
                       metric: str = "ACCURACY", temperature: float = 1.0) -> str:
    """`best_temperature_report.txt` as `run.create_evaluation_report` writes it (one temperature, 1.0, as the
    pipeline's default; two decimals). Within a section the pipeline lists subtasks in the order it met them,
    which follows the file system's directory order; here they are sorted."""
    lines = [f"TEMPERATURE: {temperature:.2f}", ""]
    for name, values in sections:
        lines.append(f"### {name.upper()} {metric}")
        lines += [f"{k}: {v:.2f}" for k, v in values.items()]
        lines.append("")
    lines += [f"### AVERAGE {metric}", f"{average:.2f}", ""]
    return "\n".join(lines) + "\n"
