"""Write a torch.save file past 4 GiB (a 4.3 GB uint8 padding tensor, then small float tensors whose
bytes lie beyond 4 GiB, so the archive needs ZIP64 records), for a one-off check that linscope reads
torch's own ZIP64 layout. Not committed; delete the file afterwards.

  /usr/bin/python3 bench/torch-bin/zip64.py /tmp/z64/pytorch_model.bin
  node --import tsx bench/torch-bin/zip64-check.ts /tmp/z64/pytorch_model.bin
"""
import collections, os, sys
import torch

path = sys.argv[1]
os.makedirs(os.path.dirname(path), exist_ok=True)
sd = collections.OrderedDict()
sd['pad'] = torch.zeros(4_300_000_000, dtype=torch.uint8)
sd['w'] = torch.arange(1000, dtype=torch.float32).reshape(10, 100) / 8
sd['h'] = (torch.arange(64, dtype=torch.float32) - 32).to(torch.bfloat16).reshape(8, 8).t()
torch.save(sd, path)
print(os.path.getsize(path), 'bytes')
