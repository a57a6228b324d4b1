"""Typed, frozen study configuration loaded from `params/<profile>.yaml`: the one config mechanism.

Every section, down to the training, model and fine-tuning settings, is a pydantic model with
`extra="forbid"`, strict types and `Field` bounds, nested as typed fields of `StudyConfig`. An unknown
key, a wrong type or an impossible value fails before any work starts, with one line naming the file
and the dotted key:

    params/demo.yaml: pretrain.train.lr: Input should be greater than 0 (got -1.0)

This module is the bottom of the package: it imports nothing from it but the error classes, so every
other module can import it. The resolved config (defaults filled in) is what stages record.
"""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Literal, Mapping

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .errors import ConfigError

REPO_ROOT = Path(__file__).resolve().parent.parent
IT_SETS = ("conv", "qa")
CURRICULA = ("conv", "qa", "merged", "seq_conv_qa", "seq_qa_conv")
BABYLM_SOURCES = ("bnc_spoken", "childes", "gutenberg", "open_subtitles", "simple_wiki", "switchboard")
# The fine-tuning suite in the order of the official eval_finetuning.sh (classit_utils.glue defines each).
GLUE_TASK_NAMES = ("boolq", "multirc", "rte", "wsc", "mrpc", "qqp", "mnli")
SELECTIONS = ("valid", "heldout")
# Model size presets (classit_utils.modeling documents their parameter counts).
MODEL_PRESETS: dict[str, dict[str, int]] = {
    "tiny": dict(hidden_size=64, n_layers=2, n_heads=4, n_kv_heads=4, intermediate_size=192),
    "small": dict(hidden_size=128, n_layers=4, n_heads=4, n_kv_heads=4, intermediate_size=352),
    "100m": dict(hidden_size=768, n_layers=12, n_heads=12, n_kv_heads=12, intermediate_size=2176),
    "140m": dict(hidden_size=768, n_layers=16, n_heads=12, n_kv_heads=12, intermediate_size=2432),
}
SHAPE_KEYS = ("hidden_size", "n_layers", "n_heads", "n_kv_heads", "intermediate_size")
Precision = Literal["auto", "bf16", "fp32"]    # auto: bf16 autocast on CUDA, fp32 on CPU


def _tuples(value: Any) -> Any:
    """YAML and JSON have lists only; the frozen configs hold tuples."""
    if isinstance(value, list):
        return tuple(_tuples(v) for v in value)
    return value


