/**
 * Just enough of the WebAssembly binary format to emit one small SIMD kernel module at run time
 * (no toolchain, no binary blobs in the repository): LEB128 integers, sections, opcodes.
 */

/** Unsigned LEB128. */
export function u32(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

/** Signed LEB128 (for i32.const). */
export function s32(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

export function name(s: string): number[] {
  const bytes = [...new TextEncoder().encode(s)];
  return [...u32(bytes.length), ...bytes];
}

/** A vector: count followed by the items' bytes. */
export function vec(items: number[][]): number[] {
  return [...u32(items.length), ...items.flat()];
}

export function section(id: number, body: number[]): number[] {
  return [id, ...u32(body.length), ...body];
}

export const valtype = { i32: 0x7f, f32: 0x7d, v128: 0x7b } as const;

/** Core opcodes used by the kernels. */
export const op = {
  block: [0x02, 0x40],
  loop: [0x03, 0x40],
  end: [0x0b],
  br: (depth: number) => [0x0c, ...u32(depth)],
  brIf: (depth: number) => [0x0d, ...u32(depth)],
  localGet: (i: number) => [0x20, ...u32(i)],
  localSet: (i: number) => [0x21, ...u32(i)],
  localTee: (i: number) => [0x22, ...u32(i)],
  i32Const: (n: number) => [0x41, ...s32(n)],
  i32GeU: [0x4f],
  i32Add: [0x6a],
} as const;

const simd = (code: number) => [0xfd, ...u32(code)];
/** memarg: alignment exponent 4 (16 bytes), offset 0. */
const memarg = [4, 0];

/** SIMD (v128 / f32x4) opcodes used by the kernels. */
export const simdOp = {
  load: [...simd(0x00), ...memarg],
  store: [...simd(0x0b), ...memarg],
  f32x4Splat: simd(0x13),
  f32x4Sqrt: simd(0xe3),
  f32x4Add: simd(0xe4),
  f32x4Sub: simd(0xe5),
  f32x4Mul: simd(0xe6),
  f32x4Div: simd(0xe7),
} as const;

export interface FunctionSpec {
  exportName: string;
  params: number[];
  /** Extra locals, as [count, valtype] runs. */
  locals: [number, number][];
  body: number[];
}

/** A module importing its memory as env.memory and exporting the given functions (no results). */
export function moduleBytes(functions: FunctionSpec[]): Uint8Array<ArrayBuffer> {
  const types = functions.map((f) => [0x60, ...vec(f.params.map((p) => [p])), ...vec([])]);
  const imports = [[...name('env'), ...name('memory'), 0x02, 0x00, ...u32(1)]];
  const funcIndices = functions.map((_, i) => u32(i));
  const exportsList = functions.map((f, i) => [...name(f.exportName), 0x00, ...u32(i)]);
  const codes = functions.map((f) => {
    const body = [...vec(f.locals.map(([n, t]) => [...u32(n), t])), ...f.body, ...op.end];
    return [...u32(body.length), ...body];
  });
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec(types)),
    ...section(2, vec(imports)),
    ...section(3, vec(funcIndices)),
    ...section(7, vec(exportsList)),
    ...section(10, vec(codes)),
  ]);
}
