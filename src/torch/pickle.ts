/**
 * A data-only reader for Python pickles (protocols 0-5), enough for PyTorch state dicts. It builds
 * plain JavaScript values and never runs code: a GLOBAL is accepted only if the caller's allow-list
 * names it, REDUCE only calls the allow-listed handler (a function of ours, not of the file), and
 * opcodes that construct arbitrary objects (INST, OBJ, NEWOBJ, EXT*, buffers) are refused. Memory
 * and time are bounded: every length is checked against the bytes left before anything is read or
 * allocated, and the memo, stack, MARK nesting, long integers and object count have caps.
 *
 * Python values map to JavaScript as: None → null, bool → boolean, int → number (bigint when beyond
 * 2^53), float → number, str → string, bytes → Uint8Array, list → array, tuple → frozen array,
 * dict → Map (primitive keys only), allow-listed global → PyGlobal, REDUCE → the handler's result.
 *
 * Memory per value is bounded too: a container holds only values that were counted when pushed, and
 * strings and bytes are copies of input bytes, so what a pickle builds is at most a constant times
 * (its length + maxObjects); a pickle of millions of empty dicts stops at the cap, not at the heap.
 *
 * Why this file is longer than the project's ~350 lines: the unpickler is one virtual machine, a
 * single opcode loop over state it shares (stack, memo, MARK stack, counters, read position) in
 * closures, read top to bottom against the pickle spec. Spreading its opcodes over several files
 * would pass that state around and hide the one place that checks every opcode; the only other
 * seam, torch's globals and storages, already lives in src/torch/storage.ts.
 */
import { PickleError } from "../errors";
import { LIMITS } from "../limits";

/**
 * A global the allow-list accepted. `call` is our handler for REDUCE; without one it is a plain
 * value.
 */
export class PyGlobal {
  constructor(
    readonly qualname: string,
    readonly call?: (args: readonly unknown[]) => unknown,
  ) {}
}

/**
 * Maps "module.name" to the REDUCE handler, or to null for globals that are only referred to
 * (storage types).
 */
export type AllowedGlobals = ReadonlyMap<string, ((args: readonly unknown[]) => unknown) | null>;

export interface PickleLimits {
  maxMemo: number;
  maxStack: number;
  maxMarkDepth: number;
  /**
   * Values pushed in total (including GET and DUP), a bound on work and memory beyond the input
   * size.
   */
  maxObjects: number;
  /** Bytes of a LONG1/LONG4 integer; BigInt conversion is quadratic; torch never needs over 8. */
  maxLongBytes: number;
  /** Bytes of a text-protocol line (INT, GLOBAL, GET, ...). */
  maxLineBytes: number;
}

export const DEFAULT_PICKLE_LIMITS: PickleLimits = {
  maxMemo: LIMITS.maxPickleObjects,
  maxStack: LIMITS.maxPickleObjects,
  maxMarkDepth: 10_000,
  maxObjects: LIMITS.maxPickleObjects,
  maxLongBytes: 1024,
  maxLineBytes: 1024,
};

export interface UnpickleOptions {
  globals: AllowedGlobals;
  /** Resolves BINPERSID/PERSID ids (torch: storages); without it persistent ids are refused. */
  persistentLoad?: (pid: unknown) => unknown;
  limits?: Partial<PickleLimits>;
}

export interface UnpickleResult {
  value: unknown;
  /** Offset just past the STOP opcode, where the next pickle of a stream begins. */
  end: number;
}

/** Opcodes that build objects of arbitrary classes or need out-of-band data: never accepted. */
const REFUSED_OPCODES: Record<number, string> = {
  0x69: "INST",
  0x6f: "OBJ",
  0x81: "NEWOBJ",
  0x92: "NEWOBJ_EX",
  0x82: "EXT1",
  0x83: "EXT2",
  0x84: "EXT4",
  0x97: "NEXT_BUFFER",
  0x98: "READONLY_BUFFER",
  0x53: "STRING",
  0x56: "UNICODE",
  0x8f: "EMPTY_SET",
  0x90: "ADDITEMS",
  0x91: "FROZENSET",
};

const utf8 = new TextDecoder("utf-8", { fatal: true });
const latin1 = new TextDecoder("latin1");

