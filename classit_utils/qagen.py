"""Lecture-aligned QA generated the way the paper did: an instruct model writes question-answer pairs
about each section of a Simple English Wikipedia article (CLASS-IT used LLaMA-3.2-3B-Instruct and
released the result as `colinglab/CLASS_IT`, config `simple_wiki`; `instruct.load_class_it` reads it).
`instruct.qa_pairs` is the model-free alternative.

Pipeline (`generate_qa`):
1. Sections: each titled article is cut into consecutive sections of `section_sentences` sentences
   (`instruct.sentences`, the splitter `qa_pairs` uses).
2. Prompt: `template.format(title=, section=, n=questions_per_section)` as the user turn, after an
   optional `system` turn, rendered by the tokenizer's own chat template with the generation prompt.
   The paper's exact prompt is not published in this repository; `DEFAULT_TEMPLATE` is ours.
3. Output format (asked for by the template, read by `parse_qa`): one pair after another,

       Q: <question>
       A: <answer>

   A line is a question if it starts with `Q:` / `Question:` (optionally numbered `Q1:`, listed `1.`
   or `-`, or in `**bold**`), an answer likewise with `A:` / `Answer:`; `Q: ... A: ...` on one line is
   split. Every question opens a pair, closed by the next answer line (empty if another question
   comes first); an answer with no open question becomes a pair with an empty question. Any other
   line (preambles, blank lines, "I hope this helps") is ignored, so answers are one line.
4. Filters (`filter_pairs`), applied in this order, a pair counted under the first rule it fails:
   `empty` (question or answer empty), `not_question` (no `?` in the question), `too_long` (answer over
   `max_reply_words` words), `ungrounded` (fewer than a fraction `min_overlap` of the answer's content
   words occur in the section), `duplicate` (same question, case and spacing aside, already kept for
   the section), `over_limit` (kept pairs beyond `questions_per_section`). Content words: lowercase runs
   of letters/digits that are not in `STOPWORDS` and have 3+ characters (any number counts), a final
   "s" dropped (birds ~ bird); an answer without content words is ungrounded. The counts, with
   `parsed`, `kept` and `sections`, are in `df.attrs["filtered"]`.
5. Cache: one JSON-lines file per article, `<cache_dir>/<key>.jsonl`, one line per section with the raw
   model output, written atomically once the article's last section is generated. The key hashes the
   title, text, template, system prompt, n, section size, the model's fingerprint (`model_fingerprint`)
   and what changes the output (max_new_tokens, dtype, engine; seed and temperature only when
   sampling). Filters and `batch_size` are not in it: outputs are stored unfiltered, so changing a
   filter re-filters without generating. An interrupted run resumes at the first unfinished article;
   a finished rerun loads no model at all.

Determinism:
- Greedy (`do_sample=False`, the default): the output of a section does not depend on the seed, the
  batch size or the other prompts in its batch, up to floating-point ties: left padding is masked and
  positions restart at the first real token, but a different batch shape can change the summation order
  of a kernel; on CPU in fp32 the tests find identical frames for batch sizes 1, 3 and 16. On GPU in bf16 a
  near-tie can flip; once an article is cached its pairs are fixed.
- Sampling (`do_sample=True`): not `torch.manual_seed` per batch, which would tie a section's sample
  to its batch mates, but the Gumbel-max trick: at step t each row's logits / temperature get Gumbel
  noise drawn from a generator seeded with (row seed + t), the row seed hashing (seed, article key,
  section index), and decoding is then greedy. That is an exact sample from softmax(logits /
  temperature), reproducible per section whatever the batching. Not reproducible across devices (CPU
  and CUDA generators differ), dtypes, or library versions that change the logits.
- vLLM (used when installed, `engine` auto/vllm, a CUDA device and a model path or id; imported lazily,
  not installed here, so this path is untested): one `SamplingParams(seed=row seed)` per prompt,
  temperature 0 when greedy; its batching is dynamic, so the same floating-point caveat applies, and its
  samples differ from the HF engine's (a different sampler), hence the engine in the cache key.

Estimate of the paper's scale (an ESTIMATE; assumed numbers are marked):
- Words: the BabyLM 2025 strict (100M) corpus's simple_wiki part has about 14.6M words (ASSUMED, as
  stated in the project brief; consistent with Simple English Wikipedia's 15% share of the 100M mixture
  in the 2023 BabyLM README, huggingface.co/datasets/cambridge-climb/BabyLM).
- Articles and sections, MEASURED on `shared/data/babylm_corpus/moritzlad_samples_train_600k/
  simple_wiki.train` (600,000 words sampled from the 100M corpus, split with `corpus.split_documents`):
  4,951 titled articles (90 words, 6.7 sentences each on average, median 3 sentences), 13.5 words per
  sentence, 13,097 three-sentence sections (the sample is 60 snippets of 10,000 words, so <=120 articles
  are cut at a snippet edge). Scaled by 14.6M / 0.6M = 24.3: ~120k articles, ~320k sections of 3
  sentences (~224k of 5).
- Pairs: 3 per section -> ~960k pairs requested (before filtering).
- Tokens (ASSUMED: 1.3 LLaMA-3 tokens per word, a pair of ~24 words with its `Q:`/`A:` tags): ~100
  generated tokens per section of 3 pairs -> 320k x 100 = ~32M generated tokens; prompts are ~175
  tokens (system ~25, template ~60, section ~60, chat markup ~30) -> ~56M prompt tokens.
- Throughput on one H100 in bf16 for a 3B model (ASSUMED, not measured here: no GPU in this session):
  HF `generate`, static batches of 64 with left padding (a batch runs until its longest row stops,
  ~30 ms per decode step, prefill included): ~1,500 useful generated tokens/s -> 32M / 1,500 =
  21,300 s = ~6 h (batch 256, ~4,000 tokens/s: ~2.2 h). vLLM (continuous batching): ~15,000
  generated tokens/s -> 32M / 15,000 = 2,130 s = ~36 min, plus the prefill of 56M tokens
  (2 x 3e9 x 56e6 = 3.4e17 FLOP at ~400 TFLOP/s = ~14 min; vLLM overlaps the two, so the sum is an
  upper bound) -> ~50 min. The cache holds ~120k files of ~1-3 KB in one folder.
"""
from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import re
import string
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

