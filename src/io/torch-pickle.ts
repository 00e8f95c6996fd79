/**
 * A restricted unpickler for what `torch.save(state_dict)` writes, and nothing else: it runs no
 * code. Opcodes follow CPython's Lib/pickle.py (protocols 0–5 data opcodes); the only globals it
 * knows are
 *   collections.OrderedDict                (the state dict and empty backward-hook dicts),
 *   torch._utils._rebuild_tensor_v2        (storage, storage_offset, size, stride, requires_grad, hooks[, metadata]),
 *   torch._utils._rebuild_parameter        (data, requires_grad, hooks) → the data,
 *   torch.<Kind>Storage                    (storage types inside persistent ids),
 * and any other global is refused with an error naming it. Persistent ids (BINPERSID) are handed
 * to the caller, who maps torch's ('storage', type, key, location, numel[, view]) tuples to storages.
 */

/** Element dtypes of torch's legacy typed storages. */
export const TORCH_STORAGE_DTYPES = {
  FloatStorage: { dtype: 'float32', bytes: 4 },
  HalfStorage: { dtype: 'float16', bytes: 2 },
  BFloat16Storage: { dtype: 'bfloat16', bytes: 2 },
  DoubleStorage: { dtype: 'float64', bytes: 8 },
  LongStorage: { dtype: 'int64', bytes: 8 },
  IntStorage: { dtype: 'int32', bytes: 4 },
  ShortStorage: { dtype: 'int16', bytes: 2 },
  CharStorage: { dtype: 'int8', bytes: 1 },
  ByteStorage: { dtype: 'uint8', bytes: 1 },
  BoolStorage: { dtype: 'bool', bytes: 1 },
} as const;
export type TorchStorageKind = keyof typeof TORCH_STORAGE_DTYPES;
export type TorchDType = (typeof TORCH_STORAGE_DTYPES)[TorchStorageKind]['dtype'];

/** A `torch.<Kind>Storage` class reference. */
export class StorageType {
  constructor(readonly kind: TorchStorageKind) {}
}

/** A tensor record: a view (offset, shape, strides in elements) into a storage the caller resolved. */
export class TensorRecord<S = unknown> {
  constructor(readonly storage: S, readonly offset: number, readonly shape: number[], readonly stride: number[]) {}
}

class Global {
  constructor(readonly module: string, readonly name: string) {}
  get qualified(): string {
    return `${this.module}.${this.name}`;
  }
}

/** Python tuples; lists are plain arrays. */
export class Tuple {
  constructor(readonly items: unknown[]) {}
}

export interface UnpickleOptions<S> {
  /** Maps a persistent id (a Tuple for torch) to the storage it names. */
  persistentLoad: (pid: unknown) => S;
  /** Byte offset to start at (for files holding several pickles). Default 0. */
  start?: number;
  /** Names the file in errors. */
  where: string;
}

function allowedGlobal(module: string, name: string): boolean {
  if (module === 'collections' && name === 'OrderedDict') return true;
  if (module === 'torch._utils' && (name === '_rebuild_tensor_v2' || name === '_rebuild_parameter')) return true;
  if (module === 'torch' && name in TORCH_STORAGE_DTYPES) return true;
  return false;
}

function asInts(v: unknown, what: string, where: string): number[] {
  const items = v instanceof Tuple ? v.items : Array.isArray(v) ? v : undefined;
  if (!items || !items.every((x) => Number.isSafeInteger(x) && (x as number) >= 0)) {
    throw new Error(`${where}: tensor record has an invalid ${what} ${JSON.stringify(items ?? String(v))}`);
  }
  return items as number[];
}

function callGlobal<S>(fn: Global, args: unknown, where: string): unknown {
  const a = args instanceof Tuple ? args.items : undefined;
  if (!a) throw new Error(`${where}: pickle calls ${fn.qualified} with non-tuple arguments`);
  switch (fn.qualified) {
    case 'collections.OrderedDict':
      if (a.length > 0) throw new Error(`${where}: pickle builds collections.OrderedDict from arguments, which torch.save never writes`);
      return new Map<unknown, unknown>();
    case 'torch._utils._rebuild_tensor_v2': {
      if (a.length < 4) throw new Error(`${where}: _rebuild_tensor_v2 with ${a.length} arguments (expected at least 4)`);
      const [storage, offset, size, stride] = a;
      if (!Number.isSafeInteger(offset) || (offset as number) < 0) throw new Error(`${where}: tensor record has an invalid storage offset ${String(offset)}`);
      const shape = asInts(size, 'size', where);
      const strides = asInts(stride, 'stride', where);
      if (strides.length !== shape.length) throw new Error(`${where}: tensor record has size [${shape}] but stride [${strides}]`);
      return new TensorRecord<S>(storage as S, offset as number, shape, strides);
    }
    case 'torch._utils._rebuild_parameter':
      if (!(a[0] instanceof TensorRecord)) throw new Error(`${where}: _rebuild_parameter of something that is not a tensor`);
      return a[0];
    default:
      throw new Error(`${where}: pickle calls ${fn.qualified}, which is not a function torch.save uses for state dicts`);
  }
}