def _known(what: str, known: tuple[str, ...]):
    """A field validator: every value of a tuple field is one of `known` (one line naming the first other)."""
    def check(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        for v in values:
            if v not in known:
                raise ValueError(f"unknown {what} {v!r} (known: {', '.join(known)})")
        return values
    return check


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    @model_validator(mode="before")
    @classmethod
    def _lists_to_tuples(cls, data: Any) -> Any:
        return {k: _tuples(v) for k, v in data.items()} if isinstance(data, Mapping) else data


# ------------------------------------------------------------------------------------------- data stage
class DemoConfig(Section):
    """Generate the demo data (project-made text in the real formats) into `data_root`."""
    seed: int = 0
    words_per_source: int = Field(40_000, ge=1_000)
    swda_dialogues: int = Field(60, ge=4)


class CorpusConfig(Section):
    """Where the pretraining text comes from and how much of it is used."""
    loader: Literal["babylm", "hf", "text"] = "babylm"
    # babylm: a folder of `<source>.train` files; text: a folder of `*.txt`; hf: a dataset id.
    path: str = "babylm_corpus/train_100M"
    extra_paths: tuple[str, ...] = ()        # more folders of the same kind (e.g. a separate switchboard)
    hf_id: str | None = None
    hf_split: str = "train"
    hf_text_field: str = "text"
    sources: tuple[str, ...] = ()            # file stems to use; empty = all found
    max_words_per_source: int | None = Field(None, ge=1)
    budget_words: int = Field(100_000_000, ge=1)  # pretraining + IT words must fit in this
    doc_words: int = Field(2_000, ge=16)     # long lines are cut into documents of this many words


class TokenizerConfig(Section):
    vocab_size: int = Field(16_000, ge=300, le=65_535 * 4)
    min_frequency: int = Field(2, ge=1)
    block_size: int = Field(512, ge=8)      # tokens per packed pretraining block
    val_fraction: float = Field(0.01, gt=0.0, lt=0.5)


class ConvConfig(Section):
    """Conversational IT pairs from Switchboard: a speaker turn answers the turn(s) before it."""
    loader: Literal["swda", "babylm_switchboard"] = "swda"
    path: str = "swda/swda_data"
    context_turns: int = Field(1, ge=1, le=8)   # turns joined into the prompt
    overlapping: bool = False   # False: a turn is in one pair only (prompt or reply), as budget-friendly
    min_reply_words: int = Field(3, ge=1)
    max_words: int = Field(160, ge=4)          # prompt + reply
    max_pairs: int | None = Field(None, ge=1)


QAGEN_MODEL = "meta-llama/Llama-3.2-3B-Instruct"      # the paper's QA writer
QAGEN_SYSTEM = "You write short quiz questions for children about a text, with answers taken from the text."
QAGEN_TEMPLATE = (
    'Here is part of a Simple English Wikipedia article about "{title}":\n\n{section}\n\n'
    "Write {n} questions that a student can answer from this text alone, each with a short answer "
    "that uses the words of the text. Use exactly this format and write nothing else:\n"
    "Q: <question>\nA: <answer>")


class QAGenConfig(Section):
    """QA written by an instruct model, as the paper did (`instruct.qa.method: generate`; `classit_utils.qagen`
    documents the prompt, the parser, the filters and the per-article cache). The paper's exact prompt is not
    published; the default template is ours."""
    model: str = QAGEN_MODEL             # HF folder (under data_root or absolute) or hub id, with a chat template
    template: str = QAGEN_TEMPLATE       # str.format template with {section}, optionally {title} and {n}
    system: str | None = QAGEN_SYSTEM    # system turn (None: none)
    questions_per_section: int = Field(3, ge=1, le=10)
    section_sentences: int = Field(3, ge=1)
    max_new_tokens: int = Field(256, ge=1)
    batch_size: int = Field(16, ge=1)    # prompts per generate call (vLLM: per submission)
    do_sample: bool = False              # greedy by default: the output does not depend on the seed
    temperature: float = Field(1.0, gt=0.0)
    seed: int = 0                        # used only when sampling
    max_reply_words: int = Field(60, ge=1)
    min_overlap: float = Field(0.5, ge=0.0, le=1.0)   # share of an answer's content words found in its section
    engine: Literal["auto", "hf", "vllm"] = "auto"    # auto: vLLM when installed and on a GPU, else HF generate
    device: str = "auto"
    max_articles: int | None = Field(None, ge=1)     # first N titled articles (tests, trial runs)

    @field_validator("template")
    @classmethod
    def _has_section(cls, v: str) -> str:
        if "{section}" not in v:
            raise ValueError("must contain {section}")
        return v

    def kwargs(self) -> dict[str, Any]:
        """`qagen.generate_qa`'s keyword arguments (the model, device and article limit aside)."""
        return self.model_dump(exclude={"model", "device", "max_articles"})


class QAConfig(Section):
    """Lecture-aligned QA pairs built from Simple English Wikipedia articles: by template (questions about the
    title, answered by the article's sentences) or written by an instruct model (`generate`)."""
    source: str = "simple_wiki"               # corpus source whose articles are used
    method: Literal["template", "generate"] = "template"
    generate: QAGenConfig = QAGenConfig()     # used when method is generate
    questions_per_article: int = Field(3, ge=1, le=10)
    answer_sentences: int = Field(2, ge=1, le=8)
    min_article_sentences: int = Field(2, ge=1)
    max_pairs: int | None = Field(None, ge=1)


class InstructConfig(Section):
    conv: ConvConfig = ConvConfig()
    qa: QAConfig = QAConfig()
    # Use the released CLASS_IT data instead of building it: a folder under data_root (what
    # `classit-data fetch` installs: `class_it/`), a local folder of `{switchboard,simple_wiki}.{parquet,jsonl}`
    # or a HF id. None = build from the corpora.
    class_it: str | None = None
    class_it_revision: str | None = None     # the hub revision (fetch and load); None = the manifest's
    # Hold-out of the released pairs' source text (instruct.class_it_holdout): a pretraining line or
    # article is the pairs' source when it shares word n-grams of this length with them.
    class_it_ngram: int = Field(8, ge=3, le=32)
    class_it_min_shared: int = Field(2, ge=1)      # n-grams an article must share to be held out
    heldout_fraction: float = Field(0.02, ge=0.0, lt=0.5)  # pairs kept out of tuning, for eval
    hold_out_from_pretraining: bool = True


class CurriculaConfig(Section):
    names: tuple[str, ...] = CURRICULA
    shuffle_seed: int = 0
    _names = field_validator("names")(_known("curriculum", CURRICULA))


# ------------------------------------------------------------------------------------------- models
class ModelShape(Section):
    """`pretrain.model`: what every size shares, and overrides of the size presets (None: the preset's)."""
    hidden_size: int | None = Field(None, ge=1)
    n_layers: int | None = Field(None, ge=1)
    n_heads: int | None = Field(None, ge=1)
    n_kv_heads: int | None = Field(None, ge=1)
    intermediate_size: int | None = Field(None, ge=1)
    max_position_embeddings: int = Field(1024, ge=1)
    tie_embeddings: bool = True
    rope_theta: float = Field(10_000.0, gt=0)
    rms_norm_eps: float = Field(1e-5, gt=0)
    initializer_range: float = Field(0.02, gt=0)


class ModelConfig(ModelShape):
    """One model's shape: the `size` preset, any shape field given explicitly overriding it, and the
    tokenizer's vocabulary (the embedding has `padded_vocab_size` rows, a multiple of 64)."""
    size: str = "tiny"
    vocab_size: int = Field(16_000, ge=1)

    @model_validator(mode="before")
    @classmethod
    def _fill_preset(cls, data: Any) -> Any:
        if not isinstance(data, Mapping):
            return data
        size = data.get("size", "tiny")
        if size not in MODEL_PRESETS:
            raise ValueError(f"size: unknown size {size!r} (known: {', '.join(MODEL_PRESETS)})")
        return {**data, **{k: MODEL_PRESETS[size][k] for k in SHAPE_KEYS if data.get(k) is None}}

    @model_validator(mode="after")
    def _consistent(self) -> "ModelConfig":
        if self.hidden_size % self.n_heads:
            raise ValueError(f"n_heads: {self.n_heads} does not divide hidden_size {self.hidden_size}")
        if self.n_heads % self.n_kv_heads:
            raise ValueError(f"n_kv_heads: {self.n_kv_heads} does not divide n_heads {self.n_heads}")
        if self.head_dim % 2:
            raise ValueError(f"n_heads: head_dim {self.head_dim} must be even for RoPE")
        return self

    @classmethod
    def for_size(cls, size: str, shape: ModelShape, vocab_size: int) -> "ModelConfig":
        return cls.model_validate({**shape.model_dump(), "size": size, "vocab_size": vocab_size})

    @property
    def head_dim(self) -> int:
        return self.hidden_size // self.n_heads

    @property
    def padded_vocab_size(self) -> int:
        return -(-self.vocab_size // 64) * 64


# ------------------------------------------------------------------------------------------- training
def _betas_in_range(cls, v: tuple[float, float]) -> tuple[float, float]:
    if not all(0 <= b < 1 for b in v):
        raise ValueError(f"must be two values in [0, 1) (got {list(v)})")
    return v


class TrainConfig(Section):
    """Optimisation and bookkeeping of one training run (pretraining or IT; `classit_utils.train`)."""
    lr: float = Field(3e-4, gt=0)
    min_lr_ratio: float = Field(0.1, ge=0, le=1)      # cosine decays to lr * min_lr_ratio
    warmup_steps: int = Field(0, ge=0)                # used when > 0, else warmup_fraction of the steps
    warmup_fraction: float = Field(0.0, ge=0, lt=1)
    weight_decay: float = Field(0.1, ge=0)            # on 2-D weights only
    betas: tuple[float, float] = (0.9, 0.95)
    eps: float = Field(1e-8, gt=0)
    grad_clip: float = Field(1.0, ge=0)               # 0 = no clipping (the norm is still logged)
    micro_batch_size: int = Field(8, ge=1)            # sequences per rank per micro-step
    grad_accum_steps: int = Field(1, ge=1)
    epochs: int = Field(1, ge=1)                      # passes over each phase
    max_steps: int | None = Field(None, ge=1)         # stop earlier (the schedule spans min(max_steps, all))
    eval_interval: int = Field(0, ge=0)               # steps between val evaluations; 0 = at the end only
    eval_batches: int = Field(50, ge=1)               # val micro-batches per rank per evaluation
    log_interval: int = Field(1, ge=1)
    checkpoint_interval: int = Field(0, ge=0)         # steps between resumable checkpoints; 0 = at the end
    checkpoint_words: tuple[int, ...] = ()            # words seen at which to save `chck_<N>M` HF folders
    compile: bool = False
    seed: int = Field(0, ge=0)                        # in a study: the study's `seed` unless set here
    precision: Precision = "auto"

    _betas = field_validator("betas")(_betas_in_range)

    @field_validator("checkpoint_words")
    @classmethod
    def _increasing(cls, v: tuple[int, ...]) -> tuple[int, ...]:
        if not all(x > 0 for x in v) or list(v) != sorted(set(v)):
            raise ValueError(f"must be increasing positive integers (got {list(v)})")
        return v


class Replicated(Section):
    """A training section run once per seed of `seeds` (the replicates); default one run with `train.seed`."""
    seeds: tuple[int, ...] | None = None
    train: TrainConfig = TrainConfig()

    @field_validator("seeds")
    @classmethod
    def _seeds(cls, v: tuple[int, ...] | None) -> tuple[int, ...] | None:
        if v is not None and (not v or len(set(v)) != len(v) or min(v) < 0):
            raise ValueError(f"must be distinct non-negative integers, at least one (got {list(v)})")
        return v

    @property
    def run_seeds(self) -> tuple[int, ...]:
        return self.seeds if self.seeds is not None else (self.train.seed,)

    def train_for(self, seed: int) -> TrainConfig:
        """The training config of the replicate with seed `seed`."""
        return self.train.model_copy(update={"seed": seed})


class PretrainConfig(Replicated):
    """Pretraining runs: one model per size and seed (`seeds`: init, data order, dropout; each base is tuned
    on every curriculum and tuning seed)."""
    sizes: tuple[str, ...] = ("100m", "140m")
    model: ModelShape = ModelShape()

    @model_validator(mode="after")
    def _valid(self) -> "PretrainConfig":
        if not self.sizes:
            raise ValueError("sizes: at least one size is needed")
        for size in self.sizes:
            if size not in MODEL_PRESETS:
                raise ValueError(f"sizes: unknown size {size!r} (known: {', '.join(MODEL_PRESETS)})")
            try:
                ModelConfig.for_size(size, self.model, 16_000)
            except ValidationError as err:
                raise ValueError(f"model.{_first_error(err)}") from None
        return self


class TuningConfig(Replicated):
    """Instruction tuning of every pretrained base on each curriculum, once per seed of `seeds` (the same base;
    the seed draws the IT data order and dropout); `train.epochs` is per phase."""
    curricula: tuple[str, ...] = CURRICULA
    reply_only_loss: bool = True
    max_length: int | None = Field(None, ge=8)
    group_by_length: bool = False
    eval_batch_size: int = Field(16, ge=1)
    _curricula = field_validator("curricula")(_known("curriculum", CURRICULA))


# ------------------------------------------------------------------------------------------- evaluation
class EvaluationConfig(Section):
    """Zero-shot evaluation of every model (notebooks 03-07). `rules`: the BabyLM 2025 pipeline's (the
    paper's, the study's default) or 2026's (`babylm-org/babylm-eval`, today's leaderboard)."""
    rules: Literal["2025", "2026"] = "2025"
    variant: Literal["fast", "full"] = "fast"
    batch_size: int = Field(64, ge=1)
    limit: int | None = Field(None, ge=1)    # items per subtask (smoke runs); None = all
    # "tokenizer": the special tokens the tokenizer puts before a text, as the pipeline; true: always BOS
    bos: bool | Literal["tokenizer"] = "tokenizer"
    share_context: bool = True
    bf16: bool = False
    device: str = "auto"
    skip_missing: bool = True                # absent data (COMPS, WUG past tense here): recorded as skipped


class FinetuneConfig(Section):
    """The BabyLM 2025 fine-tuning defaults (`classit_utils.finetune` cites the official files), plus knobs
    for the demo and tests."""
    lr: float = Field(3e-5, gt=0)
    batch_size: int = Field(32, ge=1)               # BSZ
    big_batch_size: int = Field(16, ge=1)           # BIG_BSZ: BoolQ and MultiRC
    valid_batch_size: int = Field(64, ge=1)
    epochs: int = Field(10, ge=1)                   # MAX_EPOCHS
    wsc_epochs: int = Field(30, ge=1)               # WSC_EPOCHS
    epochs_override: int | None = Field(None, ge=1)  # every task runs this many epochs (demo, tests)
    max_length: int = Field(512, ge=4)              # truncation (capped at the model's max_position_embeddings)
    betas: tuple[float, float] = (0.9, 0.999)
    eps: float = Field(1e-8, gt=0)
    weight_decay: float = Field(0.01, ge=0)         # on all parameters, as the pipeline's AdamW(model.parameters())
    warmup_proportion: float = Field(0.06, ge=0, lt=1)
    min_factor: float = Field(0.1, ge=0, le=1)      # cosine decays to lr x min_factor
    classifier_dropout: float = Field(0.1, ge=0, lt=1)
    classifier_layer_norm_eps: float = Field(1e-5, gt=0)
    grad_clip: float = Field(0.0, ge=0)             # 0: none (the pipeline does not clip)
    selections: tuple[Literal[SELECTIONS], ...] = SELECTIONS
    heldout_fraction: float = Field(0.1, gt=0, le=0.5)   # share of train held out for "heldout" (stratified)
    data_seed: int = Field(0, ge=0)                 # held-out slice and train subsample; fixed across seeds
    max_train_examples: int | None = Field(None, ge=2)   # seeded subsample of train (demo, tests)
    max_valid_examples: int | None = Field(None, ge=1)   # first N of valid (demo, tests)
    padding_side: Literal["left", "right"] = "right"     # right: gather the last real token; left: last column
    length_grouping: bool = True                    # train batches of similar lengths (chunks of 50 batches)
    pad_to_multiple: int = Field(8, ge=1)           # padded width rounded up (fewer distinct shapes on GPU)
    drop_last: bool = True                          # the pipeline drops the last partial train batch
    precision: Precision = "auto"
    compile: bool = False                           # torch.compile(dynamic=True) once per task, reused by runs
    device: str = Field("auto", min_length=1)
    cpu_threads: int | None = Field(None, ge=1)     # torch threads on CPU for the run (restored after)
    skip_missing: bool = True                       # absent files: record the task as skipped (else raise)
    save_weights: bool = False                      # write each run's selected-epoch classifier (big)
    progress: bool = True

    @field_validator("selections", mode="before")
    @classmethod
    def _one_or_more(cls, v: Any) -> Any:
        return (v,) if isinstance(v, str) else v

    @field_validator("selections")
    @classmethod
    def _distinct(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        if not v or len(set(v)) != len(v):
            raise ValueError(f"must be distinct values of {', '.join(SELECTIONS)} (got {list(v)})")
        return v

    _betas = field_validator("betas")(_betas_in_range)

    def epochs_for(self, task: Any) -> int:
        """Epochs for a `glue.GlueTask` (WSC has the long schedule)."""
        if self.epochs_override is not None:
            return self.epochs_override
        return self.wsc_epochs if task.long_schedule else self.epochs

    def batch_size_for(self, task: Any) -> int:
        return self.big_batch_size if task.big else self.batch_size


class FinetuneSection(Section):
    """(Super)GLUE fine-tuning of every model (notebook 08)."""
    tasks: tuple[str, ...] = GLUE_TASK_NAMES
    seeds: tuple[int, ...] = (0, 1, 2)
    config: FinetuneConfig = FinetuneConfig()
    _tasks = field_validator("tasks")(_known("task", GLUE_TASK_NAMES))

    @field_validator("seeds")
    @classmethod
    def _seeds(cls, v: tuple[int, ...]) -> tuple[int, ...]:
        if not v or len(set(v)) != len(v) or min(v) < 0:
            raise ValueError(f"need distinct integers >= 0 (got {list(v)})")
        return v


class StatisticsConfig(Section):
    alpha: float = Field(0.05, gt=0, lt=0.5)
    n_boot: int = Field(2000, ge=100)
    ft_margin: float = Field(0.5, ge=0)      # fine-tuning points (percent) below which a gain is negligible
    zs_margin: float = Field(0.1, ge=0)      # zero-shot log-odds below which transfer is negligible
    rho_margin: float = Field(0.05, ge=0)
    selection: Literal[SELECTIONS] = "heldout"   # fine-tuning epoch selection the claims rest on


# ------------------------------------------------------------------------------------------- scale
class LaunchConfig(Section):
    """How the training stages run: in the notebook's process, or under `torchrun` (DDP) when there is more
    than one process. `auto` is the visible GPUs (1 on a CPU machine). `micro_batch_size` is per rank, so the
    global batch is `micro_batch_size x grad_accum_steps x nproc_per_node x nnodes`. Multi-node: the same
    keys on every node (or `srun torchrun`, see the README)."""
    nproc_per_node: int | Literal["auto"] = "auto"
    nnodes: int = Field(1, ge=1)
    node_rank: int = Field(0, ge=0)
    rdzv_endpoint: str | None = None          # host:port of node 0; None on one node (torchrun --standalone)
    rdzv_backend: str = "c10d"

    @field_validator("nproc_per_node")
    @classmethod
    def _positive(cls, v: int | str) -> int | str:
        if isinstance(v, int) and v < 1:
            raise ValueError(f"must be 'auto' or an integer >= 1 (got {v})")
        return v

    @model_validator(mode="after")
    def _multi_node(self) -> "LaunchConfig":
        if self.nnodes > 1 and not self.rdzv_endpoint:
            raise ValueError("rdzv_endpoint: needed when nnodes > 1 (host:port of node 0)")
        if self.node_rank >= self.nnodes:
            raise ValueError(f"node_rank: {self.node_rank} but only {self.nnodes} node(s)")
        return self


class FanoutConfig(Section):
    """How the independent jobs of the evaluation stages run: one after another in the notebook (`serial`,
    needs nothing) or as Ray tasks (`ray`: a local Ray started on demand, or the cluster at `address`), one
    job per GPU. Either way a job writes its own folder with a done marker, so a killed stage resumes, and
    each job runs with `cpus_per_job` torch threads, so both engines give the same numbers."""
    engine: Literal["serial", "ray"] = "serial"
    address: str | None = None                # an existing Ray cluster ("auto", "ray://host:10001"); None: local
    num_cpus: int | None = Field(None, ge=1)  # a local Ray's CPUs (None: all); with cpus_per_job, the workers
    gpus_per_job: float = Field(1.0, ge=0)    # used when the machine has GPUs
    cpus_per_job: int = Field(1, ge=1)
    max_retries: int = Field(2, ge=0)         # a job whose worker died is retried this often


# ------------------------------------------------------------------------------------------- the study
class StudyConfig(Section):
    profile: str
    seed: int = Field(0, ge=0)
    data_root: str                 # `${CLASSIT_DATA}` is expanded; relative paths are from the repo root
    run_root: str = "runs/${profile}"
    figures_root: str = "runs/${profile}/figures"   # generated; `make figures` copies them to figures/<profile>/
    demo: DemoConfig | None = None  # set: data_root is generated by the demo generator
    corpus: CorpusConfig = CorpusConfig()
    tokenizer: TokenizerConfig = TokenizerConfig()
    instruct: InstructConfig = InstructConfig()
    curricula: CurriculaConfig = CurriculaConfig()
    pretrain: PretrainConfig = PretrainConfig()
    tuning: TuningConfig = TuningConfig()
    evaluation: EvaluationConfig = EvaluationConfig()
    finetune: FinetuneSection = FinetuneSection()
    statistics: StatisticsConfig = StatisticsConfig()
    launch: LaunchConfig = LaunchConfig()
    fanout: FanoutConfig = FanoutConfig()

    @model_validator(mode="before")
    @classmethod
    def _training_seeds(cls, data: Any) -> Any:
        """A training run's seed is the study's unless its `train` section sets one."""
        if not isinstance(data, Mapping) or "seed" not in data:
            return data
        data = dict(data)
        for section in ("pretrain", "tuning"):
            sec = data.get(section)
            sec = dict(sec) if isinstance(sec, Mapping) else ({} if sec is None else sec)
            if isinstance(sec, dict):
                train = sec.get("train")
                train = dict(train) if isinstance(train, Mapping) else ({} if train is None else train)
                if isinstance(train, dict):
                    train.setdefault("seed", data["seed"])
                    sec["train"] = train
                data[section] = sec
        return data

    @model_validator(mode="after")
    def _tuning_uses_built_curricula(self) -> "StudyConfig":
        missing = [n for n in self.tuning.curricula if n not in self.curricula.names]
        if missing:
            raise ValueError(f"tuning.curricula: {', '.join(missing)} not built by the data stage "
                             f"(curricula.names: {', '.join(self.curricula.names)})")
        return self

    @property
    def data_dir(self) -> Path:
        return _resolve(self.data_root, self)

    @property
    def run_dir(self) -> Path:
        return _resolve(self.run_root, self)

    @property
    def figures_dir(self) -> Path:
        return _resolve(self.figures_root, self)

    def data_path(self, rel: str) -> Path:
        """A path under the data root (absolute paths are kept)."""
        p = Path(os.path.expandvars(rel))
        return p if p.is_absolute() else self.data_dir / p

    def section(self, name: str) -> Any:
        """The plain (JSON) form of a top-level key, resolved: what stage keys hash."""
        value = getattr(self, name)
        return value.model_dump(mode="json") if isinstance(value, BaseModel) else value


SECTIONS = tuple(StudyConfig.model_fields)


def _resolve(template: str, cfg: StudyConfig) -> Path:
    p = Path(os.path.expandvars(template.replace("${profile}", cfg.profile)))
    return p if p.is_absolute() else REPO_ROOT / p


def repo_path(path: str | Path) -> Path:
    """A user-given path: absolute as is; relative from the repository root, or else from the current
    folder (a notebook's kernel may run anywhere)."""
    p = Path(os.path.expandvars(str(path)))
    if p.is_absolute():
        return p
    return REPO_ROOT / p if (REPO_ROOT / p).exists() or not p.exists() else p.resolve()


def _expand_env(text: str, where: str) -> str:
    for var in re.findall(r"\$\{(\w+)\}", text):
        if var != "profile" and var not in os.environ:
            raise ConfigError(f"{where}: data_root: environment variable ${var} is not set "
                              f"(export {var}=/path/to/data)")
    return text


def _first_error(err: ValidationError) -> str:
    """`dotted.key: reason` of a validation error's first problem."""
    e = err.errors()[0]
    loc = ".".join(str(x) for x in e["loc"] if not str(x).startswith("function-"))
    loc = re.sub(r"\.(literal|tuple|int|str|float|nullable|union)\[.*$", "", loc)   # pydantic's type branches
    msg = e["msg"].removeprefix("Value error, ")
    if e["type"] == "extra_forbidden":
        msg = "unknown key"
    elif e["type"] == "missing":
        msg = "required key is missing"
    elif "input" in e and e["type"] not in ("value_error",):
        msg = f"{msg} (got {e['input']!r})"
    if ": " in msg and e["type"] == "value_error":  # validators name their own sub-key
        sub, msg = msg.split(": ", 1)
        if re.fullmatch(r"[\w.]+", sub):
            loc = f"{loc}.{sub}" if loc else sub
        else:
            msg = f"{sub}: {msg}"
    return f"{loc}: {msg}" if loc else msg


def validate(model: type[BaseModel], raw: Any, where: str, prefix: str = "") -> Any:
    """`model.model_validate(raw)`, or ConfigError `<where>: <prefix><dotted.key>: <reason>`."""
    try:
        return model.model_validate(raw)
    except ValidationError as err:
        raise ConfigError(f"{where}: {prefix}{_first_error(err)}") from None


def parse_config(raw: Any, where: str = "<params>", check_paths: bool = True) -> StudyConfig:
    """Validate a params mapping into a StudyConfig, or raise ConfigError naming `where` and the key."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: top level must be a mapping of sections")
    raw = dict(raw)
    if isinstance(raw.get("data_root"), str):
        raw["data_root"] = _expand_env(raw["data_root"], where)
    cfg = validate(StudyConfig, raw, where)
    if check_paths and cfg.demo is None and not cfg.data_dir.is_dir():
        raise ConfigError(f"{where}: data_root: directory {cfg.data_dir} does not exist")
    return cfg


def read_params(params_file: str | Path) -> dict[str, Any]:
    """The raw mapping of a params YAML file (ConfigError with the line of a YAML error)."""
    path = Path(params_file)
    if not path.is_file():
        raise ConfigError(f"{path}: params file not found")
    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = f" line {mark.line + 1}" if mark else ""
        raise ConfigError(f"{path}:{line} invalid YAML: {getattr(err, 'problem', err)}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: top level must be a mapping of sections")
    return raw


def merge(base: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """`base` with `overrides` applied key by key, nested mappings merged (a value replaces, a mapping
    updates)."""
    out = dict(base)
    for k, v in overrides.items():
        out[k] = merge(out[k], v) if isinstance(v, Mapping) and isinstance(out.get(k), Mapping) else v
    return out


def load_config(params_file: str | Path, check_paths: bool = True,
                overrides: Mapping[str, Any] | None = None) -> StudyConfig:
    """Read `params_file` (relative paths from the repository root), apply nested `overrides`, validate."""
    path = repo_path(params_file)
    raw = merge(read_params(path), overrides or {})
    return parse_config(raw, where=str(params_file), check_paths=check_paths)
