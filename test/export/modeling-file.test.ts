/**
 * modeling_linscope.py as written into custom-code exports: the base type substituted, and valid
 * Python (compiled by python3 when the machine has one; transformers itself is exercised by
 * bench/export-crosscheck.ts, outside the suite).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportConfig, modelingFileFor } from '../../src/export/custom-code.ts';

const python = spawnSync('python3', ['--version']).status === 0;

test('the modeling file names its base type and compiles', { skip: python ? false : 'no python3 on this machine' }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'linscope-modeling-'));
  try {
    for (const type of ['gpt2', 'llama', 'gpt_neox']) {
      const text = modelingFileFor(type);
      assert.match(text, new RegExp(`^BASE_MODEL_TYPE = "${type}"$`, 'm'));
      const file = join(dir, `modeling_${type}.py`);
      writeFileSync(file, text);
      const r = spawnSync('python3', ['-c', `import ast, sys; ast.parse(open(sys.argv[1]).read())`, file], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  assert.throws(() => modelingFileFor('llama"; import os'), /unexpected model_type/);
});

test('exportConfig: vanilla without linscope parts, auto_map with them, and back', () => {
  const base = { model_type: 'gpt2', architectures: ['GPT2LMHeadModel'], n_layer: 2 };
  assert.deepEqual(exportConfig(base).config, base);
  assert.equal(exportConfig(base).modelingFile, undefined);
  const withMaps = { ...base, linscope: { format: 2, linear_maps: [{ after_layer: 0, input: 'residual', weight: 'linscope_maps.0.weight', bias: null }] } };
  const custom = exportConfig(withMaps);
  assert.equal(custom.config.model_type, 'linscope_gpt2');
  assert.deepEqual(custom.config.architectures, ['LinscopeForCausalLM']);
  assert.deepEqual(custom.config.auto_map, { AutoConfig: 'modeling_linscope.LinscopeConfig', AutoModelForCausalLM: 'modeling_linscope.LinscopeForCausalLM' });
  assert.deepEqual((custom.config.linscope as { base_architectures: string[] }).base_architectures, ['GPT2LMHeadModel']);
  // the guard that makes the base class named explicitly refuse the folder
  assert.match(String(custom.config.use_return_dict), /AutoModelForCausalLM\.from_pretrained\(folder, trust_remote_code=True\)/);
  // a custom config with its maps gone is the vanilla base config again
  const back = exportConfig({ ...custom.config, linscope: { ...(custom.config.linscope as object), linear_maps: [] } });
  assert.deepEqual(back.config, base);
});