/** Unpickle one pickle; returns the value and the byte offset just past its STOP opcode. */
export function unpickle<S>(data: Uint8Array, options: UnpickleOptions<S>): { value: unknown; end: number } {
  const where = options.where;
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  const latin1 = new TextDecoder('latin1');
  let pos = options.start ?? 0;
  const stack: unknown[] = [];
  const marks: number[] = [];
  const memo = new Map<number, unknown>();

  const need = (n: number) => {
    if (pos + n > data.length) throw new Error(`${where}: pickle data ends unexpectedly at byte ${pos}`);
  };
  const u8 = () => { need(1); return data[pos++]; };
  const u16 = () => { need(2); const v = view.getUint16(pos, true); pos += 2; return v; };
  const u32 = () => { need(4); const v = view.getUint32(pos, true); pos += 4; return v; };
  const i32 = () => { need(4); const v = view.getInt32(pos, true); pos += 4; return v; };
  const u64 = () => {
    need(8);
    const v = view.getBigUint64(pos, true);
    pos += 8;
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error(`${where}: pickle length ${v} too large`);
    return Number(v);
  };
  const take = (n: number) => { need(n); const b = data.subarray(pos, pos + n); pos += n; return b; };
  const line = () => {
    const end = data.indexOf(0x0a, pos);
    if (end < 0) throw new Error(`${where}: pickle text line not terminated`);
    const s = latin1.decode(data.subarray(pos, end));
    pos = end + 1;
    return s;
  };
  const pop = () => {
    if (stack.length === 0) throw new Error(`${where}: pickle stack underflow at byte ${pos}`);
    return stack.pop();
  };
  const top = () => {
    if (stack.length === 0) throw new Error(`${where}: pickle stack underflow at byte ${pos}`);
    return stack[stack.length - 1];
  };
  const popMark = (): unknown[] => {
    const m = marks.pop();
    if (m === undefined) throw new Error(`${where}: pickle MARK missing at byte ${pos}`);
    return stack.splice(m);
  };
  const text = (b: Uint8Array) => {
    try {
      return utf8.decode(b);
    } catch {
      throw new Error(`${where}: pickle string is not valid UTF-8`);
    }
  };
  const longFrom = (b: Uint8Array): number => {
    if (b.length === 0) return 0;
    let v = 0n;
    for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
    if (b[b.length - 1] & 0x80) v -= 1n << BigInt(8 * b.length);
    if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) throw new Error(`${where}: pickle integer ${v} beyond exact JS numbers`);
    return Number(v);
  };
  const global = (module: string, name: string) => {
    if (module === 'torch' && name in TORCH_STORAGE_DTYPES) return new StorageType(name as TorchStorageKind);
    if (!allowedGlobal(module, name)) {
      throw new Error(`${where}: refuses pickle global ${module}.${name}: linscope reads only tensor state dicts written by torch.save (no code is run)`);
    }
    return new Global(module, name);
  };
  const setItems = (target: unknown, items: unknown[]) => {
    if (target instanceof Map) {
      for (let i = 0; i + 1 < items.length; i += 2) target.set(items[i], items[i + 1]);
    } else {
      throw new Error(`${where}: pickle sets items on something that is not a dict`);
    }
  };

  for (;;) {
    const op = u8();
    switch (op) {
      case 0x80: u8(); break; // PROTO
      case 0x95: u64(); break; // FRAME
      case 0x2e: { // STOP
        return { value: pop(), end: pos };
      }
      case 0x28: marks.push(stack.length); break; // MARK
      case 0x4e: stack.push(null); break; // NONE
      case 0x88: stack.push(true); break; // NEWTRUE
      case 0x89: stack.push(false); break; // NEWFALSE
      case 0x4a: stack.push(i32()); break; // BININT
      case 0x4b: stack.push(u8()); break; // BININT1
      case 0x4d: stack.push(u16()); break; // BININT2
      case 0x8a: stack.push(longFrom(take(u8()))); break; // LONG1
      case 0x8b: stack.push(longFrom(take(u32()))); break; // LONG4
      case 0x49: { // INT (protocol 0)
        const s = line();
        stack.push(s === '01' ? true : s === '00' ? false : Number.parseInt(s, 10));
        break;
      }
      case 0x4c: stack.push(Number.parseInt(line().replace(/L$/, ''), 10)); break; // LONG (protocol 0)
      case 0x47: { need(8); stack.push(view.getFloat64(pos, false)); pos += 8; break; } // BINFLOAT (big-endian)
      case 0x58: stack.push(text(take(u32()))); break; // BINUNICODE
      case 0x8c: stack.push(text(take(u8()))); break; // SHORT_BINUNICODE
      case 0x8d: stack.push(text(take(u64()))); break; // BINUNICODE8
      case 0x54: stack.push(latin1.decode(take(i32()))); break; // BINSTRING
      case 0x55: stack.push(latin1.decode(take(u8()))); break; // SHORT_BINSTRING
      case 0x42: stack.push(take(u32()).slice()); break; // BINBYTES
      case 0x43: stack.push(take(u8()).slice()); break; // SHORT_BINBYTES
      case 0x8e: stack.push(take(u64()).slice()); break; // BINBYTES8
      case 0x29: stack.push(new Tuple([])); break; // EMPTY_TUPLE
      case 0x85: stack.push(new Tuple([pop()])); break; // TUPLE1
      case 0x86: { const b = pop(); const a = pop(); stack.push(new Tuple([a, b])); break; } // TUPLE2
      case 0x87: { const c = pop(); const b = pop(); const a = pop(); stack.push(new Tuple([a, b, c])); break; } // TUPLE3
      case 0x74: stack.push(new Tuple(popMark())); break; // TUPLE
      case 0x5d: stack.push([]); break; // EMPTY_LIST
      case 0x6c: stack.push(popMark()); break; // LIST
      case 0x61: { const v = pop(); const l = top(); if (!Array.isArray(l)) throw new Error(`${where}: pickle APPEND to a non-list`); l.push(v); break; } // APPEND
      case 0x65: { const items = popMark(); const l = top(); if (!Array.isArray(l)) throw new Error(`${where}: pickle APPENDS to a non-list`); l.push(...items); break; } // APPENDS
      case 0x7d: stack.push(new Map()); break; // EMPTY_DICT
      case 0x64: { const m = new Map(); setItems(m, popMark()); stack.push(m); break; } // DICT
      case 0x73: { const v = pop(); const k = pop(); setItems(top(), [k, v]); break; } // SETITEM
      case 0x75: { const items = popMark(); setItems(top(), items); break; } // SETITEMS
      case 0x70: memo.set(Number.parseInt(line(), 10), top()); break; // PUT
      case 0x71: memo.set(u8(), top()); break; // BINPUT
      case 0x72: memo.set(u32(), top()); break; // LONG_BINPUT
      case 0x94: memo.set(memo.size, top()); break; // MEMOIZE
      case 0x67: case 0x68: case 0x6a: { // GET, BINGET, LONG_BINGET
        const key = op === 0x67 ? Number.parseInt(line(), 10) : op === 0x68 ? u8() : u32();
        if (!memo.has(key)) throw new Error(`${where}: pickle refers to memo entry ${key}, which was never stored`);
        stack.push(memo.get(key));
        break;
      }
      case 0x63: { const module = line(); const name = line(); stack.push(global(module, name)); break; } // GLOBAL
      case 0x93: { // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') throw new Error(`${where}: pickle STACK_GLOBAL with non-string names`);
        stack.push(global(module, name));
        break;
      }
      case 0x52: { // REDUCE
        const args = pop();
        const fn = pop();
        if (!(fn instanceof Global)) throw new Error(`${where}: pickle calls something that is not an allowed function`);
        stack.push(callGlobal<S>(fn, args, where));
        break;
      }
      case 0x62: { // BUILD: torch.save sets _metadata on the state dict; nothing else is accepted
        const state = pop();
        const obj = top();
        if (!(obj instanceof Map)) throw new Error(`${where}: pickle sets object state (BUILD) on something other than an OrderedDict`);
        if (state !== null && !(state instanceof Map) && !(state instanceof Tuple)) {
          throw new Error(`${where}: pickle sets OrderedDict state of an unexpected kind`);
        }
        break;
      }
      case 0x51: stack.push(options.persistentLoad(pop())); break; // BINPERSID
      case 0x30: pop(); break; // POP
      case 0x31: popMark(); break; // POP_MARK
      case 0x32: stack.push(top()); break; // DUP
      default:
        throw new Error(`${where}: pickle opcode 0x${op.toString(16).padStart(2, '0')} at byte ${pos - 1} is not one torch.save writes for state dicts (refused)`);
    }
  }
}
