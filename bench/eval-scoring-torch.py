"""The PyTorch peer of bench/eval-scoring.ts: plain log-likelihood scoring as lm-evaluation-harness's
HF backend does it (HFLM._loglikelihood_tokens: one forward per request over its input window
(context ++ continuation)[-(max_length+1):][:-1], requests sorted longest first, right-padded
batches, log_softmax, the continuation's log-probabilities summed), on the requests that
eval-scoring.ts dumped (`--dump DIR`), with the model of bench/peers/torch_peers.py (Llama or GPT-2 written
the way transformers' eager code computes it). Prints one row per task: torch tok/s (wall and
CPU), the same for linscope's plain and cached scorers from the dump, and max |Δll| vs linscope.

    python3 bench/eval-scoring-torch.py MODEL_DIR DUMP_DIR [rounds=1]

Threads: OPENBLAS_NUM_THREADS and torch.set_num_threads from the environment (as torch_peers.py).
"""
import json
import os
import resource
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "peers"))
from torch_peers import GPT2, Llama, set_torch_threads  # noqa: E402


def score(model, windows, conts, batch, pad=0):
    order = sorted(range(len(windows)), key=lambda i: -len(windows[i]))
    out = [0.0] * len(windows)
    with torch.no_grad():
        for s in range(0, len(order), batch):
            chunk = order[s:s + batch]
            T = len(windows[chunk[0]])
            ids = torch.full((len(chunk), T), pad, dtype=torch.long)
            for b, i in enumerate(chunk):
                ids[b, : len(windows[i])] = torch.tensor(windows[i])
            logp = F.log_softmax(model(ids), dim=-1)
            for b, i in enumerate(chunk):
                L, n = len(windows[i]), len(conts[i])
                target = torch.tensor(conts[i])  # predicted by the window's last n positions
                out[i] = logp[b, L - n:L].gather(-1, target[:, None]).sum().item()
    return out


def main():
    model_dir, dump_dir = sys.argv[1], sys.argv[2]
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    set_torch_threads()
    model_type = json.load(open(os.path.join(model_dir, "config.json")))["model_type"]
    if model_type == "gpt2":
        gpt2 = GPT2(model_dir)
        model = lambda ids: gpt2.logits(gpt2.body(ids)[0][-1])  # noqa: E731 (HF GPT2LMHeadModel: ln_f, then the tied head)
    else:
        model = Llama(model_dir)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS')}\n")
    print("| task | requests | input tokens | torch plain tok/s | linscope plain tok/s | linscope cached tok/s | cached ÷ torch (wall) | torch plain tok/CPU-s | linscope plain tok/CPU-s | linscope cached tok/CPU-s | cached ÷ torch (CPU) | max \\|Δll\\| vs linscope |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name in sorted(f for f in os.listdir(dump_dir) if f.endswith(".json")):
        d = json.load(open(os.path.join(dump_dir, name)))
        score(model, d["windows"][:2], d["continuations"][:2], d["batch"])  # warm-up
        wall = cpu = 0.0
        for _ in range(rounds):
            c0, t0 = time.process_time(), time.perf_counter()
            lls = score(model, d["windows"], d["continuations"], d["batch"])
            wall += time.perf_counter() - t0
            cpu += time.process_time() - c0
        diff = max(abs(a - b) for a, b in zip(lls, d["linscopeLogLikelihoods"]))
        n = d["inputTokens"]
        ls = d["linscope"]
        lr = d["rounds"]
        print(f"| {d['task']} | {len(d['windows'])} | {n} | {n * rounds / wall:.0f} | {n * lr / ls['plainWall']:.0f} | {n * lr / ls['cachedWall']:.0f} | "
              f"{(n * lr / ls['cachedWall']) / (n * rounds / wall):.2f} | {n * rounds / cpu:.0f} | {n * lr / ls['plainCpu']:.0f} | {n * lr / ls['cachedCpu']:.0f} | "
              f"{(n * lr / ls['cachedCpu']) / (n * rounds / cpu):.2f} | {diff:.1e} |")
    print(f"\ntorch peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")

if __name__ == "__main__":
    main()