import pandas as pd
import torch
from tqdm.auto import tqdm
from transformers import GenerationConfig, LogitsProcessor, LogitsProcessorList

from .config import QAGEN_MODEL, QAGEN_SYSTEM, QAGEN_TEMPLATE, QAGenConfig
from .corpus import Document, count_words
from .instruct import sentences
from .records import atomic_write_text
from .runtime import load_causal_lm, model_device, pad_id, resolve_device

log = logging.getLogger(__name__)

FORMAT_VERSION = 1          # bump when the cached lines or the prompt rendering change meaning
SOURCE = "simple_wiki"
ENGINES = ("auto", "hf", "vllm")
DEFAULT_MODEL, DEFAULT_SYSTEM, DEFAULT_TEMPLATE = QAGEN_MODEL, QAGEN_SYSTEM, QAGEN_TEMPLATE
FILTER_RULES = ("empty", "not_question", "too_long", "ungrounded", "duplicate", "over_limit")
STOPWORDS = frozenset("""
a an the and or but if of to in on at by for with from as into onto about over under than then so
is are was were be been being am do does did done has have had having it its this that these
those there here which who whom whose what when where why how not no yes can could will would shall
should may might must also very just only more most some any all each other such own same too they
them their he him his she her we us our you your i me my one""".split())


QAGenParams = QAGenConfig        # the typed settings (`instruct.qa.generate` in the params)


# --------------------------------------------------------------------------- sections and prompts
def sections(text: str, k: int) -> list[str]:
    """Consecutive groups of `k` sentences (the last may be shorter)."""
    sents = sentences(text)
    return [" ".join(sents[i:i + k]) for i in range(0, len(sents), k)]


def check_template(template: str) -> None:
    """The template may use {title}, {section} and {n}, and must use {section} (what answers are
    grounded in)."""
    names = {f for _, f, _, _ in string.Formatter().parse(template) if f is not None}
    unknown = names - {"title", "section", "n"}
    if unknown:
        raise ValueError(f"template: unknown field(s) {', '.join(sorted(unknown))} (allowed: title, section, n)")
    if "section" not in names:
        raise ValueError("template: must contain {section}")


