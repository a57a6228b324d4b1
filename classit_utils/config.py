"""Typed, frozen study configuration loaded from `params/<profile>.yaml`.

Every section is a pydantic model with `extra="forbid"` and strict types, so an unknown key, a wrong
type or an impossible value fails before any work starts, with one line naming the file and key:

    params/demo.yaml: tokenizer.vocab_size: must be >= 300 (got 10)
"""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

IT_SETS = ("conv", "qa")
CURRICULA = ("conv", "qa", "merged", "seq_conv_qa", "seq_qa_conv")
BABYLM_SOURCES = ("bnc_spoken", "childes", "gutenberg", "open_subtitles", "simple_wiki", "switchboard")


class ConfigError(ValueError):
    """A params problem, reported as one line: `<file>: <key>: <what is wrong>`."""


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


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


class QAConfig(Section):
    """Lecture-aligned QA pairs built from Simple English Wikipedia articles."""
    source: str = "simple_wiki"               # corpus source whose articles are used
    questions_per_article: int = Field(3, ge=1, le=10)
    answer_sentences: int = Field(2, ge=1, le=8)
    min_article_sentences: int = Field(2, ge=1)
    max_pairs: int | None = Field(None, ge=1)


class InstructConfig(Section):
    conv: ConvConfig = ConvConfig()
    qa: QAConfig = QAConfig()
    # Use the released CLASS_IT data instead of building it: a HF id or a local folder of
    # `{switchboard,simple_wiki}.{parquet,jsonl}`. None = build from the corpora.
    class_it: str | None = None
    heldout_fraction: float = Field(0.02, ge=0.0, lt=0.5)  # pairs kept out of tuning, for eval
    hold_out_from_pretraining: bool = True


class CurriculaConfig(Section):
    names: tuple[str, ...] = CURRICULA
    shuffle_seed: int = 0

    @model_validator(mode="after")
    def _known(self) -> "CurriculaConfig":
        for n in self.names:
            if n not in CURRICULA:
                raise ValueError(f"names: unknown curriculum {n!r} (known: {', '.join(CURRICULA)})")
        return self


def _check_train(train: dict[str, Any], section: str) -> None:
    from .train import TrainConfig
    TrainConfig.from_dict(train, section)           # raises "<section>.<key>: ..."


class PretrainConfig(Section):
    """Pretraining runs: one model per size, `train` as classit_utils.train.TrainConfig."""
    sizes: tuple[str, ...] = ("100m", "140m")
    model: dict[str, Any] = {}      # ModelConfig overrides (shapes, tie_embeddings, max_position_embeddings)
    train: dict[str, Any] = {}

    @model_validator(mode="after")
    def _valid(self) -> "PretrainConfig":
        from .modeling import PRESETS, ModelConfig
        if not self.sizes:
            raise ValueError("sizes: at least one size is needed")
        for size in self.sizes:
            if size not in PRESETS:
                raise ValueError(f"sizes: unknown size {size!r} (known: {', '.join(PRESETS)})")
            ModelConfig.from_dict({**self.model, "size": size})
        _check_train(self.train, "train")
        return self


class TuningConfig(Section):
    """Instruction tuning of every pretrained size on each curriculum; `train.epochs` is per phase."""
    curricula: tuple[str, ...] = CURRICULA
    reply_only_loss: bool = True
    max_length: int | None = Field(None, ge=8)
    group_by_length: bool = False
    eval_batch_size: int = Field(16, ge=1)
    train: dict[str, Any] = {}

    @model_validator(mode="after")
    def _valid(self) -> "TuningConfig":
        for n in self.curricula:
            if n not in CURRICULA:
                raise ValueError(f"curricula: unknown curriculum {n!r} (known: {', '.join(CURRICULA)})")
        _check_train(self.train, "train")
        return self


class EvaluationConfig(Section):
    """Zero-shot evaluation of every model (notebooks 03-07), with the BabyLM 2025 pipeline's rules."""
    variant: Literal["fast", "full"] = "fast"
    batch_size: int = Field(64, ge=1)
    limit: int | None = Field(None, ge=1)    # items per subtask (smoke runs); None = all
    bos: bool = True
    share_context: bool = True
    bf16: bool = False
    device: str = "auto"
    skip_missing: bool = True                # absent data (COMPS, WUG past tense here): recorded as skipped


class FinetuneSection(Section):
    """(Super)GLUE fine-tuning of every model (notebook 08); `config` is classit_utils.finetune.FinetuneConfig."""
    tasks: tuple[str, ...] = ("boolq", "multirc", "rte", "wsc", "mrpc", "qqp", "mnli")
    seeds: tuple[int, ...] = (0, 1, 2)
    config: dict[str, Any] = {}

    @model_validator(mode="after")
    def _valid(self) -> "FinetuneSection":
        from .finetune import FinetuneConfig
        from .glue import GLUE_TASK_NAMES
        for t in self.tasks:
            if t not in GLUE_TASK_NAMES:
                raise ValueError(f"tasks: unknown task {t!r} (known: {', '.join(GLUE_TASK_NAMES)})")
        if not self.seeds:
            raise ValueError("seeds: at least one seed is needed")
        FinetuneConfig.from_dict(self.config, "config")     # raises "config.<key>: ..."
        return self