/** A description of a value's type for error messages. */
export function pyTypeName(v: unknown): string {
  if (v === null) return "None";
  if (Array.isArray(v)) return Object.isFrozen(v) ? "tuple" : "list";
  if (v instanceof Map) return "dict";
  if (v instanceof Uint8Array) return "bytes";
  if (v instanceof PyGlobal) return `global ${v.qualname}`;
  if (typeof v === "object") return (v as object).constructor?.name ?? "object";
  return typeof v;
}

function isHashable(v: unknown): boolean {
  return v === null || ["string", "number", "bigint", "boolean"].includes(typeof v);
}

/** Python int from a safe-or-not integer: number when exactly representable, else bigint. */
function normaliseInt(v: bigint): number | bigint {
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER)
    ? Number(v)
    : v;
}

/**
 * Reads one pickle starting at `start` and returns its value and end offset. Throws PickleError for
 * anything malformed or refused; `truncated` on the error says the bytes ran out before STOP.
 */
export function unpickle(bytes: Uint8Array, options: UnpickleOptions, start = 0): UnpickleResult {
  const limits = { ...DEFAULT_PICKLE_LIMITS, ...options.limits };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const stack: unknown[] = [];
  const marks: number[] = [];
  const memo = new Map<number, unknown>();
  let pos = start;
  let opStart = start;
  let objects = 0;

  const fail = (message: string, truncated = false): never => {
    throw new PickleError(`pickle byte ${opStart}: ${message}`, truncated);
  };
  const need = (n: number): number => {
    if (n < 0) fail(`negative length ${n}`);
    if (pos + n > bytes.byteLength)
      fail(`needs ${n} more bytes but the input ends at ${bytes.byteLength} (truncated?)`, true);
    const at = pos;
    pos += n;
    return at;
  };
  const take = (n: number): Uint8Array => bytes.subarray(need(n), pos);
  const u8 = () => view.getUint8(need(1));
  const u16 = () => view.getUint16(need(2), true);
  const u32 = () => view.getUint32(need(4), true);
  const u64 = (): number => {
    const v = view.getBigUint64(need(8), true);
    // Anything past the input is caught by need(); clamp so the comparison there stays exact.
    return v > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(v);
  };
  const line = (): string => {
    const limit = Math.min(bytes.byteLength, pos + limits.maxLineBytes + 1);
    const nl = bytes.subarray(pos, limit).indexOf(0x0a);
    if (nl < 0) {
      if (limit === bytes.byteLength)
        fail("text line runs past the end of the input (truncated?)", true);
      fail(`text line longer than ${limits.maxLineBytes} bytes`);
    }
    const text = latin1.decode(bytes.subarray(pos, pos + nl));
    pos += nl + 1;
    return text;
  };
  const decodeUtf8 = (b: Uint8Array): string => {
    try {
      return utf8.decode(b);
    } catch {
      return fail("string is not valid UTF-8");
    }
  };

  const push = (v: unknown) => {
    if (++objects > limits.maxObjects)
      fail(`more than ${limits.maxObjects} values (limit maxPickleObjects = ${limits.maxObjects})`);
    if (stack.length >= limits.maxStack) fail(`stack deeper than ${limits.maxStack}`);
    stack.push(v);
  };
  const floor = () => marks[marks.length - 1] ?? 0;
  const pop = (): unknown => {
    if (stack.length <= floor()) fail("stack underflow");
    return stack.pop();
  };
  const top = (): unknown => {
    if (stack.length <= floor()) fail("stack underflow");
    return stack[stack.length - 1];
  };
  const popMark = (): unknown[] => {
    const mark = marks.pop();
    if (mark === undefined) fail("no MARK to pop to");
    return stack.splice(mark!);
  };
  const memoPut = (index: number) => {
    if (!memo.has(index) && memo.size >= limits.maxMemo)
      fail(`memo larger than ${limits.maxMemo} entries`);
    memo.set(index, top());
  };
  const memoGet = (index: number) => {
    if (!memo.has(index)) fail(`memo key ${index} was never stored`);
    push(memo.get(index));
  };
  const tuple = (items: unknown[]) => Object.freeze(items);
  const asList = (v: unknown): unknown[] => {
    if (!Array.isArray(v) || Object.isFrozen(v))
      fail(`APPEND to a ${pyTypeName(v)}, expected a list`);
    return v as unknown[];
  };
  const setItems = (target: unknown, items: unknown[]) => {
    if (!(target instanceof Map)) fail(`SETITEM on a ${pyTypeName(target)}, expected a dict`);
    if (items.length % 2) fail("SETITEMS with an odd number of items");
    for (let i = 0; i < items.length; i += 2) {
      if (!isHashable(items[i])) fail(`dict key of type ${pyTypeName(items[i])} is not supported`);
      (target as Map<unknown, unknown>).set(items[i], items[i + 1]);
    }
  };
  const signedLong = (b: Uint8Array): number | bigint => {
    if (b.byteLength > limits.maxLongBytes)
      fail(`integer of ${b.byteLength} bytes is larger than ${limits.maxLongBytes}`);
    if (b.byteLength === 0) return 0;
    let v = 0n;
    for (let i = b.byteLength - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]!);
    if (b[b.byteLength - 1]! & 0x80) v -= 1n << BigInt(8 * b.byteLength);
    return normaliseInt(v);
  };
  const textInt = (s: string): number | bigint => {
    if (!/^[+-]?\d+L?$/.test(s)) fail(`'${s.slice(0, 40)}' is not an integer`);
    return normaliseInt(BigInt(s.replace(/L$/, "")));
  };
  const textIndex = (s: string): number => {
    const v = textInt(s);
    if (typeof v !== "number" || v < 0) fail(`memo index ${s.slice(0, 40)} out of range`);
    return v as number;
  };
  const global = (module: string, name: string) => {
    const qualname = `${module}.${name}`;
    const handler = options.globals.get(qualname);
    if (handler === undefined)
      fail(
        `global '${qualname.slice(0, 200)}' is not allowed ` +
          "(only the types torch uses for state dicts are)",
      );
    push(new PyGlobal(qualname, handler ?? undefined));
  };
  const persistent = (pid: unknown) => {
    if (!options.persistentLoad) fail("persistent ids are not allowed here");
    push(options.persistentLoad!(pid));
  };

  for (;;) {
    opStart = pos;
    const op = u8();
    switch (op) {
      case 0x80: {
        // PROTO
        const proto = u8();
        if (proto > 5) fail(`pickle protocol ${proto} is newer than 5`);
        break;
      }
      case 0x95:
        u64();
        break; // FRAME: a length hint only, the opcodes follow inline
      case 0x2e: {
        // STOP
        const value = pop();
        return { value, end: pos };
      }
      case 0x28: // MARK
        if (marks.length >= limits.maxMarkDepth)
          fail(`MARKs nested deeper than ${limits.maxMarkDepth}`);
        marks.push(stack.length);
        break;
      case 0x30:
        pop();
        break; // POP
      case 0x31:
        popMark();
        break; // POP_MARK
      case 0x32:
        push(top());
        break; // DUP
      case 0x4e:
        push(null);
        break; // NONE
      case 0x88:
        push(true);
        break; // NEWTRUE
      case 0x89:
        push(false);
        break; // NEWFALSE
      case 0x4a:
        push(view.getInt32(need(4), true));
        break; // BININT
      case 0x4b:
        push(u8());
        break; // BININT1
      case 0x4d:
        push(u16());
        break; // BININT2
      case 0x8a:
        push(signedLong(take(u8())));
        break; // LONG1
      case 0x8b:
        push(signedLong(take(u32())));
        break; // LONG4
      case 0x49: {
        // INT (text; "01"/"00" are protocol 0's True/False)
        const s = line();
        push(s === "01" ? true : s === "00" ? false : textInt(s));
        break;
      }
      case 0x4c:
        push(textInt(line()));
        break; // LONG (text)
      case 0x46: {
        // FLOAT (text)
        const s = line();
        if (!/^[+-]?(\d+\.?\d*([eE][+-]?\d+)?|inf|nan)$/i.test(s))
          fail(`'${s.slice(0, 40)}' is not a float`);
        push(
          /inf/i.test(s)
            ? s.startsWith("-")
              ? -Infinity
              : Infinity
            : /nan/i.test(s)
              ? NaN
              : Number(s),
        );
        break;
      }
      case 0x47:
        push(view.getFloat64(need(8), false));
        break; // BINFLOAT (big-endian)
      case 0x58:
        push(decodeUtf8(take(u32())));
        break; // BINUNICODE
      case 0x8c:
        push(decodeUtf8(take(u8())));
        break; // SHORT_BINUNICODE
      case 0x8d:
        push(decodeUtf8(take(u64())));
        break; // BINUNICODE8
      case 0x54:
        push(latin1.decode(take(view.getInt32(need(4), true))));
        break; // BINSTRING (Python 2 str)
      case 0x55:
        push(latin1.decode(take(u8())));
        break; // SHORT_BINSTRING
      case 0x42:
        push(take(u32()).slice());
        break; // BINBYTES
      case 0x43:
        push(take(u8()).slice());
        break; // SHORT_BINBYTES
      case 0x8e:
        push(take(u64()).slice());
        break; // BINBYTES8
      case 0x96:
        push(take(u64()).slice());
        break; // BYTEARRAY8
      case 0x29:
        push(tuple([]));
        break; // EMPTY_TUPLE
      case 0x74:
        push(tuple(popMark()));
        break; // TUPLE
      case 0x85:
        push(tuple([pop()]));
        break; // TUPLE1
      case 0x86: {
        const b = pop();
        const a = pop();
        push(tuple([a, b]));
        break;
      } // TUPLE2
      case 0x87: {
        const c = pop();
        const b = pop();
        const a = pop();
        push(tuple([a, b, c]));
        break;
      } // TUPLE3
      case 0x5d:
        push([]);
        break; // EMPTY_LIST
      case 0x6c:
        push(popMark());
        break; // LIST
      case 0x61: {
        const v = pop();
        asList(top()).push(v);
        break;
      } // APPEND
      case 0x65: {
        const items = popMark();
        const list = asList(top());
        for (const v of items) list.push(v);
        break;
      } // APPENDS
      case 0x7d:
        push(new Map());
        break; // EMPTY_DICT
      case 0x64: {
        const items = popMark();
        const d = new Map();
        setItems(d, items);
        push(d);
        break;
      } // DICT
      case 0x73: {
        const v = pop();
        const k = pop();
        setItems(top(), [k, v]);
        break;
      } // SETITEM
      case 0x75: {
        const items = popMark();
        setItems(top(), items);
        break;
      } // SETITEMS
      case 0x67:
        memoGet(textIndex(line()));
        break; // GET
      case 0x68:
        memoGet(u8());
        break; // BINGET
      case 0x6a:
        memoGet(u32());
        break; // LONG_BINGET
      case 0x70:
        memoPut(textIndex(line()));
        break; // PUT
      case 0x71:
        memoPut(u8());
        break; // BINPUT
      case 0x72:
        memoPut(u32());
        break; // LONG_BINPUT
      case 0x94:
        memoPut(memo.size);
        break; // MEMOIZE
      case 0x63: {
        const module = line();
        global(module, line());
        break;
      } // GLOBAL
      case 0x93: {
        // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== "string" || typeof name !== "string")
          fail("STACK_GLOBAL needs two strings");
        global(module as string, name as string);
        break;
      }
      case 0x52: {
        // REDUCE
        const args = pop();
        const callable = pop();
        if (!(callable instanceof PyGlobal) || !callable.call)
          fail(`REDUCE on ${pyTypeName(callable)}, which is not an allowed callable`);
        if (!Array.isArray(args) || !Object.isFrozen(args))
          fail(`REDUCE arguments are a ${pyTypeName(args)}, not a tuple`);
        push((callable as PyGlobal).call!(args as unknown[]));
        break;
      }
      case 0x62: {
        // BUILD: torch sets OrderedDict attributes (_metadata) this way; the state is not needed
        pop();
        const target = top();
        if (!(target instanceof Map)) fail(`BUILD on a ${pyTypeName(target)} is not supported`);
        break;
      }
      case 0x51:
        persistent(pop());
        break; // BINPERSID
      case 0x50:
        persistent(line());
        break; // PERSID
      default:
        fail(
          REFUSED_OPCODES[op]
            ? `opcode ${REFUSED_OPCODES[op]} is not allowed in a data-only pickle`
            : `unknown opcode 0x${op.toString(16).padStart(2, "0")}`,
        );
    }
  }
}
