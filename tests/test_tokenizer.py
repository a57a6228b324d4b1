from transformers import AutoTokenizer

from classit_utils import tokenizer as T


def test_special_tokens_and_bos(tiny_tok):
    assert tiny_tok.convert_ids_to_tokens([0, 1, 2, 3, 4]) == ["<pad>", "<s>", "</s>", "<|user|>", "<|assistant|>"]
    assert tiny_tok.pad_token_id == 0 and tiny_tok.bos_token_id == 1 and tiny_tok.eos_token_id == 2
    ids = tiny_tok("The cat sat.")["input_ids"]
    assert ids[0] == 1 and 1 not in ids[1:]            # BOS added once, so the first word is scored
    assert tiny_tok.decode(ids, skip_special_tokens=True) == "The cat sat."


def test_round_trip_unseen_bytes(tiny_tok):
    text = "Zebra café naïve 123 — ok?"
    ids = tiny_tok(text, add_special_tokens=False)["input_ids"]
    assert tiny_tok.decode(ids) == text                 # byte-level: nothing is unknown


def test_padding_is_right_with_pad_id_and_mask(tiny_tok):
    enc = tiny_tok(["The cat.", "The small bird flies."], padding=True)
    short, long_ = enc["input_ids"]
    n = sum(enc["attention_mask"][0])
    assert len(short) == len(long_) and short[n:] == [0] * (len(short) - n)
    assert enc["attention_mask"][0][n:] == [0] * (len(short) - n)


def test_continuation_splits_exactly_at_the_word_boundary(tiny_tok):
    # the reading task: `item` has no trailing space, `word` no leading one
    ctx, word = "The cat sat on the", "mat"
    assert T.continuation(ctx, word) == " mat" and T.continuation("", "The") == "The"
    full = tiny_tok(ctx + T.continuation(ctx, word))["input_ids"]
    c = tiny_tok(ctx)["input_ids"]
    w = tiny_tok(T.continuation(ctx, word), add_special_tokens=False)["input_ids"]
    assert full == c + w


def test_pairs_get_an_eos_separator(tiny_tok):
    ids = tiny_tok("The cat.", "A dog.")["input_ids"]
    a = tiny_tok("The cat.", add_special_tokens=False)["input_ids"]
    b = tiny_tok("A dog.", add_special_tokens=False)["input_ids"]
    assert ids == [1, *a, 2, *b]


def test_save_and_reload_through_autotokenizer(tiny_tok, tmp_path):
    T.save_tokenizer(tiny_tok, tmp_path / "tok")
    again = AutoTokenizer.from_pretrained(str(tmp_path / "tok"))
    for text in ("The cat sat.", "Where is the red ball?"):
        assert again(text)["input_ids"] == tiny_tok(text)["input_ids"]
    assert again.pad_token == "<pad>" and again.bos_token == "<s>" and again.eos_token == "</s>"
    msgs = [{"role": "user", "content": "Where is the ball?"}, {"role": "assistant", "content": "Under the bed."}]
    from classit_utils.instruct import chat_text
    assert again.apply_chat_template(msgs, tokenize=False) == chat_text("Where is the ball?", "Under the bed.") + "</s>"


def test_fertility_counts_tokens_per_word(tiny_tok):
    texts = ["The cat sat on the mat."]
    n_tok = len(tiny_tok(texts[0], add_special_tokens=False)["input_ids"])
    assert T.fertility(tiny_tok, texts) == n_tok / 6
