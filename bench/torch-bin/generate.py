"""Write a random-weight bfloat16 Llama checkpoint twice — pytorch_model.bin (torch.save) and
model.safetensors (written here by hand: 8-byte header length, JSON header, raw bytes) — with the
same tensors, for the .bin vs safetensors load benchmark. Not committed (about 1 GB each).

  /usr/bin/python3 bench/torch-bin/generate.py OUT_DIR [--layers 32] [--hidden 1024] [--intermediate 2816] [--vocab 32000]
"""
import argparse, collections, json, os, struct
import torch

p = argparse.ArgumentParser()
p.add_argument('out')
p.add_argument('--layers', type=int, default=32)
p.add_argument('--hidden', type=int, default=1024)
p.add_argument('--intermediate', type=int, default=2816)
p.add_argument('--vocab', type=int, default=32000)
a = p.parse_args()
os.makedirs(a.out, exist_ok=True)
torch.manual_seed(0)
d, m = a.hidden, a.intermediate
heads = d // 64
sd = collections.OrderedDict()
def w(name, *shape):
    sd[name] = (torch.randn(*shape) * 0.02).to(torch.bfloat16)
w('model.embed_tokens.weight', a.vocab, d)
for l in range(a.layers):
    p_ = f'model.layers.{l}.'
    for n in ('q', 'k', 'v', 'o'):
        w(p_ + f'self_attn.{n}_proj.weight', d, d)
    w(p_ + 'mlp.gate_proj.weight', m, d)
    w(p_ + 'mlp.up_proj.weight', m, d)
    w(p_ + 'mlp.down_proj.weight', d, m)
    sd[p_ + 'input_layernorm.weight'] = torch.ones(d, dtype=torch.bfloat16)
    sd[p_ + 'post_attention_layernorm.weight'] = torch.ones(d, dtype=torch.bfloat16)
sd['model.norm.weight'] = torch.ones(d, dtype=torch.bfloat16)
w('lm_head.weight', a.vocab, d)
config = {'model_type': 'llama', 'architectures': ['LlamaForCausalLM'], 'hidden_size': d, 'intermediate_size': m,
          'num_hidden_layers': a.layers, 'num_attention_heads': heads, 'num_key_value_heads': heads,
          'vocab_size': a.vocab, 'max_position_embeddings': 2048, 'rms_norm_eps': 1e-5, 'torch_dtype': 'bfloat16'}
for sub in ('bin', 'safetensors'):
    os.makedirs(os.path.join(a.out, sub), exist_ok=True)
    with open(os.path.join(a.out, sub, 'config.json'), 'w') as f:
        json.dump(config, f, indent=2)
torch.save(sd, os.path.join(a.out, 'bin', 'pytorch_model.bin'))
header, offset = {}, 0
for k, t in sd.items():
    n = t.numel() * 2
    header[k] = {'dtype': 'BF16', 'shape': list(t.shape), 'data_offsets': [offset, offset + n]}
    offset += n
h = json.dumps(header).encode()
h += b' ' * ((8 - len(h) % 8) % 8)
with open(os.path.join(a.out, 'safetensors', 'model.safetensors'), 'wb') as f:
    f.write(struct.pack('<Q', len(h)))
    f.write(h)
    for t in sd.values():
        f.write(t.view(torch.int16).numpy().tobytes())
print(sum(t.numel() for t in sd.values()), 'parameters')
