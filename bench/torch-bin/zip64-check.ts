/** Read the tensors bench/torch-bin/zip64.py put past 4 GiB and check their values (see that file). */
import { TorchBinFile } from '../../src/io/torch-bin.ts';
import { ZipIndex } from '../../src/io/zip-read.ts';

const path = process.argv[2];
const zip = new ZipIndex(path);
const f = new TorchBinFile(path);
const w = f.readTensor('w');
const h = f.readTensor('h');
const wOk = w.data.every((v, i) => v === i / 8);
// h = (arange(64) − 32) as an 8×8 matrix, transposed: h[r][c] = 8c + r − 32
const hOk = h.data.every((v, k) => v === 8 * (k % 8) + Math.floor(k / 8) - 32);
const offsets = zip.names().filter((n) => /data\/\d+$/.test(n)).map((n) => `${n.split('/').pop()}@${zip.dataOffset(n)}`);
console.log(JSON.stringify({ fileBytes: zip.size, storages: offsets, wOk, hOk, refusesPad: (() => { try { f.readTensor('pad'); return false; } catch (e) { return (e as Error).message; } })() }));