def messages(title: str, section: str, n: int, template: str, system: str | None) -> list[dict[str, str]]:
    user = {"role": "user", "content": template.format(title=title, section=section, n=n)}
    return ([{"role": "system", "content": system}] if system else []) + [user]


def prompt_ids(tok, msgs: list[dict[str, str]]) -> list[int]:
    """Token ids of the chat-formatted prompt, ending with the assistant's generation prompt.

    Rendered to text, then encoded: BOS is added unless the template wrote it (LLaMA-3's does, the
    project's does not), so the model sees what it was tuned on either way."""
    text = tok.apply_chat_template(msgs, add_generation_prompt=True, tokenize=False)
    bos = getattr(tok, "bos_token", None)
    return list(tok(text, add_special_tokens=not (bos and text.startswith(bos)))["input_ids"])


# --------------------------------------------------------------------------- parsing and filtering
_TAG = re.compile(r"^\s*(?:[-*\u2022]\s*|\d+[.)]\s*)?[*_]*\s*(?P<tag>question|answer|q|a)\s*\d*\s*[*_]*\s*:\s*[*_]*\s*"
                  r"(?P<body>.*?)\s*$", re.I)
_INLINE_ANSWER = re.compile(r"\s+[*_]*(?:answer|a)\s*\d*\s*[*_]*\s*:\s*[*_]*\s*", re.I)


def _clean(s: str) -> str:
    return s.strip().strip("*_").strip()


def parse_qa(output: str) -> list[tuple[str, str]]:
    """(question, answer) candidates of one model output, in the module docstring's format."""
    pairs: list[list[str]] = []
    open_q = False
    for line in output.splitlines():
        m = _TAG.match(line)
        if not m:
            continue
        tag, body = m.group("tag").lower()[0], m.group("body")
        if tag == "q":
            q, *rest = _INLINE_ANSWER.split(body, maxsplit=1)
            pairs.append([_clean(q), _clean(rest[0]) if rest else ""])
            open_q = not rest
        elif open_q:
            pairs[-1][1] = _clean(body)
            open_q = False
        else:
            pairs.append(["", _clean(body)])
    return [(q, a) for q, a in pairs]


_WORD = re.compile(r"[a-z0-9]+")


def content_words(text: str) -> set[str]:
    """Lowercase letter/digit runs that carry content: not a stopword, 3+ characters or a number,
    a final "s" dropped so plurals match."""
    out = set()
    for w in _WORD.findall(text.lower()):
        if w in STOPWORDS or (len(w) < 3 and not w.isdigit()):
            continue
        out.add(w[:-1] if len(w) > 3 and w.endswith("s") else w)
    return out


def overlap(answer: str, section: str) -> float:
    """Fraction of the answer's content words found in the section (0 when it has none)."""
    words = content_words(answer)
    return len(words & content_words(section)) / len(words) if words else 0.0


def filter_pairs(pairs: Sequence[tuple[str, str]], section: str, *, limit: int, max_reply_words: int,
                 min_overlap: float) -> tuple[list[tuple[str, str]], Counter]:
    """The pairs that pass every rule (module docstring), and how many each rule dropped."""
    kept: list[tuple[str, str]] = []
    dropped: Counter = Counter()
    seen: set[str] = set()
    for q, a in pairs:
        key = " ".join(q.lower().split())
        if not q or not a:
            rule = "empty"
        elif "?" not in q:
            rule = "not_question"
        elif count_words(a) > max_reply_words:
            rule = "too_long"
        elif overlap(a, section) < min_overlap:
            rule = "ungrounded"
        elif key in seen:
            rule = "duplicate"
        elif len(kept) >= limit:
            rule = "over_limit"
        else:
            kept.append((q, a))
            seen.add(key)
            continue
        dropped[rule] += 1
    return kept, dropped


