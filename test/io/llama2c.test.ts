import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tensor } from '../../src/tensor/tensor.ts';
import { Rng } from '../../src/tensor/random.ts';
import { Llama2cCheckpoint, openLlama2c } from '../../src/io/llama2c.ts';
import { readFloat32At } from '../../src/io/read-at.ts';
import { halfToInterleavedRows, interleavedToHalfRows } from '../../src/io/rope-permute.ts';
import { skipUnless, stories260KDir } from '../helpers/paths.ts';

const bin = join(stories260KDir, 'stories260K.bin');
const skip = skipUnless(bin);

test('stories260K: header, HF config, tensor names and shapes, tied classifier', { skip }, () => {
  const ck = openLlama2c(bin);
  assert.deepEqual(ck.header, {
    version: 0, dim: 64, hiddenDim: 172, nLayers: 5, nHeads: 8, nKvHeads: 4, vocabSize: 512, seqLen: 512, sharedClassifier: true,
  });
  const c = ck.config;
  assert.equal(c.model_type, 'llama');
  assert.equal(c.hidden_size, 64);
  assert.equal(c.intermediate_size, 172);
  assert.equal(c.num_hidden_layers, 5);
  assert.equal(c.num_attention_heads, 8);
  assert.equal(c.num_key_value_heads, 4);
  assert.equal(c.vocab_size, 512);
  assert.equal(c.max_position_embeddings, 512);
  assert.equal(c.rms_norm_eps, 1e-5);
  assert.equal(c.rope_theta, 10000);
  assert.equal(c.tie_word_embeddings, true);
  assert.equal(ck.has('lm_head.weight'), false, 'tied: no separate lm_head, as in HF checkpoints');
  assert.equal(ck.names().length, 2 + 5 * 9);
  const shapes: Record<string, number[]> = {
    'model.embed_tokens.weight': [512, 64],
    'model.norm.weight': [64],
    'model.layers.4.input_layernorm.weight': [64],
    'model.layers.4.post_attention_layernorm.weight': [64],
    'model.layers.4.self_attn.q_proj.weight': [64, 64],
    'model.layers.4.self_attn.k_proj.weight': [32, 64],
    'model.layers.4.self_attn.v_proj.weight': [32, 64],
    'model.layers.4.self_attn.o_proj.weight': [64, 64],
    'model.layers.4.mlp.gate_proj.weight': [172, 64],
    'model.layers.4.mlp.up_proj.weight': [172, 64],
    'model.layers.4.mlp.down_proj.weight': [64, 172],
  };
  for (const [name, shape] of Object.entries(shapes)) {
    assert.deepEqual(ck.shape(name), shape, name);
    assert.deepEqual([...ck.readTensor(name).shape], shape, name);
  }
  assert.equal(ck.readTensor('model.norm.weight', 'float64').dtype, 'float64');
  assert.throws(() => ck.readTensor('lm_head.weight'), /stories260K\.bin: no tensor named "lm_head\.weight"/);
});

test('stories260K: offsets follow the documented layout (freq_cis where expected, values unpermuted)', { skip }, () => {
  const ck = openLlama2c(bin);
  const floats = (n: number) => 4 * n;
  const embed = 512 * 64;
  const rmsAtt = 5 * 64;
  const wq = 5 * 64 * 64;
  const wk = 5 * 32 * 64;
  const wo = wq;
  const ffn = 5 * 172 * 64;
  // rms_att of layer 2 right after the embedding
  assert.deepEqual(ck.readTensor('model.layers.2.input_layernorm.weight').data,
    readFloat32At(bin, 28 + floats(embed + 2 * 64), 64, 'test'));
  // w2 (down) of layer 1
  const w2Start = 28 + floats(embed + rmsAtt + wq + 2 * wk + wo + rmsAtt + ffn + 1 * 64 * 172);
  assert.deepEqual(ck.readTensor('model.layers.1.mlp.down_proj.weight').data, readFloat32At(bin, w2Start, 64 * 172, 'test'));
  // freq_cis_real[pos, i] = cos(pos * 10000^(-2i/hs)) sits right after rms_final
  const freqStart = 28 + floats(embed + rmsAtt + wq + 2 * wk + wo + rmsAtt + 3 * ffn + 64);
  const real = readFloat32At(bin, freqStart, 512 * 4, 'test');
  for (const [pos, i] of [[0, 0], [1, 0], [7, 3], [511, 1]]) {
    assert.ok(Math.abs(real[pos * 4 + i] - Math.cos(pos * 10000 ** (-(2 * i) / 8))) < 1e-5);
  }
});

