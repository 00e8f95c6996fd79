"""The PyTorch peer of bench/peers/linscope-job.ts: the same jobs on the same safetensors and token
ids, written the way Hugging Face transformers' eager code computes them (GPT-2: Conv1D as addmm,
eager attention with the causal mask applied by torch.where with finfo.min, gelu_new, LayerNorm;
Llama: RMSNorm in float32, rotate_half RoPE, repeat_kv, additive finfo.min causal mask, SwiGLU
MLP, CrossEntropyLoss; torch.optim.AdamW with decay on matrices only, clip_grad_norm_).

    python3 bench/peers/torch_peers.py <forward|linearity|train|laser|perplexity|generate> [dir] [reps] [--check]

Times `reps` runs after one warm-up and prints one JSON line {tool, job, threads, seconds, maxRssMB, blasCore,
blasThreading, intraOpThreads} (blasCore: the OpenBLAS kernel set this process loaded, which bench/peers/run.ts
checks equals linscope's; blasThreading: "openmp" for Debian's OpenMP build of OpenBLAS, else "pthread").
With --check, the warm-up's outputs are compared with linscope's (<dir>/out/<job>-linscope.*,
written by linscope-job.ts) and the largest absolute difference is printed to stderr and added to
the JSON line as "maxAbsDiff". PyTorch is only needed for this benchmark, never by linscope.
Thread count: OPENBLAS_NUM_THREADS (Debian's torch uses OpenBLAS; set_num_threads does not limit
it) and torch.set_num_threads for torch's own kernels, both from the environment (TORCH_THREADS, when
set, gives torch's own kernels another count than OpenBLAS's).
"""
import json
import math
import os
import resource
import struct
import sys
import time

import ctypes
import numpy as np
import torch
import torch.nn.functional as F

DTYPES = {"F32": torch.float32, "F64": torch.float64, "BF16": torch.bfloat16, "F16": torch.float16}


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        a, b = e["data_offsets"]
        t = torch.frombuffer(bytearray(data[a:b]), dtype=DTYPES[e["dtype"]]).reshape(e["shape"])
        out[name[len("transformer."):] if name.startswith("transformer.") else name] = t
    return out


# ---------------------------------------------------------------- GPT-2 (HF modeling_gpt2, eager)

