/** The backends every linalg test runs on: pure TypeScript, and OpenBLAS when it loads. */
import { nativeBackend, pureBackend, type Backend } from '../../src/backend/index.ts';

export const testBackends: Backend[] = [pureBackend(), ...[nativeBackend()].filter((b): b is Backend => b !== undefined)];
