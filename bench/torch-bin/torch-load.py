"""torch.load of a pytorch_model.bin (the peer for bench/torch-bin/load.ts): time to a state dict in
memory, optionally converted to float32 as linscope holds it, and the same checksum.

  /usr/bin/python3 bench/torch-bin/torch-load.py FILE [--float32]
"""
import json, resource, sys, time
import torch

torch.set_num_threads(1)
t0 = time.perf_counter()
sd = torch.load(sys.argv[1], map_location='cpu')
if '--float32' in sys.argv:
    sd = {k: v.float() for k, v in sd.items()}
seconds = time.perf_counter() - t0
checksum = sum(float(v.float().reshape(-1)[::4099].double().sum()) for v in sd.values())
print(json.dumps({'tool': 'torch.load' + (' + float32' if '--float32' in sys.argv else ''), 'seconds': round(seconds, 3),
                  'tensors': len(sd), 'checksum': checksum, 'maxRssMB': round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}))