# --------------------------------------------------------------------------- cache keys
def _sha(*parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def _file_digest(path: Path, chunk: int = 1 << 20) -> str:
    """sha256 of a small file; of its size, first and last MiB when large (weights: the safetensors
    header and real weight bytes at both ends, without reading gigabytes)."""
    size = path.stat().st_size
    h = hashlib.sha256(str(size).encode())
    with open(path, "rb") as f:
        if size <= 4 * chunk:
            h.update(f.read())
        else:
            h.update(f.read(chunk))
            f.seek(size - chunk)
            h.update(f.read(chunk))
    return h.hexdigest()


def model_fingerprint(model: str | Path | tuple) -> str:
    """What identifies the model in cache keys: a local folder by the digests of its files (config,
    tokenizer and chat template, weights), a hub id by its name (pin a revision by downloading it to
    a folder), an in-memory (model, tokenizer) pair by its config, chat template and the first values
    of every parameter."""
    if isinstance(model, tuple):
        m, tok = model
        h = hashlib.sha256(m.config.to_json_string().encode())
        h.update(str(getattr(tok, "chat_template", "")).encode())
        for name, p in m.named_parameters():
            h.update(name.encode() + str(tuple(p.shape)).encode())
            h.update(p.detach().flatten()[:256].float().cpu().numpy().tobytes())
        return "pair:" + h.hexdigest()
    path = Path(model)
    if path.is_dir():
        return "dir:" + _sha(sorted((f.name, _file_digest(f)) for f in path.iterdir() if f.is_file()))
    return f"hub:{model}"


def article_key(doc: Document, *, template: str, system: str | None, questions_per_section: int,
                section_sentences: int, model: str, max_new_tokens: int, do_sample: bool,
                temperature: float, seed: int, engine: str, dtype: str) -> str:
    """The cache key of one article's raw outputs (what it covers: module docstring)."""
    sampling = {"temperature": temperature, "seed": seed} if do_sample else None
    return _sha(FORMAT_VERSION, doc.title, doc.text, template, system, questions_per_section, section_sentences,
                model, max_new_tokens, do_sample, sampling, engine, dtype)[:32]


def row_seed(seed: int, key: str, section_index: int) -> int:
    """A section's sampling seed: independent of the batch it lands in."""
    return int(_sha(seed, key, section_index)[:15], 16)


def read_cached(path: Path, n_sections: int) -> list[str] | None:
    """The raw outputs of a finished article, or None (absent, unreadable or incomplete)."""
    if not path.is_file():
        return None
    try:
        lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    except json.JSONDecodeError:
        log.warning("%s: unreadable cache file, regenerating", path)
        return None
    if [r.get("section_index") for r in lines] != list(range(n_sections)):
        return None
    return [r["output"] for r in lines]


def write_cached(path: Path, doc: Document, secs: list[str], outputs: list[str]) -> None:
    lines = [json.dumps({"title": doc.title, "section_index": j, "section": s, "output": o}, ensure_ascii=False)
             for j, (s, o) in enumerate(zip(secs, outputs))]
    atomic_write_text(path, "\n".join(lines) + "\n")


# --------------------------------------------------------------------------- engines
def resolve_engine(engine: str, model: Any, device: str | torch.device = "auto") -> str:
    """`auto`: vLLM when it is installed, the device is CUDA and the model is a path or id; else HF."""
    if engine not in ENGINES:
        raise ValueError(f"engine: unknown engine {engine!r} (known: {', '.join(ENGINES)})")
    has_vllm = importlib.util.find_spec("vllm") is not None
    by_name = isinstance(model, (str, Path))
    if engine == "vllm":
        if not has_vllm:
            raise RuntimeError("engine 'vllm': vllm is not installed (pip install vllm, or use engine 'hf')")
        if not by_name:
            raise ValueError("engine 'vllm': needs a model folder or hub id, not a loaded model")
        return "vllm"
    if engine == "auto" and has_vllm and by_name and resolve_device(device).type == "cuda":
        return "vllm"
    return "hf"


class GumbelSampler(LogitsProcessor):
    """Sampling as greedy decoding of Gumbel-perturbed logits, with per-row noise seeded by
    (row seed + step): an exact softmax(logits / T) sample that does not depend on batch mates."""

    def __init__(self, row_seeds: Sequence[int], prompt_width: int, temperature: float):
        self.row_seeds, self.width, self.temperature = list(row_seeds), prompt_width, temperature

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
        step = input_ids.shape[1] - self.width
        gen = torch.Generator(device=scores.device)
        noise = torch.empty(scores.shape, dtype=torch.float32, device=scores.device)
        for r, s in enumerate(self.row_seeds):
            gen.manual_seed((s + step) % 2**63)
            u = torch.rand(scores.shape[1], generator=gen, device=scores.device).clamp_(1e-10, 1 - 1e-7)
            noise[r] = -torch.log(-torch.log(u))
        return scores.float() / self.temperature + noise


def left_pad(rows: Sequence[Sequence[int]], pad: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(input_ids, attention_mask), padded on the left so every row's next token is the last column."""
    width = max(len(r) for r in rows)
    ids = torch.full((len(rows), width), pad, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, r in enumerate(rows):
        if r:
            ids[i, width - len(r):] = torch.tensor(r, dtype=torch.long)
            mask[i, width - len(r):] = 1
    return ids, mask


def eos_ids(model, tok) -> list[int]:
    """Every id that ends a reply: the tokenizer's EOS and the model's generation EOS ids (LLaMA-3
    instruct models stop at `<|eot_id|>` as well as `<|end_of_text|>`)."""
    ids = {tok.eos_token_id} if tok.eos_token_id is not None else set()
    gen_eos = getattr(getattr(model, "generation_config", None), "eos_token_id", None)
    ids |= set(gen_eos) if isinstance(gen_eos, (list, tuple)) else ({gen_eos} if gen_eos is not None else set())
    if not ids:
        raise ValueError("the tokenizer and model define no EOS token: generation would not stop")
    return sorted(int(i) for i in ids)


@contextmanager
def _generation_config(model, cfg: GenerationConfig) -> Iterator[None]:
    """`cfg` as the model's own generation config for the block: passing it to `generate` lets a
    hub model's defaults (LLaMA-3.2-Instruct ships do_sample=True, top_p=0.9) fill or override fields,
    depending on the transformers version."""
    old = model.generation_config
    model.generation_config = cfg
    try:
        yield
    finally:
        model.generation_config = old


class HFEngine:
    """Batched `model.generate` with left padding: greedy, or Gumbel sampling (`GumbelSampler`)."""

    def __init__(self, model, tok, *, max_new_tokens: int, do_sample: bool, temperature: float):
        self.model, self.tok = model, tok
        self.eos, self.pad = eos_ids(model, tok), pad_id(tok)
        self.do_sample, self.temperature = do_sample, temperature
        self.cfg = GenerationConfig(max_new_tokens=max_new_tokens, do_sample=False, num_beams=1,
                                    eos_token_id=self.eos, pad_token_id=self.pad, repetition_penalty=1.0)

    @torch.inference_mode()
    def __call__(self, prompts: Sequence[Sequence[int]], seeds: Sequence[int]) -> list[str]:
        ids, mask = left_pad(prompts, self.pad)
        device = model_device(self.model)
        procs = LogitsProcessorList([GumbelSampler(seeds, ids.shape[1], self.temperature)]) if self.do_sample else None
        with _generation_config(self.model, self.cfg):
            out = self.model.generate(input_ids=ids.to(device), attention_mask=mask.to(device),
                                      logits_processor=procs)
        return [self._decode(row) for row in out[:, ids.shape[1]:].tolist()]

    def _decode(self, row: list[int]) -> str:
        stop = next((i for i, t in enumerate(row) if t in self.eos), len(row))
        return self.tok.decode(row[:stop], skip_special_tokens=True)


class VLLMEngine:
    """`vllm.LLM(...).generate` with one seeded `SamplingParams` per prompt (untested here)."""

    def __init__(self, model: str, *, max_new_tokens: int, do_sample: bool, temperature: float, seed: int):
        from vllm import LLM   # lazy: an optional, GPU-only dependency
        self.llm = LLM(model=str(model), dtype="bfloat16", seed=seed)
        self.max_new_tokens, self.temperature = max_new_tokens, temperature if do_sample else 0.0

    def __call__(self, prompts: Sequence[Sequence[int]], seeds: Sequence[int]) -> list[str]:
        from vllm import SamplingParams
        params = [SamplingParams(temperature=self.temperature, max_tokens=self.max_new_tokens, seed=s % 2**31)
                  for s in seeds]
        outs = self.llm.generate([{"prompt_token_ids": list(p)} for p in prompts], params, use_tqdm=False)
        return [o.outputs[0].text for o in outs]


def _load(model: str | Path | tuple, engine: str, device: str, gen: dict[str, Any]):
    """(tokenizer, dtype name, a factory of the engine): the weights load only when something is
    generated, so a cached rerun never touches them."""
    seed = gen.pop("seed")
    if isinstance(model, tuple):
        m, tok = model
        return tok, str(next(m.parameters()).dtype).removeprefix("torch."), lambda: HFEngine(m, tok, **gen)
    from transformers import AutoTokenizer
    tok = AutoTokenizer.from_pretrained(str(model))
    dev = resolve_device(device)
    if engine == "vllm":
        return tok, "bfloat16", lambda: VLLMEngine(str(model), seed=seed, **gen)
    if dev.type == "cuda":
        def factory():
            from transformers import AutoModelForCausalLM
            m = AutoModelForCausalLM.from_pretrained(str(model), dtype=torch.bfloat16).to(dev).eval()
            return HFEngine(m, tok, **gen)
        return tok, "bfloat16", factory
    return tok, "float32", lambda: HFEngine(load_causal_lm(model, dev)[0], tok, **gen)


# --------------------------------------------------------------------------- the IT set
@dataclass
class _Pending:
    index: int                 # position in `articles`
    doc: Document
    path: Path
    secs: list[str]
    outputs: list[str | None]


def _generate_pending(pending: list[_Pending], make_engine: Callable, tok, *, template: str, system: str | None,
                      n: int, batch_size: int, seed: int, on_done: Callable[[_Pending], None]) -> int:
    """Generate every section of the pending articles, in order and `batch_size` prompts at a time
    (across articles), writing each article's cache file as its last section comes back."""
    jobs = [(p, j) for p in pending for j in range(len(p.secs))]
    engine = make_engine() if jobs else None
    left = {p.index: len(p.secs) for p in pending}
    for lo in range(0, len(jobs), batch_size):
        batch = jobs[lo:lo + batch_size]
        prompts = [prompt_ids(tok, messages(p.doc.title, p.secs[j], n, template, system)) for p, j in batch]
        seeds = [row_seed(seed, p.path.stem, j) for p, j in batch]
        for (p, j), out in zip(batch, engine(prompts, seeds)):
            p.outputs[j] = out
            left[p.index] -= 1
            if left[p.index] == 0:
                write_cached(p.path, p.doc, p.secs, p.outputs)
                on_done(p)
    return len(jobs)


def generate_qa(articles: list[Document], model_dir_or_id: str | Path | tuple, cache_dir: str | Path, *,
                template: str = DEFAULT_TEMPLATE, system: str | None = DEFAULT_SYSTEM,
                questions_per_section: int = 3, section_sentences: int = 3, max_new_tokens: int = 256,
                batch_size: int = 16, seed: int = 0, do_sample: bool = False, temperature: float = 1.0,
                max_reply_words: int = 60, min_overlap: float = 0.5, device: str = "auto",
                engine: str = "auto", progress: bool = True) -> pd.DataFrame:
    """Model-written QA pairs about each titled article's sections, in the IT-set shape without
    `split` (`instruct.finalize` adds it and replaces `text` with the chat text; `_section` keeps the
    section and `_doc` the article, for `instruct.holdout_docs`).

    `model_dir_or_id`: a HF folder or hub id, or an already loaded (model, tokenizer) pair (used as
    it is, on its device; HF engine only). The pairs of one section share its origin
    `generated:<title>#<section>`, so `finalize`'s origin-hashed split never puts a section on both
    sides. The filter counts are in `df.attrs["filtered"]`; what was cached and generated in
    `df.attrs["qagen"]`."""
    check_template(template)
    for name, value in (("questions_per_section", questions_per_section), ("section_sentences", section_sentences),
                        ("max_new_tokens", max_new_tokens), ("batch_size", batch_size),
                        ("max_reply_words", max_reply_words)):
        if value < 1:
            raise ValueError(f"{name}: must be >= 1 (got {value})")
    if not 0.0 <= min_overlap <= 1.0:
        raise ValueError(f"min_overlap: must be in [0, 1] (got {min_overlap})")
    if do_sample and temperature <= 0:
        raise ValueError(f"temperature: must be > 0 when sampling (got {temperature})")
    engine = resolve_engine(engine, model_dir_or_id, device)
    gen = dict(max_new_tokens=max_new_tokens, do_sample=do_sample, temperature=temperature, seed=seed)
    tok, dtype, make_engine = _load(model_dir_or_id, engine, device, dict(gen))
    fingerprint = model_fingerprint(model_dir_or_id)
    cache_dir = Path(cache_dir)

    done: dict[int, list[str]] = {}
    pending: list[_Pending] = []
    order: list[tuple[int, Document, list[str]]] = []
    for i, doc in enumerate(articles):
        secs = sections(doc.text, section_sentences) if doc.title else []
        if not secs:
            continue
        key = article_key(doc, template=template, system=system, questions_per_section=questions_per_section,
                          section_sentences=section_sentences, model=fingerprint, engine=engine, dtype=dtype, **gen)
        path = cache_dir / f"{key}.jsonl"
        order.append((i, doc, secs))
        cached = read_cached(path, len(secs))
        if cached is not None:
            done[i] = cached
        else:
            pending.append(_Pending(i, doc, path, secs, [None] * len(secs)))

    with tqdm(total=len(order), initial=len(done), desc="qa-gen articles", disable=not progress) as bar:
        def finished(p: _Pending) -> None:
            done[p.index] = list(p.outputs)
            bar.update(1)
        generated = _generate_pending(pending, make_engine, tok, template=template, system=system,
                                      n=questions_per_section, batch_size=batch_size, seed=seed, on_done=finished)

    df, counts = _table(order, done, questions_per_section, max_reply_words, min_overlap)
    df.attrs["filtered"] = counts
    df.attrs["qagen"] = {"articles": len(order), "cached_articles": len(order) - len(pending),
                         "generated_sections": generated, "engine": engine, "dtype": dtype}
    log.info("qa-gen: %d articles (%d cached), %d sections generated, %d pairs kept of %d parsed",
             len(order), len(order) - len(pending), generated, counts["kept"], counts["parsed"])
    return df


def generate_qa_with(params: QAGenConfig, articles: list[Document], cache_dir: str | Path, *,
                     model: str | Path | tuple | None = None, progress: bool = True) -> pd.DataFrame:
    """`generate_qa` from the params' `instruct.qa.generate` (`model` overrides `params.model`: a resolved
    path, or a loaded (model, tokenizer) pair)."""
    if params.max_articles is not None:
        articles = [d for d in articles if d.title][:params.max_articles]
    return generate_qa(articles, params.model if model is None else model, cache_dir, device=params.device,
                       progress=progress, **params.kwargs())


# instruct.COLUMNS without `split`, plus the article id and the section (which survive `finalize`)
GENERATED_COLUMNS = ["prompt", "reply", "source", "text", "origin", "_doc", "_section"]


def _table(order, done, n: int, max_reply_words: int, min_overlap: float) -> tuple[pd.DataFrame, dict[str, int]]:
    rows, dropped = [], Counter()
    parsed = 0
    for i, doc, secs in order:
        for j, (section, output) in enumerate(zip(secs, done[i])):
            pairs = parse_qa(output)
            parsed += len(pairs)
            kept, d = filter_pairs(pairs, section, limit=n, max_reply_words=max_reply_words, min_overlap=min_overlap)
            dropped += d
            rows += [{"prompt": q, "reply": a, "source": SOURCE, "text": section,
                      "origin": f"generated:{doc.title}#{j}", "_doc": doc.doc_id, "_section": section}
                     for q, a in kept]
    counts = {"sections": sum(len(s) for _, _, s in order), "parsed": parsed, "kept": len(rows),
              **{r: int(dropped[r]) for r in FILTER_RULES}}
    return pd.DataFrame(rows, columns=GENERATED_COLUMNS), counts
