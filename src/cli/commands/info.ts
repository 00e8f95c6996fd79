/** `linscope info --model M`: what a model is — architecture, sizes, parameter count, LASER matrices. */
import { backend, type Backend } from '../../backend/index.ts';
import { OpenBlasBackend } from '../../backend/openblas.ts';
import { loadModel } from '../../models/decoder.ts';
import { fewRowStatus } from '../../tensor/few-row-gemm.ts';
import { nativeKernelsStatus } from '../../tensor/native-kernels.ts';
import { customParts } from '../../export/custom-code.ts';
import { defineCommand, parseOrExplain } from '../args.ts';
import { modelOptions, openModel } from '../options.ts';

const spec = defineCommand({
  name: 'info',
  summary: 'Describe a model: architecture, sizes, parameters, weight names',
  options: {
    ...modelOptions,
    weights: { type: 'boolean', description: 'List every weight with its shape' },
    json: { type: 'boolean', description: 'Print JSON instead of text' },
  },
});

/** "Cooperlake kernels, openmp build" for OpenBLAS (native-library.ts chooses the build), else undefined. */
function blasBuild(be: Backend): string | undefined {
  return be instanceof OpenBlasBackend ? `${be.core} kernels, ${be.threading} build` : undefined;
}

export async function run(argv: string[]): Promise<number> {
  const args = parseOrExplain(spec, argv);
  if (typeof args === 'number') return args;
  const o = args.options;
  const source = await openModel(o);
  const model = await loadModel(source);
  const names = model.weightNames();
  let params = 0;
  const shapes: Record<string, number[]> = {};
  for (const name of names) {
    const shape = model.weightShape(name);
    shapes[name] = shape;
    params += shape.reduce((a, b) => a * b, 1);
  }
  const c = model.config;
  const summary = {
    model: o.model,
    dir: source.dir,
    format: source.format,
    modelType: c.modelType,
    layers: c.numLayers,
    hiddenSize: c.hiddenSize,
    heads: c.numHeads,
    kvHeads: c.numKvHeads,
    headDim: c.headDim,
    intermediateSize: c.intermediateSize,
    vocabSize: c.vocabSize,
    parameters: params,
    linearMaps: model.linearMaps.map((m) => ({ afterBlock: m.afterLayer, input: m.input, bias: m.bias !== undefined })),
    customCode: customParts(source.config as Record<string, unknown>),
    compute: { gemm: backend().name, blas: blasBuild(backend()), threads: backend().threads(), fewRows: fewRowStatus(backend()), kernels: nativeKernelsStatus() },
    laserMatrices: Object.fromEntries(Object.entries(model.matrices(0)).map(([k, v]) => [k, v?.tensorName])),
    ...(o.weights ? { weights: shapes } : {}),
  };
  if (o.json) {
    console.log(JSON.stringify(summary, null, 2));
    return 0;
  }
  console.log(`${o.model}  (${source.format}, ${source.dir})`);
  console.log(`  architecture   ${c.modelType}`);
  console.log(`  layers         ${c.numLayers}`);
  console.log(`  hidden size    ${c.hiddenSize}   heads ${c.numHeads} (kv ${c.numKvHeads}) × ${c.headDim}`);
  console.log(`  MLP size       ${c.intermediateSize}`);
  console.log(`  vocabulary     ${c.vocabSize}`);
  console.log(`  parameters     ${params.toLocaleString('en-US')} (unique tensors)`);
  if (model.linearMaps.length > 0) {
    console.log(`  linear maps    ${model.linearMaps.map((m) => `${m.input} map ${m.afterLayer < 0 ? 'on the embeddings' : `after block ${m.afterLayer}`}`).join(', ')} (run by linscope)`);
  }
  if (summary.customCode.length > 0) {
    console.log(`  transformers   ${summary.customCode.join(', ')}: AutoModelForCausalLM.from_pretrained(dir, trust_remote_code=True) (modeling_linscope.py)`);
  }
  console.log(`  compute        GEMM ${summary.compute.gemm} (${summary.compute.threads} threads${summary.compute.blas ? `; ${summary.compute.blas}` : ''}), other kernels ${summary.compute.kernels}`);
  console.log(`                 products of 2–32 rows: ${summary.compute.fewRows}`);
  console.log('  LASER matrices (layer 0):');
  for (const [k, v] of Object.entries(summary.laserMatrices)) console.log(`    ${k.padEnd(4)} ${v}`);
  if (o.weights) for (const [name, shape] of Object.entries(shapes)) console.log(`  ${name}  [${shape.join(', ')}]`);
  return 0;
}
