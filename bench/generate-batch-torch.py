"""The PyTorch peer of bench/generate-batch.ts: batched greedy generation with a KV cache, as
generate(do_sample=False) runs it (prefill with the last position's logits, then one token per
row per step, no EOS stop), with the eager Llama of bench/peers/torch_peers.py (weights held in
float32, as from_pretrained does without torch_dtype). Reads the prompts linscope used from
OUT.json, checks the tokens against linscope's, prints one JSON line per batch size.

    python3 bench/generate-batch-torch.py MODEL_DIR OUT.json
"""
import json
import os
import resource
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "peers"))
from torch_peers import Llama, set_torch_threads  # noqa: E402


def main():
    model_dir, dump = sys.argv[1], sys.argv[2]
    set_torch_threads()
    d = json.load(open(dump))
    model = Llama(model_dir)
    with torch.no_grad():  # warm-up (not timed)
        past = []
        model(torch.tensor(d["prompts"][:1]), past, last_only=True)
        model(torch.tensor([[5]]), past, last_only=True)
    for batch, theirs in d["tokens"].items():
        ids = torch.tensor(d["prompts"][: int(batch)])
        c0, t0 = time.process_time(), time.perf_counter()
        out = []
        with torch.no_grad():
            past = []
            logits = model(ids, past, last_only=True)
            for step in range(d["newTokens"]):
                nxt = torch.argmax(logits[:, -1], dim=-1)
                out.append(nxt.tolist())
                if step + 1 < d["newTokens"]:
                    logits = model(nxt[:, None], past, last_only=True)
        seconds = time.perf_counter() - t0
        cpu = time.process_time() - c0
        rows = [list(r) for r in zip(*out)]
        same = sum(1 for a, b in zip(rows, theirs) for x, y in zip(a, b) if x == y)
        print(json.dumps({"tool": "torch", "batch": int(batch), "seconds": seconds, "cpuSeconds": cpu,
                          "tokensPerSecond": int(batch) * d["newTokens"] / seconds,
                          "tokensEqualToLinscope": f"{same}/{int(batch) * d['newTokens']}"}), flush=True)
    print(json.dumps({"tool": "torch", "maxRssMB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


if __name__ == "__main__":
    main()
