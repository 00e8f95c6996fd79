"""Reward-export cross-check, step 2 (Hugging Face side): loads a `linscope finetune --task reward-hh`
export with transformers' AutoModelForSequenceClassification and compares its rewards with the ones
linscope computed (DIR/reward-expected.json, written by bench/reward-hf-crosscheck.ts):

- the class transformers builds, missing / unexpected weights (score.weight must load, not be re-initialised);
- each sequence alone (batch 1, no padding);
- all sequences in one RIGHT-padded batch with config.pad_token_id + attention_mask (transformers
  pools the token before the first pad_token_id: a pad id that also occurs in the text, e.g. a BOS,
  makes it pool the wrong token);
- all sequences in one LEFT-padded batch + attention_mask + position_ids counted from the first real token;
- when the folder's tokenizer loads: its ids for the texts vs linscope's (with its pad token).

Assumes PyTorch and transformers (4.42-era API) importable by this Python; installs nothing; not run
by the test suite. Run:  python3 bench/reward-hf-crosscheck.py EXPORT_DIR [EXPORT_DIR …]
"""
import json
import os
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import torch  # noqa: E402
import transformers  # noqa: E402
from transformers import AutoModelForSequenceClassification  # noqa: E402
from transformers.utils import logging  # noqa: E402


def padded(seqs, pad, side):
    T = max(len(s) for s in seqs)
    ids = torch.full((len(seqs), T), pad, dtype=torch.long)
    mask = torch.zeros((len(seqs), T), dtype=torch.long)
    for i, s in enumerate(seqs):
        if side == "right":
            ids[i, : len(s)] = torch.tensor(s)
            mask[i, : len(s)] = 1
        else:
            ids[i, T - len(s):] = torch.tensor(s)
            mask[i, T - len(s):] = 1
    return ids, mask


def check(folder):
    exp = json.load(open(os.path.join(folder, "reward-expected.json")))
    seqs, want = exp["input_ids"], torch.tensor(exp["rewards"])
    logging.set_verbosity_error()
    model, info = AutoModelForSequenceClassification.from_pretrained(
        folder, torch_dtype=torch.float32, attn_implementation="eager", output_loading_info=True)
    model.eval()
    pad = model.config.pad_token_id
    row = {"folder": folder, "class": type(model).__name__, "num_labels": model.config.num_labels, "pad_token_id": pad,
           "vocab_size": model.config.vocab_size, "missing": info["missing_keys"], "unexpected": info["unexpected_keys"],
           "sequences": len(seqs), "pad inside sequences": sum(pad in s for s in seqs)}
    with torch.no_grad():
        alone = torch.tensor([model(torch.tensor([s])).logits[0, 0].item() for s in seqs])
        ids, mask = padded(seqs, pad, "right")
        right = model(input_ids=ids, attention_mask=mask).logits[:, 0]
        ids, mask = padded(seqs, pad, "left")
        # position ids counted from each row's first real token, as generate() builds them (absolute-position models need them)
        left = model(input_ids=ids, attention_mask=mask, position_ids=(mask.cumsum(-1) - 1).clamp(min=0)).logits[:, 0]
    row["max |Δ| alone"] = (alone - want).abs().max().item()
    row["max |Δ| right-padded batch"] = (right - want).abs().max().item()
    row["max |Δ| left-padded batch"] = (left - want).abs().max().item()
    row["pairwise acc (linscope / HF right-padded)"] = (
        f"{(want[0::2] > want[1::2]).float().mean().item():.3f} / {(right[0::2] > right[1::2]).float().mean().item():.3f}")
    try:
        tok = transformers.AutoTokenizer.from_pretrained(folder)
        hf_ids = [tok(t)["input_ids"] for t in exp["texts"]]
        cut = exp["max_len"]
        same = sum((h if len(h) <= cut else ([h[0]] + h[len(h) - cut + 1:] if h[0] == tok.bos_token_id else h[-cut:])) == s
                   for h, s in zip(hf_ids, seqs))
        row["tokenizer: same ids"] = f"{same} of {len(seqs)}; pad_token {tok.pad_token!r} = {tok.pad_token_id}"
    except Exception as err:  # noqa: BLE001
        row["tokenizer: same ids"] = f"not checked ({type(err).__name__}: {str(err).splitlines()[0][:80]})"
    return row


def main():
    print(f"transformers {transformers.__version__}, torch {torch.__version__}\n")
    bad = 0
    for folder in sys.argv[1:]:
        row = check(folder)
        for k, v in row.items():
            print(f"{k}: {v:.2e}" if isinstance(v, float) else f"{k}: {v}")
        ok = (row["class"].endswith("ForSequenceClassification") and not row["missing"]
              and max(row["max |Δ| alone"], row["max |Δ| right-padded batch"], row["max |Δ| left-padded batch"]) <= 1e-4)
        print(f"=> {'SAME MODEL' if ok else 'DIFFERS'}\n")
        bad += not ok
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
