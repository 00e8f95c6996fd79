/**
 * Builds linscope's native kernels (native/kernels.c → build/linscope-kernels-<hash>.so) with the
 * system C compiler for this CPU; scripts/setup.sh runs it. Without a compiler it says so and exits
 * 0: linscope then runs the TypeScript kernels (the same results, slower).
 *
 *   node --import tsx scripts/build-kernels.ts
 */
import { buildNativeKernels, nativeKernelsStatus } from '../src/tensor/native-kernels.ts';

const r = buildNativeKernels();
if (r.ok) console.log(`setup: native kernels ${r.built ? 'built' : 'up to date'}: ${nativeKernelsStatus()}`);
else console.log(`setup: native kernels not built (${r.reason}); linscope will use its TypeScript kernels`);
