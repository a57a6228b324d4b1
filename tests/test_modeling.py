"""modeling: size presets, parameter counts, config errors, HF folders that load with Auto* alone."""
from __future__ import annotations

import math

import pytest
import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import AutoModelForCausalLM, AutoTokenizer, PreTrainedTokenizerFast

from classit_utils.config import ConfigError, validate
from classit_utils.modeling import (PRESETS, ModelConfig, build_model, count_parameters,
                                    expected_parameters, flops_per_token, llama_config, save_hf)

SPECIAL = {"pad_id": 0, "bos_id": 1, "eos_id": 2}
TEXT = ["the cat sat on the mat", "a dog ran to the park", "the bird sang a song"] * 30


def bare_tokenizer(vocab_size: int = 300) -> Tokenizer:
    """A byte-level BPE trained here: <pad>=0, <s>=1, </s>=2."""
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator(TEXT, trainers.BpeTrainer(
        vocab_size=vocab_size, special_tokens=["<pad>", "<s>", "</s>"], show_progress=False,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    return tok


def hf_tokenizer() -> PreTrainedTokenizerFast:
    return PreTrainedTokenizerFast(tokenizer_object=bare_tokenizer(), bos_token="<s>", eos_token="</s>",
                                   pad_token="<pad>", padding_side="right")


@pytest.mark.parametrize("size,target", [("100m", 100e6), ("140m", 140e6)])
def test_study_presets_are_within_5_percent_of_their_size(size, target):
    cfg = ModelConfig(size=size, vocab_size=16_000)
    n = expected_parameters(cfg)
    assert abs(n - target) / target < 0.05, n
    with torch.device("meta"):      # built without allocating: the analytic count is the real one
        model = build_model(cfg, SPECIAL)
    assert count_parameters(model) == n
    assert model.lm_head.weight is model.model.embed_tokens.weight      # tied, counted once
    # with a 16,384 vocabulary the sizes still hold
    n16k = expected_parameters(ModelConfig(size=size, vocab_size=16_384))
    assert abs(n16k - target) / target < 0.05


def test_exact_counts_of_the_presets():
    assert expected_parameters(ModelConfig(size="100m")) == 100_780_800
    assert expected_parameters(ModelConfig(size="140m")) == 139_715_328
    assert expected_parameters(ModelConfig(size="tiny", vocab_size=64)) == 2 * (
        4 * 64 * 64 + 3 * 64 * 192 + 2 * 64) + 64 + 64 * 64


def test_tiny_model_shapes_and_llama_components():
    cfg = ModelConfig(size="tiny", vocab_size=100, rope_theta=5000.0)
    assert cfg.padded_vocab_size == 128 and cfg.hidden_size == 64 and cfg.n_layers == 2
    torch.manual_seed(0)
    model = build_model(cfg, SPECIAL)
    c = model.config
    assert c.vocab_size == 128 and c.hidden_size == 64 and c.num_hidden_layers == 2
    assert c._attn_implementation == "sdpa" and c.hidden_act == "silu"
    assert c.rope_parameters["rope_theta"] == 5000.0
    assert (c.bos_token_id, c.eos_token_id, c.pad_token_id) == (1, 2, 0)
    assert type(model.model.norm).__name__ == "LlamaRMSNorm"
    assert model.model.embed_tokens.weight.shape == (128, 64)
    assert count_parameters(model) == expected_parameters(cfg)
    out = model(input_ids=torch.tensor([[1, 5, 6, 7]])).logits
    assert out.shape == (1, 4, 128) and torch.isfinite(out).all()


def test_overrides_replace_preset_fields_and_gqa_is_allowed():
    cfg = ModelConfig(size="100m", n_layers=4, n_kv_heads=4)
    assert (cfg.hidden_size, cfg.n_layers, cfg.n_heads, cfg.n_kv_heads) == (768, 4, 12, 4)
    assert llama_config(cfg, SPECIAL).num_key_value_heads == 4
    assert ModelConfig.model_validate({"size": "140m"}).n_layers == PRESETS["140m"]["n_layers"]


def test_flops_per_token_is_6n_plus_attention():
    cfg = ModelConfig(size="100m")
    n = expected_parameters(cfg)           # tied: the head matmul uses the embedding weights
    assert flops_per_token(cfg, 512) == 6 * n + 12 * 12 * 768 * 512


@pytest.mark.parametrize("kwargs,message", [
    ({"size": "huge"}, "model.size: unknown size 'huge' (known: tiny, small, 100m, 140m)"),
    ({"n_heads": 5}, "model.n_heads: 5 does not divide hidden_size 64"),
    ({"n_heads": 4, "n_kv_heads": 3}, "model.n_kv_heads: 3 does not divide n_heads 4"),
    ({"n_heads": 8, "hidden_size": 24, "n_kv_heads": 8}, "model.n_heads: head_dim 3 must be even for RoPE"),
    ({"vocab_size": 0}, "model.vocab_size: Input should be greater than or equal to 1 (got 0)"),
    ({"hidden_size": -64}, "model.hidden_size: Input should be greater than or equal to 1 (got -64)"),
    ({"rope_theta": 0.0}, "model.rope_theta: Input should be greater than 0 (got 0.0)"),
    ({"size": "tiny", "layers": 3}, "model.layers: unknown key"),
])
def test_bad_model_configs_fail_with_one_line_naming_the_key(kwargs, message):
    with pytest.raises(ConfigError) as err:
        validate(ModelConfig, kwargs, "x.yaml", prefix="model.")
    assert str(err.value) == f"x.yaml: {message}"


def test_out_of_vocab_special_ids_are_errors():
    with pytest.raises(ValueError, match=r"^model\.vocab_size: eos_id 70 is outside the vocabulary \(64\)"):
        build_model(ModelConfig(vocab_size=64), {"bos_id": 1, "eos_id": 70, "pad_id": 0})


def _logits(model, ids):
    model.eval()
    with torch.no_grad():
        return model(input_ids=torch.tensor([ids])).logits


@pytest.mark.parametrize("tok_kind", ["hf", "bare"])
def test_saved_folder_reloads_through_auto_classes_with_identical_logits(tmp_path, tok_kind):
    tok = hf_tokenizer() if tok_kind == "hf" else bare_tokenizer()
    torch.manual_seed(1)
    model = build_model(ModelConfig(vocab_size=tok.get_vocab_size() if tok_kind == "bare" else len(tok)),
                        SPECIAL)
    out = save_hf(model, tok, tmp_path / "hf")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hf"]          # no temp folders left
    loaded = AutoModelForCausalLM.from_pretrained(out)
    loaded_tok = AutoTokenizer.from_pretrained(out)
    ids = loaded_tok("the cat sat on the mat")["input_ids"]
    assert len(ids) > 3
    assert torch.equal(_logits(model, ids), _logits(loaded, ids))
    assert (loaded_tok.bos_token_id, loaded_tok.eos_token_id, loaded_tok.pad_token_id) == (1, 2, 0)
    gen = loaded.generation_config
    assert (gen.bos_token_id, gen.eos_token_id, gen.pad_token_id) == (1, 2, 0)
    assert loaded.config.tie_word_embeddings and loaded.config._attn_implementation == "sdpa"


def test_save_hf_replaces_an_existing_folder(tmp_path):
    tok = hf_tokenizer()
    torch.manual_seed(0)
    first = build_model(ModelConfig(vocab_size=len(tok)), SPECIAL)
    torch.manual_seed(1)
    second = build_model(ModelConfig(vocab_size=len(tok)), SPECIAL)
    save_hf(first, tok, tmp_path / "m")
    save_hf(second, tok, tmp_path / "m")
    loaded = AutoModelForCausalLM.from_pretrained(tmp_path / "m")
    assert torch.equal(loaded.lm_head.weight, second.lm_head.weight)
    assert not torch.equal(loaded.lm_head.weight, first.lm_head.weight)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m"]


def test_save_hf_refuses_a_tokenizer_larger_than_the_model(tmp_path):
    model = build_model(ModelConfig(vocab_size=64), SPECIAL)
    tok = hf_tokenizer()
    with pytest.raises(ValueError, match=f"^save_hf: tokenizer has {len(tok)} tokens, model only 64$"):
        save_hf(model, tok, tmp_path / "m")
    assert not any(tmp_path.iterdir())


def test_initial_loss_is_near_uniform():
    """A fresh model (init std 0.02) predicts close to uniform: loss ~ ln(vocab)."""
    torch.manual_seed(0)
    model = build_model(ModelConfig(vocab_size=256), SPECIAL)
    ids = torch.randint(3, 256, (4, 32))
    loss = model(input_ids=ids, labels=ids).loss.item()
    assert abs(loss - math.log(256)) < 0.1
