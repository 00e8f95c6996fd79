# coding=utf-8
"""A model exported by linscope that is more than its base architecture, for Hugging Face transformers.

    model = AutoModelForCausalLM.from_pretrained(folder, trust_remote_code=True)

builds the base architecture (BASE_MODEL_TYPE below; its class and config class are transformers'
own) with the parts linscope's export added, as config.json describes them:

- "linscope": {"linear_maps": [...]}: affine maps on the residual stream, each run right after the
  block it follows ("after_layer" j; -1 = on the embeddings, before block 0), in list order:
      input "residual":  h <- h W^T + b
      input "mlp":       h <- h - m + m W^T + b,  m = the block's MLP output (module "mlp_output")
  W and b are the tensors "linscope_maps.<n>.weight/.bias" of the checkpoint.
  A map after block j is part of that block's output (output_hidden_states shows it); a map on the
  embeddings runs as block 0 starts, so hidden_states[0] is the embeddings (as in linscope).
- "linscope_low_rank": {"tensors": {name: {...}}}: matrices stored as factors W = L R
  ("<name>.laser_left" L [m, r], "<name>.laser_right" R [r, n], W in the stored orientation) and
  multiplied as factors: x R^T L^T for a Linear ([out, in]), (x L) R for a GPT-2 Conv1D ([in, out]).

Written by linscope into the exported folder (see its README, "Exports"); linscope's own loader runs
the same maps and factors. Requires PyTorch and transformers, nothing else.
"""
import torch
from torch import nn

import transformers
from transformers.models.auto.configuration_auto import CONFIG_MAPPING
from transformers.models.auto.modeling_auto import MODEL_FOR_CAUSAL_LM_MAPPING_NAMES

BASE_MODEL_TYPE = "llama"

_BaseConfig = CONFIG_MAPPING[BASE_MODEL_TYPE]
_BaseModel = getattr(transformers, MODEL_FOR_CAUSAL_LM_MAPPING_NAMES[BASE_MODEL_TYPE])


class LinscopeConfig(_BaseConfig):
    model_type = "linscope_" + BASE_MODEL_TYPE

    def __init__(self, use_return_dict=None, **kwargs):
        # config.json sets "use_return_dict" (read-only in transformers' configs) so that the base
        # class named explicitly refuses the folder; this class takes it out.
        super().__init__(**kwargs)


class _Factors(nn.Module):
    """Holds L [m, r] and R [r, n] under the checkpoint's names "<name>.laser_left/.laser_right"."""

    def __init__(self, m, n, rank, dtype):
        super().__init__()
        self.laser_left = nn.Parameter(torch.zeros(m, rank, dtype=dtype))
        self.laser_right = nn.Parameter(torch.zeros(rank, n, dtype=dtype))

    @property
    def dtype(self):
        return self.laser_left.dtype

    @property
    def device(self):
        return self.laser_left.device


class _FactoredLinear(nn.Module):
    """A Linear ([out, in]) or Conv1D ([in, out]) whose weight is multiplied as its two factors."""

    def __init__(self, old, rank):
        super().__init__()
        m, n = old.weight.shape
        self.conv1d = type(old).__name__ == "Conv1D"
        self.weight = _Factors(m, n, rank, old.weight.dtype)
        self.bias = old.bias

    def forward(self, x):
        left, right = self.weight.laser_left, self.weight.laser_right
        y = (x @ left) @ right if self.conv1d else (x @ right.t()) @ left.t()
        return y if self.bias is None else y + self.bias


def _decoder_layers(model, count):
    for _, module in model.base_model.named_modules():
        if isinstance(module, nn.ModuleList) and len(module) == count:
            return module
    raise ValueError(f"linscope: cannot find the {count} decoder layers of {type(model).__name__}")


class LinscopeForCausalLM(_BaseModel):
    config_class = LinscopeConfig

    def __init__(self, config):
        super().__init__(config)
        spec = getattr(config, "linscope", None) or {}
        maps = spec.get("linear_maps", [])
        low_rank = (getattr(config, "linscope_low_rank", None) or {}).get("tensors", {})
        for name, factors in low_rank.items():
            path = self._module_path(name[: -len(".weight")])
            parent_path, _, attr = path.rpartition(".")
            parent = self.get_submodule(parent_path)
            setattr(parent, attr, _FactoredLinear(getattr(parent, attr), int(factors["rank"])))
        d = config.hidden_size
        self.linscope_maps = nn.ModuleList([nn.Linear(d, d, bias=m.get("bias") is not None) for m in maps])
        self._linscope_spec = maps
        self._install_maps()

    def _module_path(self, name):
        """A checkpoint name (with or without the base model prefix) as a path from this model."""
        try:
            self.get_submodule(name)
            return name
        except AttributeError:
            return f"{self.base_model_prefix}.{name}"

    def _install_maps(self):
        if not self._linscope_spec:
            return
        layers = _decoder_layers(self, self.config.num_hidden_layers)
        after = {}
        for n, m in enumerate(self._linscope_spec):
            after.setdefault(int(m["after_layer"]), []).append((n, m))
        captured = {}
        for j, entries in after.items():
            outputs = {m["mlp_output"] for _, m in entries if m["input"] == "mlp"}
            for name in outputs:  # one block has one MLP output projection

                def capture(_module, _inputs, output, j=j):
                    captured[j] = output.clone()  # Falcon adds the attention output into it in place

                self.get_submodule(self._module_path(name)).register_forward_hook(capture)

        def run(j, h):
            for n, m in after.get(j, []):
                lin = self.linscope_maps[n]
                if m["input"] == "residual":
                    h = lin(h)
                else:
                    x = captured[j].reshape(h.shape)  # OPT runs its MLP on [B*T, D]
                    h = h - x + lin(x)
            return h

        for j, layer in enumerate(layers):
            pre = j == 0 and -1 in after
            if not pre and j not in after:
                continue
            inner = layer.forward

            def forward(*args, _inner=inner, _j=j, _pre=pre, **kwargs):
                if _pre:
                    if args:
                        args = (run(-1, args[0]),) + tuple(args[1:])
                    else:
                        kwargs["hidden_states"] = run(-1, kwargs["hidden_states"])
                out = _inner(*args, **kwargs)
                if _j not in after:
                    return out
                if isinstance(out, tuple):
                    return (run(_j, out[0]),) + tuple(out[1:])
                return run(_j, out)

            layer.forward = forward
