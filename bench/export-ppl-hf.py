"""Step 2 of bench/export-ppl.ts: perplexity (non-overlapping chunks, the protocol linscope prune
reports) of the exported folder in transformers, with trust_remote_code=True, and what happens
without it. Assumes PyTorch and transformers are importable; not run by the test suite.
    python3 bench/export-ppl-hf.py [OUT]     (default /tmp/linscope-export-ppl)
"""
import json
import math
import os
import sys
import tempfile

os.environ.setdefault("HF_MODULES_CACHE", tempfile.mkdtemp(prefix="linscope-hf-modules-"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import torch  # noqa: E402
from transformers import AutoModelForCausalLM  # noqa: E402

out = sys.argv[1] if len(sys.argv) > 1 else "/tmp/linscope-export-ppl"
spec = json.load(open(os.path.join(out, "eval-ids.json")))
ids, L = spec["ids"], spec["maxLength"]
chunks = [ids[i:i + L] for i in range(0, len(ids) - L + 1, L)]
folder = os.path.join(out, "model")
model = AutoModelForCausalLM.from_pretrained(folder, trust_remote_code=True, torch_dtype=torch.float32, attn_implementation="eager").eval()
nll, n = 0.0, 0
with torch.no_grad():
    for i in range(0, len(chunks), 4):
        x = torch.tensor(chunks[i:i + 4], dtype=torch.long)
        logp = torch.log_softmax(model(x).logits.double(), dim=-1)
        nll -= logp[:, :-1].gather(-1, x[:, 1:].unsqueeze(-1)).sum().item()
        n += x[:, 1:].numel()
print(f"transformers {type(model).__name__}: perplexity (chunks of {L}) {math.exp(nll / n):.4f} ({n} tokens)")
try:
    AutoModelForCausalLM.from_pretrained(folder)
    print("without trust_remote_code: LOADED (wrong)")
except Exception as err:  # noqa: BLE001
    print("without trust_remote_code: " + type(err).__name__ + ": " + " ".join(str(err).split())[:200])

# The base class named explicitly bypasses the auto mechanism; config.json's guard key makes it raise.
from transformers import LlamaForCausalLM  # noqa: E402

try:
    LlamaForCausalLM.from_pretrained(folder)
    print("LlamaForCausalLM named explicitly: LOADED (wrong)")
except Exception as err:  # noqa: BLE001
    print(f"LlamaForCausalLM named explicitly: {type(err).__name__}: {err}")
