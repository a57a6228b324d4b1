"""The appendix index's headlines, golden on hand-made metrics, and the progress-bar cleanup of executed notebooks."""
import nbformat
from nbformat.v4 import new_code_cell, new_notebook, new_output

from classit_utils import appendix

CONDITIONS = {"classit-tiny-base": ("tiny", "base"), "classit-tiny-conv": ("tiny", "conv"),
              "classit-tiny-qa": ("tiny", "qa")}


def test_headlines_say_what_each_stage_found():
    h = appendix.headline
    assert h("00_data", {"pretraining_words": 190664, "it_words": 47396, "budget_words": 300000, "vocab_size": 2000,
                         "it_pairs": {"conv/train": 1025, "qa/train": 1425}}, CONDITIONS) == (
        "Pretraining 190,664 + IT 47,396 words within the 300,000-word budget; 1,025 conversational and 1,425 QA "
        "training pairs; vocabulary 2,000.")
    assert h("01_pretrain", {"models": [{"size": "tiny", "parameters": 237888, "steps": 254, "val_loss": 2.02799,
                                         "val_perplexity": 7.5988}]}, CONDITIONS) == (
        "tiny (0.2M parameters): 254 steps, validation loss 2.028 (perplexity 7.6).")
    scores = {"classit-tiny-base": {"blimp": 65.0, "wug_adj": -0.033}, "classit-tiny-conv": {"blimp": 65.83},
              "classit-tiny-qa": {"blimp": 64.0, "wug_adj": 0.2}}
    assert h("03_eval_blimp", {"scores": scores, "skipped": {"comps": "absent"}}, CONDITIONS) == (
        "blimp (tiny): base 65.0, best IT condition 65.8 (conv); wug_adj (tiny): base -0.033, best IT condition "
        "0.200 (qa). Skipped (no data): comps.")
    reply = {"classit-tiny-base/conv": 4.5, "classit-tiny-conv/conv": 2.2, "classit-tiny-qa/conv": 3.0}
    assert h("02_instruction_tuning", {"models": list(CONDITIONS), "reply_loss": reply}, CONDITIONS) == (
        "3 models. Held-out reply loss (nats per token, lower is better): conv pairs (tiny): base 4.5, best IT "
        "condition 2.2 (conv).")
    claims = [{"size": "tiny", "claim": "zs_it", "hypothesis": "IT gains do not carry over to zero-shot accuracy",
               "verdict": "supported"}]
    assert h("09_statistics", {"claims": claims}, CONDITIONS) == (
        "tiny: IT gains do not carry over to zero-shot accuracy: supported.")


def test_executed_notebooks_keep_a_progress_bars_last_state_only(tmp_path):
    nb = new_notebook(cells=[new_code_cell("x", outputs=[
        new_output("stream", name="stderr", text="train:   0%|  | 0/9\rtrain:  50%|# | 4/9\r"),
        new_output("stream", name="stderr", text="train: 100%|##| 9/9\n" + " " * 30 + "\r"),
        new_output("stream", name="stdout", text="done\n")])])
    path = tmp_path / "n.ipynb"
    nbformat.write(nb, path)
    appendix.clean_streams(path)
    outs = nbformat.read(path, as_version=4).cells[0].outputs
    assert [(o.name, o.text) for o in outs] == [("stderr", "train: 100%|##| 9/9\n"), ("stdout", "done\n")]
