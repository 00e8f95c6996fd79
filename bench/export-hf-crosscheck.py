"""Export cross-check, step 2 (Hugging Face side): loads every folder that bench/export-crosscheck.ts
wrote with transformers' AutoModelForCausalLM and compares its logits with the ones linscope evaluated.

- every folder loads with trust_remote_code=True (vanilla folders load as their base class, custom
  folders through their modeling_linscope.py) and its float32 eager logits are compared;
- folders with custom code must FAIL to load without trust_remote_code (the error is recorded), and
  when the base class is named explicitly (LlamaForCausalLM.from_pretrained: config.json's guard key).

Assumes PyTorch and transformers (4.42-era API) are importable by this Python; it installs nothing.
Not run by the test suite. Run after step 1:
    python3 bench/export-hf-crosscheck.py [OUT]      (default /tmp/linscope-export-crosscheck)
Prints a Markdown table.
"""
import json
import os
import sys
import tempfile

# dynamic modules (modeling_linscope.py) are copied into HF_MODULES_CACHE: keep it out of the home folder
os.environ.setdefault("HF_MODULES_CACHE", tempfile.mkdtemp(prefix="linscope-hf-modules-"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import torch  # noqa: E402
import transformers  # noqa: E402
from transformers import AutoModelForCausalLM  # noqa: E402


def read_safetensors(path):
    import struct
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        body = f.read()
    info = header["logits"]
    a, b = info["data_offsets"]
    return torch.frombuffer(bytearray(body[a:b]), dtype=torch.float32).reshape(info["shape"])


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "/tmp/linscope-export-crosscheck"
    manifest = json.load(open(os.path.join(out, "manifest.json")))
    ids = torch.tensor(manifest["input_ids"], dtype=torch.long)
    print(f"transformers {transformers.__version__}, torch {torch.__version__}, {len(manifest['exports'])} exports\n")
    print("| model | export | custom code | HF class | HF max abs diff of logits | without trust_remote_code | base class named explicitly |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    failures = 0
    for e in manifest["exports"]:
        expected = read_safetensors(e["expected"])
        try:
            model = AutoModelForCausalLM.from_pretrained(e["folder"], trust_remote_code=True, torch_dtype=torch.float32, attn_implementation="eager")
            model.eval()
            with torch.no_grad():
                logits = model(ids).logits.float()
            diff = (logits - expected).abs().max().item()
            cls = type(model).__name__
            ok = diff <= 1e-4
        except Exception as err:  # noqa: BLE001
            diff, cls, ok = float("nan"), f"load failed: {str(err).splitlines()[0][:80]}", False
        if e["custom_code"]:
            try:
                AutoModelForCausalLM.from_pretrained(e["folder"], trust_remote_code=False)
                plain = "LOADED (wrong)"
                ok = False
            except Exception as err:  # noqa: BLE001
                text = " ".join(str(err).split())
                asks = "asks for `trust_remote_code=True`" if "trust_remote_code=True" in text else text[:90]
                plain = f"refused: {type(err).__name__}, {asks}"
            config = json.load(open(os.path.join(e["folder"], "config.json")))
            base_class = getattr(transformers, config["linscope"]["base_architectures"][0])
            try:
                base_class.from_pretrained(e["folder"])
                explicit = f"{base_class.__name__}: LOADED (wrong)"
                ok = False
            except Exception as err:  # noqa: BLE001
                explicit = f"{base_class.__name__}: refused ({type(err).__name__})"
        else:
            plain = "loads (vanilla)"
            explicit = "-"
        failures += 0 if ok else 1
        print(f"| {e['model']} | {e['kind']} | {'yes' if e['custom_code'] else 'no'} | {cls} | {diff:.2e} | {plain} | {explicit} |")
    print(f"\n{len(manifest['exports']) - failures} of {len(manifest['exports'])} exports as expected")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