test('q/k rows are permuted so rotate-half RoPE gives the same attention scores as interleaved RoPE', { skip }, () => {
  const ck = openLlama2c(bin);
  const hd = 8;
  const offsetWq0 = 28 + 4 * (512 * 64 + 5 * 64);
  const offsetWk0 = offsetWq0 + 4 * (5 * 64 * 64);
  const rawQ = new Tensor(readFloat32At(bin, offsetWq0, 64 * 64, 'test'), [64, 64]);
  const rawK = new Tensor(readFloat32At(bin, offsetWk0, 32 * 64, 'test'), [32, 64]);
  const hfQ = ck.readTensor('model.layers.0.self_attn.q_proj.weight');
  const hfK = ck.readTensor('model.layers.0.self_attn.k_proj.weight');
  assert.deepEqual(halfToInterleavedRows(hfQ, 8).data, rawQ.data);

  const rng = new Rng(5);
  const x = Array.from({ length: 64 }, () => rng.uniform() - 0.5);
  const y = Array.from({ length: 64 }, () => rng.uniform() - 0.5);
  const matvec = (w: Tensor, v: number[]) => Array.from({ length: w.shape[0] }, (_, r) => v.reduce((s, vi, c) => s + w.data[r * 64 + c] * vi, 0));
  const angle = (pos: number, i: number) => pos * 10000 ** (-(2 * i) / hd);
  const ropeInterleaved = (v: number[], pos: number) => v.map((_, j) => {
    const h = Math.floor(j / hd) * hd, k = j - h, i = k >> 1, a = angle(pos, i);
    return k % 2 === 0 ? v[j] * Math.cos(a) - v[j + 1] * Math.sin(a) : v[j] * Math.cos(a) + v[j - 1] * Math.sin(a);
  });
  const ropeHalf = (v: number[], pos: number) => v.map((_, j) => {
    const h = Math.floor(j / hd) * hd, k = j - h, half = hd / 2, i = k % half, a = angle(pos, i);
    return k < half ? v[j] * Math.cos(a) - v[j + half] * Math.sin(a) : v[j] * Math.cos(a) + v[j - half] * Math.sin(a);
  });
  const scores = (q: number[], k: number[]) => Array.from({ length: 8 }, (_, h) => {
    const kv = Math.floor(h / 2);
    let s = 0;
    for (let d = 0; d < hd; d++) s += q[h * hd + d] * k[kv * hd + d];
    return s;
  });
  const ref = scores(ropeInterleaved(matvec(rawQ, x), 13), ropeInterleaved(matvec(rawK, y), 4));
  const ours = scores(ropeHalf(matvec(hfQ, x), 13), ropeHalf(matvec(hfK, y), 4));
  for (let h = 0; h < 8; h++) assert.ok(Math.abs(ref[h] - ours[h]) < 1e-12, `head ${h}: ${ref[h]} vs ${ours[h]}`);
});

test('RoPE row permutations are inverse to each other', () => {
  const rng = new Rng(9);
  const w = Tensor.zeros([24, 5]);
  for (let i = 0; i < w.size; i++) w.data[i] = rng.uniform();
  assert.deepEqual(halfToInterleavedRows(interleavedToHalfRows(w, 3), 3).data, w.data);
  // head size 8: HF row 1 of head 0 is interleaved row 2; HF row 4 (= 0 + d/2) is interleaved row 1
  const p = interleavedToHalfRows(w, 3);
  assert.deepEqual(p.row(1).data, w.row(2).data);
  assert.deepEqual(p.row(4).data, w.row(1).data);
  assert.deepEqual(p.row(8 + 5).data, w.row(8 + 3).data);
  assert.throws(() => interleavedToHalfRows(Tensor.zeros([6, 2]), 2), /do not split into 2 heads of even size/);
});