def gelu_new(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


def conv1d(x, w, b):
    size_out = x.size()[:-1] + (w.size(-1),)
    return torch.addmm(b, x.view(-1, x.size(-1)), w).view(size_out)


class GPT2:
    def __init__(self, folder):
        self.cfg = json.load(open(os.path.join(folder, "config.json")))
        self.w = read_safetensors(os.path.join(folder, "model.safetensors"))
        self.heads = self.cfg["n_head"]
        self.eps = self.cfg["layer_norm_epsilon"]
        n = self.cfg["n_positions"]
        self.bias = torch.tril(torch.ones((n, n), dtype=torch.bool)).view(1, 1, n, n)

    def ln(self, x, name):
        return F.layer_norm(x, (x.size(-1),), self.w[name + ".weight"], self.w[name + ".bias"], self.eps)

    def attn(self, x, i, past=None, cache=None):
        """HF GPT2Attention (eager); with `past` (its layer's keys and values) the new ones are appended,
        as past_key_values are; with a `cache` list the layer's keys and values are stored in it."""
        p = f"h.{i}.attn."
        d = x.size(-1)
        q, k, v = conv1d(x, self.w[p + "c_attn.weight"], self.w[p + "c_attn.bias"]).split(d, dim=2)
        split = lambda t: t.view(t.size()[:-1] + (self.heads, d // self.heads)).permute(0, 2, 1, 3)
        q, k, v = split(q), split(k), split(v)
        if past is not None:
            k = torch.cat((past[0], k), dim=-2)
            v = torch.cat((past[1], v), dim=-2)
        if cache is not None:
            cache.append((k, v))
        a = torch.matmul(q, k.transpose(-1, -2))
        a = a / torch.full([], v.size(-1) ** 0.5, dtype=a.dtype)
        ql, kl = q.size(-2), k.size(-2)
        causal = self.bias[:, :, kl - ql : kl, :kl]
        a = torch.where(causal, a.to(a.dtype), torch.full([], torch.finfo(a.dtype).min, dtype=a.dtype))
        a = F.softmax(a, dim=-1).type(v.dtype)
        o = torch.matmul(a, v).permute(0, 2, 1, 3).contiguous()
        o = o.view(o.size()[:-2] + (d,))
        return conv1d(o, self.w[p + "c_proj.weight"], self.w[p + "c_proj.bias"])

    def mlp(self, x, i):
        p = f"h.{i}.mlp."
        h = gelu_new(conv1d(x, self.w[p + "c_fc.weight"], self.w[p + "c_fc.bias"]))
        return conv1d(h, self.w[p + "c_proj.weight"], self.w[p + "c_proj.bias"])

    def body(self, ids):
        """HF's hidden_states tuple (embeddings, blocks 0…L−2, post-ln_f) and the last block's output."""
        pos = torch.arange(ids.size(-1)).unsqueeze(0)
        h = self.w["wte.weight"][ids] + self.w["wpe.weight"][pos]
        states = []
        for i in range(self.cfg["n_layer"]):
            states.append(h)
            h = h + self.attn(self.ln(h, f"h.{i}.ln_1"), i)
            h = h + self.mlp(self.ln(h, f"h.{i}.ln_2"), i)
        last = h
        states.append(self.ln(h, "ln_f"))
        return states, last

    def logits(self, h):
        return F.linear(h, self.w["wte.weight"])

    def step(self, ids, past):
        """One cached forward of `ids` after the `past` keys/values (None: none): the last position's
        logits and the new cache, as GPT2LMHeadModel under generate (only the last logits kept)."""
        start = 0 if past is None else past[0][0].size(-2)
        pos = torch.arange(start, start + ids.size(-1)).unsqueeze(0)
        h = self.w["wte.weight"][ids] + self.w["wpe.weight"][pos]
        cache = []
        for i in range(self.cfg["n_layer"]):
            h = h + self.attn(self.ln(h, f"h.{i}.ln_1"), i, None if past is None else past[i], cache)
            h = h + self.mlp(self.ln(h, f"h.{i}.ln_2"), i)
        return self.logits(self.ln(h[:, -1:], "ln_f"))[:, -1], cache


# ---------------------------------------------------------------- Llama (HF modeling_llama, eager)

class Llama(torch.nn.Module):
    def __init__(self, folder):
        super().__init__()
        self.cfg = json.load(open(os.path.join(folder, "config.json")))
        w = read_safetensors(os.path.join(folder, "model.safetensors"))
        # held in float32, as from_pretrained does without torch_dtype (a BF16 checkpoint is upcast)
        self.params = torch.nn.ParameterDict({k.replace(".", "__"): torch.nn.Parameter(v.float()) for k, v in w.items()})
        c = self.cfg
        self.heads, self.kv = c["num_attention_heads"], c["num_key_value_heads"]
        self.head_dim = c.get("head_dim", c["hidden_size"] // self.heads)
        self.inv_freq = 1.0 / (c["rope_theta"] ** (torch.arange(0, self.head_dim, 2, dtype=torch.int64).float() / self.head_dim))

    def p(self, name):
        return self.params[name.replace(".", "__")]

    def rms(self, x, name):
        dtype = x.dtype
        x = x.to(torch.float32)
        var = x.pow(2).mean(-1, keepdim=True)
        x = x * torch.rsqrt(var + self.cfg["rms_norm_eps"])
        return self.p(name + ".weight") * x.to(dtype)

    @staticmethod
    def rotate_half(x):
        x1, x2 = x[..., : x.shape[-1] // 2], x[..., x.shape[-1] // 2 :]
        return torch.cat((-x2, x1), dim=-1)

    def forward(self, ids, past=None, last_only=False):
        """Logits of every position (the last one only with `last_only`, as generate() asks for);
        with `past` (a list, [] at the start) the keys and values of earlier positions are read
        from it and this call's are appended (HF's DynamicCache)."""
        B, T = ids.shape
        start = past[0][0].shape[2] if past else 0
        h = self.p("model.embed_tokens.weight")[ids]
        pos = torch.arange(start, start + T).unsqueeze(0)
        freqs = (self.inv_freq[None, :, None].float() @ pos[:, None, :].float()).transpose(1, 2)
        emb = torch.cat((freqs, freqs), dim=-1)
        cos, sin = emb.cos().unsqueeze(1), emb.sin().unsqueeze(1)
        mask = torch.triu(torch.full((T, start + T), torch.finfo(h.dtype).min), diagonal=start + 1)[None, None]
        hd, nh, nkv = self.head_dim, self.heads, self.kv
        for i in range(self.cfg["num_hidden_layers"]):
            p = f"model.layers.{i}."
            x = self.rms(h, p + "input_layernorm")
            q = F.linear(x, self.p(p + "self_attn.q_proj.weight")).view(B, T, nh, hd).transpose(1, 2)
            k = F.linear(x, self.p(p + "self_attn.k_proj.weight")).view(B, T, nkv, hd).transpose(1, 2)
            v = F.linear(x, self.p(p + "self_attn.v_proj.weight")).view(B, T, nkv, hd).transpose(1, 2)
            q = q * cos + self.rotate_half(q) * sin
            k = k * cos + self.rotate_half(k) * sin
            if past is not None:
                if i < len(past):
                    k = torch.cat((past[i][0], k), dim=2)
                    v = torch.cat((past[i][1], v), dim=2)
                    past[i] = (k, v)
                else:
                    past.append((k, v))
            S = k.shape[2]
            rep = nh // nkv
            k = k[:, :, None].expand(B, nkv, rep, S, hd).reshape(B, nh, S, hd)
            v = v[:, :, None].expand(B, nkv, rep, S, hd).reshape(B, nh, S, hd)
            a = torch.matmul(q, k.transpose(2, 3)) / math.sqrt(hd) + mask
            a = F.softmax(a, dim=-1, dtype=torch.float32).to(q.dtype)
            o = torch.matmul(a, v).transpose(1, 2).contiguous().reshape(B, T, -1)
            h = h + F.linear(o, self.p(p + "self_attn.o_proj.weight"))
            x = self.rms(h, p + "post_attention_layernorm")
            m = F.silu(F.linear(x, self.p(p + "mlp.gate_proj.weight"))) * F.linear(x, self.p(p + "mlp.up_proj.weight"))
            h = h + F.linear(m, self.p(p + "mlp.down_proj.weight"))
        h = self.rms(h[:, -1:] if last_only else h, "model.norm")
        head = "lm_head.weight" if "lm_head__weight" in self.params else "model.embed_tokens.weight"
        return F.linear(h, self.p(head)).float()


# ---------------------------------------------------------------- linearity (float64 normal equations)

def pair_scores(x, y, ridge=1e-8):
    """Exact (pseudo-inverse, eigenvalue cutoff max(N, d)·ε·λ_max) and ridge scores, both targets."""
    n, d = x.shape
    x = x.double()
    y = y.double()
    xc = x - x.mean(0)
    dc = (y - x) - (y - x).mean(0)
    yc = y - y.mean(0)
    cxx = xc.T @ xc
    cxd = xc.T @ dc
    xx = torch.trace(cxx)
    w, v = torch.linalg.eigh(cxx / xx)
    cut = max(n, d) * 2.220446049250313e-16 * w[-1]
    keep = w > cut
    lam = ridge * torch.trace(cxx / xx) / d
    out = []
    for cxt, tt in ((cxx + cxd, (yc * yc).sum()), (cxd, (dc * dc).sum())):
        e = ((v.T @ cxt) ** 2).sum(1)
        exact = (e[keep] / w[keep]).sum() / (xx * tt)
        s = w + lam
        robust = (e * (2 / s - w / (s * s))).sum() / (xx * tt)
        out += [exact.item(), robust.item()]
    return out


# ---------------------------------------------------------------- jobs

# Warm-up runs beyond the first, per job, as in linscope-job.ts: PyTorch's second and third
# training steps still grow its heap (AdamW's state appears in the first), 0.97-1.23 s against
# 0.68-0.84 s for the fourth at 1 thread; a training run is measured in its steady state.
EXTRA_WARMUPS = {"train": 2}


def set_torch_threads():
    """torch's own thread count from the environment: TORCH_THREADS, else OPENBLAS_NUM_THREADS (see
    the module doc); returns the OpenBLAS thread count."""
    threads = int(os.environ.get("OPENBLAS_NUM_THREADS", "0")) or torch.get_num_threads()
    torch.set_num_threads(int(os.environ.get("TORCH_THREADS", "0")) or threads)
    return threads


def blas_paths():
    """The BLAS libraries this process mapped (through torch)."""
    with open("/proc/self/maps") as maps:
        return {os.path.realpath(line.split()[-1]) for line in maps if "blas" in line.rsplit("/", 1)[-1] and ".so" in line}


def openblas_threading():
    """"openmp" when the OpenBLAS loaded is Debian's OpenMP build (libopenblas0-openmp), else "pthread"."""
    return "openmp" if any("openblas-openmp" in p for p in blas_paths()) else "pthread"


def openblas_core():
    """The core type of the OpenBLAS this process loaded (through torch), or "unknown"."""
    for path in sorted(blas_paths()):
        try:
            get = ctypes.CDLL(path).openblas_get_corename
        except (OSError, AttributeError):
            continue
        get.restype = ctypes.c_char_p
        return get().decode().strip()
    return "unknown"


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    check = "--check" in sys.argv
    job = args[0]
    folder = args[1] if len(args) > 1 else "/tmp/linscope-peers"
    reps = int(args[2]) if len(args) > 2 else 1
    threads = set_torch_threads()
    inputs = json.load(open(os.path.join(folder, "inputs.json")))
    theirs = os.path.join(folder, "out", f"{job}-linscope")
    diff = None

    if job in ("forward", "linearity", "laser", "perplexity", "generate"):
        model = GPT2(os.path.join(folder, "gpt2"))

    if job == "forward":
        ids = torch.tensor([inputs["forward"]])

        def run(first):
            with torch.no_grad():
                states, _ = model.body(ids)
                logits = model.logits(states[-1])
            if first and check:
                ours = torch.cat([s.reshape(-1) for s in states] + [logits.reshape(-1)])
                ref = torch.from_numpy(np.fromfile(theirs + ".f32", dtype=np.float32))
                return (ours - ref).abs().max().item()

    elif job == "linearity":
        ids = torch.tensor(inputs["linearity"])

        def run(first):
            with torch.no_grad():
                states, last = model.body(ids)
                states = states[:-1] + [last]  # the last pair ends before the final norm, as linscope's default
                d = states[0].size(-1)
                scores = [pair_scores(states[i].reshape(-1, d), states[i + 1].reshape(-1, d)) for i in range(len(states) - 1)]
            if first and check:
                ref = json.load(open(theirs + ".json"))["scores"]
                return max(abs(a - b) for r, q in zip(scores, ref) for a, b in zip(r, q))

    elif job == "laser":
        iv = inputs["intervention"]
        assert iv["type"] == "out", "this peer implements the 'out' (mlp.c_proj) intervention"
        name = f"h.{iv['layer']}.mlp.c_proj.weight"
        original = model.w[name].clone()
        prompts = torch.tensor([c["prompt"] for c in inputs["laser"]])
        answers = torch.tensor([c["answer"] for c in inputs["laser"]])

        def run(first):
            with torch.no_grad():
                wt = original.double()
                r = max(1, min(min(wt.shape), math.floor(iv["rho"] * min(wt.shape) + 1e-7)))
                u, s, vh = torch.linalg.svd(wt, full_matrices=False)
                model.w[name] = ((u[:, :r] * s[:r]) @ vh[:r]).float()
                losses, ranks = [], []
                for b in range(0, len(prompts), 16):
                    states, _ = model.body(prompts[b : b + 16])
                    logits = model.logits(states[-1])[:, -1]
                    logp = F.log_softmax(logits.double(), dim=-1)
                    a = answers[b : b + 16]
                    losses += (-logp[torch.arange(len(a)), a]).tolist()
                    ranks += (logits > logits[torch.arange(len(a)), a][:, None]).sum(1).tolist()
                model.w[name] = original
            if first and check:
                ref = json.load(open(theirs + ".json"))
                bad = sum(1 for x, y in zip(ranks, ref["rank"]) if x != y)
                print(f"laser: {bad} of {len(ranks)} first-token ranks differ", file=sys.stderr)
                return max(abs(a - b) for a, b in zip(losses, ref["logLoss"]))

    elif job == "perplexity":
        # Hugging Face's "perplexity of fixed-length models" recipe: one window per call, labels
        # -100 before the window's new tokens, GPT2LMHeadModel's shifted mean cross-entropy
        p = inputs["perplexity"]
        ids, max_length, stride = p["ids"], p["maxLength"], p["stride"]

        def run(first):
            nll, count, prev_end = 0.0, 0, 0
            with torch.no_grad():
                for begin in range(0, len(ids), stride):
                    end = min(begin + max_length, len(ids))
                    trg_len = end - prev_end
                    x = torch.tensor([ids[begin:end]])
                    labels = x.clone()
                    labels[:, :-trg_len] = -100
                    states, _ = model.body(x)
                    logits = model.logits(states[-1])
                    target = labels[0, 1:]
                    loss = F.cross_entropy(logits[0, :-1], target, ignore_index=-100)
                    n = int((target != -100).sum())
                    nll += loss.item() * n
                    count += n
                    prev_end = end
                    if end == len(ids):
                        break
            if first and check:
                ref = json.load(open(theirs + ".json"))
                print(f"perplexity: mean NLL {nll / count:.9f} over {count} tokens vs {ref['meanNll']:.9f} over {ref['scoredTokens']}", file=sys.stderr)
                return abs(nll / count - ref["meanNll"])

    elif job == "generate":
        # greedy decoding with a KV cache, batch 1, as generate(do_sample=False) without an EOS stop
        g = inputs["generate"]
        prompt = torch.tensor([g["prompt"]])

        def run(first):
            out = []
            with torch.no_grad():
                logits, past = model.step(prompt, None)
                for _ in range(g["newTokens"]):
                    nxt = int(torch.argmax(logits[0]))
                    out.append(nxt)
                    if len(out) == g["newTokens"]:
                        break
                    logits, past = model.step(torch.tensor([[nxt]]), past)
            if first and check:
                ref = json.load(open(theirs + ".json"))["tokens"]
                same = next((i for i, (a, b) in enumerate(zip(out, ref)) if a != b), len(out))
                print(f"generate: the first {same} of {len(out)} tokens equal linscope's", file=sys.stderr)
                return float(len(out) - same)

    elif job == "train":
        model = Llama(os.path.join(folder, "p5m"))
        t = inputs["train"]
        ids = torch.tensor(t["ids"]).view(t["batch"], t["seqLen"] + 1)
        x, y = ids[:, :-1], ids[:, 1:]
        c = inputs["trainConfig"]
        decay = [p for p in model.parameters() if p.dim() >= 2]
        no_decay = [p for p in model.parameters() if p.dim() < 2]
        opt = torch.optim.AdamW([{"params": decay, "weight_decay": c["weightDecay"]}, {"params": no_decay, "weight_decay": 0.0}],
                                lr=c["lr"], betas=tuple(c["betas"]), eps=c["eps"])

        def run(first):
            opt.zero_grad(set_to_none=True)
            logits = model(x)
            loss = F.cross_entropy(logits.view(-1, logits.size(-1)), y.reshape(-1))
            loss.backward()
            norm = torch.nn.utils.clip_grad_norm_(model.parameters(), c["gradClip"])
            opt.step()
            if first and check:
                ref = json.load(open(theirs + ".json"))
                print(f"train: loss {loss.item():.9f} vs {ref['loss']:.9f}, grad norm {norm.item():.9f} vs {ref['gradNorm']:.9f}", file=sys.stderr)
                return max(abs(loss.item() - ref["loss"]), abs(norm.item() - ref["gradNorm"]))
    else:
        raise SystemExit(f"unknown job {job} (forward, linearity, train, laser, perplexity, generate)")

    diff = run(True)
    if diff is not None:
        print(f"{job}: max |torch − linscope| = {diff:.3g}", file=sys.stderr)
    for _ in range(EXTRA_WARMUPS.get(job, 0)):
        run(False)
    seconds = []
    for _ in range(reps):
        t0 = time.perf_counter()
        run(False)
        seconds.append(time.perf_counter() - t0)
    line = {"tool": "torch", "job": job, "threads": threads, "seconds": seconds,
            "maxRssMB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "blasCore": openblas_core(),
            "blasThreading": openblas_threading(), "intraOpThreads": torch.get_num_threads()}
    if diff is not None:
        line["maxAbsDiff"] = diff
    print(json.dumps(line))


if __name__ == "__main__":
    main()