class StatisticsConfig(Section):
    alpha: float = Field(0.05, gt=0, lt=0.5)
    n_boot: int = Field(2000, ge=100)
    ft_margin: float = Field(0.5, ge=0)      # fine-tuning points (percent) below which a gain is negligible
    zs_margin: float = Field(0.1, ge=0)      # zero-shot log-odds below which transfer is negligible
    rho_margin: float = Field(0.05, ge=0)
    selection: Literal["valid", "heldout"] = "heldout"   # fine-tuning epoch selection the claims rest on


class StudyConfig(Section):
    profile: str
    seed: int = 0
    data_root: str                 # `${CLASSIT_DATA}` is expanded; relative paths are from the repo root
    run_root: str = "runs/${profile}"
    figures_root: str = "figures/${profile}"
    demo: DemoConfig | None = None  # set: data_root is generated by the demo generator
    corpus: CorpusConfig = CorpusConfig()
    tokenizer: TokenizerConfig = TokenizerConfig()
    instruct: InstructConfig = InstructConfig()
    curricula: CurriculaConfig = CurriculaConfig()
    # Sections of later stages, validated by their own modules.
    pretrain: PretrainConfig = PretrainConfig()
    tuning: TuningConfig = TuningConfig()
    evaluation: EvaluationConfig = EvaluationConfig()
    finetune: FinetuneSection = FinetuneSection()
    statistics: StatisticsConfig = StatisticsConfig()

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

    def section(self, name: str) -> dict[str, Any]:
        """The plain-dict form of a section, used to key stage caches."""
        value = getattr(self, name)
        return value.model_dump(mode="json") if isinstance(value, BaseModel) else value


REPO_ROOT = Path(__file__).resolve().parent.parent


def _resolve(template: str, cfg: StudyConfig) -> Path:
    p = Path(os.path.expandvars(template.replace("${profile}", cfg.profile)))
    return p if p.is_absolute() else REPO_ROOT / p


def _expand_env(text: str, where: str) -> str:
    for var in re.findall(r"\$\{(\w+)\}", text):
        if var != "profile" and var not in os.environ:
            raise ConfigError(f"{where}: data_root: environment variable ${var} is not set "
                              f"(export {var}=/path/to/data)")
    return text


def _first_error(err: ValidationError) -> str:
    e = err.errors()[0]
    loc = ".".join(str(x) for x in e["loc"] if not str(x).startswith("function-"))
    msg = e["msg"].removeprefix("Value error, ")
    if e["type"] == "extra_forbidden":
        msg = "unknown key"
    elif e["type"] == "missing":
        msg = "required key is missing"
    elif "input" in e and e["type"] not in ("value_error",):
        msg = f"{msg} (got {e['input']!r})"
    if ": " in msg and e["type"] == "value_error":  # validators name their own sub-key
        sub, msg = msg.split(": ", 1)
        loc = f"{loc}.{sub}" if loc else sub
    return f"{loc}: {msg}" if loc else msg


def _tuples(value: Any) -> Any:
    """YAML lists become tuples, so strict validation accepts them for the frozen tuple fields."""
    if isinstance(value, dict):
        return {k: _tuples(v) for k, v in value.items()}
    if isinstance(value, list):
        return tuple(_tuples(v) for v in value)
    return value


def parse_config(raw: dict[str, Any], where: str = "<params>", check_paths: bool = True) -> StudyConfig:
    """Validate a params mapping into a StudyConfig, or raise ConfigError naming `where` and the key."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: top level must be a mapping of sections")
    raw = _tuples(raw)
    if isinstance(raw.get("data_root"), str):
        raw["data_root"] = _expand_env(raw["data_root"], where)
    try:
        cfg = StudyConfig.model_validate(raw)
    except ValidationError as err:
        raise ConfigError(f"{where}: {_first_error(err)}") from None
    if check_paths and cfg.demo is None and not cfg.data_dir.is_dir():
        raise ConfigError(f"{where}: data_root: directory {cfg.data_dir} does not exist")
    return cfg


def load_config(params_file: str | Path, check_paths: bool = True, **overrides: Any) -> StudyConfig:
    """Read `params_file`, apply non-None section overrides (papermill-injected values), validate."""
    path = Path(params_file)
    if not path.is_file():
        raise ConfigError(f"{path}: params file not found")
    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = f" line {mark.line + 1}" if mark else ""
        raise ConfigError(f"{path}:{line} invalid YAML: {getattr(err, 'problem', err)}") from None
    if isinstance(raw, dict):
        raw.update({k: v for k, v in overrides.items() if v is not None})
    return parse_config(raw, where=str(path), check_paths=check_paths)


SECTIONS = tuple(StudyConfig.model_fields)


def notebook_config(params_file: str | Path, namespace: dict[str, Any], check_paths: bool = True) -> StudyConfig:
    """The config of a notebook run: the sections papermill injected into `namespace` (the
    notebook's globals) override the params file, which alone is used when run by hand."""
    return load_config(params_file, check_paths=check_paths,
                       **{k: namespace.get(k) for k in SECTIONS})
