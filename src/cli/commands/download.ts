/** `linscope download <hub-id>`: fetch a model's config, tokenizer and safetensors into the HF cache. */
import { resolveModel } from '../../io/hub.ts';
import { defineCommand, parseOrExplain } from '../args.ts';
import { offlineOption } from '../options.ts';
import { createProgress } from '../../report/progress.ts';

const spec = defineCommand({
  name: 'download',
  summary: 'Download a Hugging Face model into the standard cache (resumable)',
  positionals: [{ name: 'model', description: 'Hub id, e.g. gpt2 or EleutherAI/pythia-160m', required: true }],
  options: {
    revision: { type: 'string', description: 'Branch, tag or commit', default: 'main' },
    cacheDir: { type: 'string', description: 'Cache folder (default $HF_HUB_CACHE or ~/.cache/huggingface/hub)' },
    ...offlineOption,
    quiet: { type: 'boolean', description: 'No progress output' },
  },
});

export async function run(argv: string[]): Promise<number> {
  const args = parseOrExplain(spec, argv);
  if (typeof args === 'number') return args;
  const o = args.options;
  const id = args.positionals[0];
  let bar: ReturnType<typeof createProgress> | undefined;
  let current = '';
  const dir = await resolveModel(id, {
    revision: o.revision,
    cacheDir: o.cacheDir,
    offline: o.offline,
    onProgress: (p) => {
      if (p.file !== current) {
        bar?.stop();
        current = p.file;
        bar = createProgress({ label: `[${p.fileIndex + 1}/${p.fileCount}] ${p.file}`, total: p.totalBytes, unit: 'B', quiet: o.quiet });
      }
      bar?.update(p.downloadedBytes);
    },
  });
  bar?.stop();
  console.log(dir);
  return 0;
}