/** A direct float64 HF-convention Llama forward over the loaded tensors (greedy decoding). */
function greedyHF(ck: Llama2cCheckpoint, steps: number): number[] {
  const c = ck.config;
  const dim = c.hidden_size, nH = c.num_attention_heads, nKv = c.num_key_value_heads, hd = dim / nH, L = c.num_hidden_layers;
  const get = (n: string) => ck.readTensor(n, 'float64');
  const embed = get('model.embed_tokens.weight');
  const layers = Array.from({ length: L }, (_, i) => {
    const p = `model.layers.${i}.`;
    return {
      inNorm: get(p + 'input_layernorm.weight'), postNorm: get(p + 'post_attention_layernorm.weight'),
      q: get(p + 'self_attn.q_proj.weight'), k: get(p + 'self_attn.k_proj.weight'), v: get(p + 'self_attn.v_proj.weight'),
      o: get(p + 'self_attn.o_proj.weight'), gate: get(p + 'mlp.gate_proj.weight'), up: get(p + 'mlp.up_proj.weight'),
      down: get(p + 'mlp.down_proj.weight'), keys: [] as number[][], values: [] as number[][],
    };
  });
  const finalNorm = get('model.norm.weight');
  const matvec = (w: Tensor, v: number[]) => {
    const [rows, cols] = w.shape;
    const out = new Array(rows).fill(0);
    for (let r = 0; r < rows; r++) for (let j = 0; j < cols; j++) out[r] += w.data[r * cols + j] * v[j];
    return out;
  };
  const rms = (v: number[], w: Tensor) => {
    const s = 1 / Math.sqrt(v.reduce((a, b) => a + b * b, 0) / v.length + c.rms_norm_eps);
    return v.map((x, i) => x * s * w.data[i]);
  };
  const rope = (v: number[], pos: number) => v.map((_, j) => {
    const k = j % hd, half = hd / 2, i = k % half, a = pos * c.rope_theta ** (-(2 * i) / hd);
    const base = j - k;
    return k < half ? v[j] * Math.cos(a) - v[base + k + half] * Math.sin(a) : v[j] * Math.cos(a) + v[base + k - half] * Math.sin(a);
  });
  const tokens = [1];
  for (let pos = 0; pos < steps; pos++) {
    let x = Array.from(embed.row(tokens[pos]).data);
    for (const l of layers) {
      const h = rms(x, l.inNorm);
      const q = rope(matvec(l.q, h), pos);
      l.keys.push(rope(matvec(l.k, h), pos));
      l.values.push(matvec(l.v, h));
      const att = new Array(dim).fill(0);
      for (let head = 0; head < nH; head++) {
        const kvh = Math.floor(head / (nH / nKv));
        const s = l.keys.map((k) => { let d = 0; for (let i = 0; i < hd; i++) d += q[head * hd + i] * k[kvh * hd + i]; return d / Math.sqrt(hd); });
        const m = Math.max(...s);
        const e = s.map((v) => Math.exp(v - m));
        const z = e.reduce((a, b) => a + b, 0);
        l.values.forEach((v, t) => { for (let i = 0; i < hd; i++) att[head * hd + i] += (e[t] / z) * v[kvh * hd + i]; });
      }
      x = x.map((xi, i) => xi + matvec(l.o, att)[i]);
      const h2 = rms(x, l.postNorm);
      const g = matvec(l.gate, h2), u = matvec(l.up, h2);
      const act = g.map((gi, i) => (gi / (1 + Math.exp(-gi))) * u[i]);
      const down = matvec(l.down, act);
      x = x.map((xi, i) => xi + down[i]);
    }
    const logits = matvec(embed, rms(x, finalNorm)); // tied classifier
    tokens.push(logits.indexOf(Math.max(...logits)));
  }
  return tokens;
}

