"""Writes a transformers reference file for a linscope export: logits and hidden states of
AutoModelForCausalLM.from_pretrained(folder, trust_remote_code=True) (float32, eager) on fixed ids,
in the layout `linscope check-reference` reads (input_ids, logits, hidden_states.{i}).

Assumes PyTorch and transformers are importable; installs nothing; not run by the test suite. Used
once to write test/fixtures/export/*.reference.safetensors:
    node --import tsx bench/export-reference-folders.ts /tmp/linscope-seeded
    python3 bench/export-hf-reference.py /tmp/linscope-seeded/llama-maps test/fixtures/export/llama-maps.reference.safetensors
"""
import json
import os
import struct
import sys
import tempfile

os.environ.setdefault("HF_MODULES_CACHE", tempfile.mkdtemp(prefix="linscope-hf-modules-"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import torch  # noqa: E402
from transformers import AutoModelForCausalLM  # noqa: E402

IDS = [[1, 5, 9, 22, 7, 300, 11, 2, 64, 128], [3, 3, 8, 100, 41, 6, 9, 17, 250, 4]]


def save(path, tensors):
    header, blobs, off = {}, [], 0
    for name, t in tensors.items():
        t = t.contiguous()
        dtype = {torch.float32: "F32", torch.int64: "I64"}[t.dtype]
        raw = t.numpy().tobytes()
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    header["__metadata__"] = {"format": "pt", "source": "transformers + modeling_linscope.py"}
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def main(folder, out):
    model = AutoModelForCausalLM.from_pretrained(folder, trust_remote_code=True, torch_dtype=torch.float32, attn_implementation="eager").eval()
    ids = torch.tensor(IDS, dtype=torch.long)
    with torch.no_grad():
        res = model(ids, output_hidden_states=True)
    tensors = {"input_ids": ids, "logits": res.logits.float()}
    for i, h in enumerate(res.hidden_states):
        tensors[f"hidden_states.{i}"] = h.float()
    save(out, tensors)
    print(f"{type(model).__name__}: wrote {out} ({', '.join(tensors)})")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