test('stories260K under HF names + HF RoPE reproduces the llama2.c greedy reference', { skip }, () => {
  const ref = JSON.parse(readFileSync(join(stories260KDir, 'reference-greedy.json'), 'utf8'));
  const steps = 24;
  assert.deepEqual(greedyHF(openLlama2c(bin), steps), ref.tokens_including_bos.slice(0, steps + 1));
});

test('llama2.c version 1 files and untied classifiers; clear errors for bad files', { skip }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'linscope-l2c-'));
  try {
    // Build a v1 file with an untied classifier from the v0 tensors (HF order → back to llama2.c order).
    const v0 = openLlama2c(bin);
    const h = v0.header;
    const raw = (name: string) => {
      const t = v0.readTensor(name);
      if (name.endsWith('q_proj.weight')) return halfToInterleavedRows(t, h.nHeads);
      if (name.endsWith('k_proj.weight')) return halfToInterleavedRows(t, h.nKvHeads);
      return t;
    };
    const perLayer = (suffix: string) => Array.from({ length: h.nLayers }, (_, i) => raw(`model.layers.${i}.${suffix}`));
    const classifier = Tensor.zeros([h.vocabSize, h.dim]);
    classifier.data.set(raw('model.embed_tokens.weight').data);
    classifier.data[5] = 42;
    const tensors = [
      ...perLayer('input_layernorm.weight'), ...perLayer('post_attention_layernorm.weight'), raw('model.norm.weight'),
      raw('model.embed_tokens.weight'), ...perLayer('self_attn.q_proj.weight'), ...perLayer('self_attn.k_proj.weight'),
      ...perLayer('self_attn.v_proj.weight'), ...perLayer('self_attn.o_proj.weight'), ...perLayer('mlp.gate_proj.weight'),
      ...perLayer('mlp.down_proj.weight'), ...perLayer('mlp.up_proj.weight'), classifier,
    ];
    const header = Buffer.alloc(256);
    header.writeUInt32LE(0x616b3432, 0);
    header.writeInt32LE(1, 4);
    [h.dim, h.hiddenDim, h.nLayers, h.nHeads, h.nKvHeads, h.vocabSize, h.seqLen].forEach((v, i) => header.writeInt32LE(v, 8 + 4 * i));
    header.writeUInt8(0, 36);
    const v1Path = join(dir, 'v1.bin');
    writeFileSync(v1Path, Buffer.concat([header, ...tensors.map((t) => Buffer.from(Float32Array.from(t.data).buffer))]));
    const v1 = openLlama2c(v1Path);
    assert.equal(v1.header.version, 1);
    assert.equal(v1.config.tie_word_embeddings, false);
    for (const name of v0.names()) assert.deepEqual(v1.readTensor(name).data, v0.readTensor(name).data, name);
    assert.equal(v1.readTensor('lm_head.weight').data[5], 42);

    const cut = join(dir, 'cut.bin');
    copyFileSync(bin, cut);
    truncateSync(cut, 1_000_000);
    assert.throws(() => openLlama2c(cut), /cut\.bin: llama2\.c v0 checkpoint with dim=64.* should be 1056540 bytes, but the file has 1000000 \(truncated\?\)/);
    const junk = join(dir, 'junk.bin');
    writeFileSync(junk, Buffer.alloc(100, 0xff));
    assert.throws(() => openLlama2c(junk), /junk\.bin: not a llama2\.c checkpoint/);
    const v2 = join(dir, 'v2.bin');
    const hdr2 = Buffer.alloc(256);
    hdr2.writeUInt32LE(0x616b3432, 0);
    hdr2.writeInt32LE(2, 4);
    writeFileSync(v2, hdr2);
    assert.throws(() => openLlama2c(v2), /format version 2 is not supported/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
