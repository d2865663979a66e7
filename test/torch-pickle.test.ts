/**
 * Unit tests of the data-only unpickler (values, refusals, resource caps, truncation) and of the zip
 * reader (torch fixtures, ZIP64, compressed/corrupt/missing records), using Python-made pickles and
 * the in-memory writers of test/helpers/torch-writers.ts.
 */
import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { PyGlobal, unpickle, type AllowedGlobals } from "../src/torch/pickle";
import { bytesReader, type RandomAccessReader } from "../src/torch/reader";
import { crc32, openZip } from "../src/torch/zip";
import { global, pickle, reduce, tuple, zipStored } from "./helpers/torch-writers";
import { PickleError, ZipError } from "../src/errors";

const hex = (s: string) => Uint8Array.from(s.match(/../g)!.map((b) => parseInt(b, 16)));
const ascii = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
const none: AllowedGlobals = new Map();
const load = (bytes: Uint8Array, globals: AllowedGlobals = none) =>
  unpickle(bytes, { globals }).value;

function pickleError(f: () => unknown): PickleError {
  try {
    f();
  } catch (e) {
    if (e instanceof PickleError) return e;
    throw e;
  }
  throw new Error("expected a PickleError");
}

describe("unpickle: values", () => {
  it("reads protocol 0 text opcodes (Python: pickle.dumps([1, -2, 123, 1.5, None, True, 10**20], protocol=0))", () => {
    const v = load(ascii("(lp0\nI1\naI-2\naI123\naF1.5\naNaI01\naL100000000000000000000L\na."));
    expect(v).toEqual([1, -2, 123, 1.5, null, true, 10n ** 20n]);
  });

  it("reads protocol 4 frames, memoize and short strings, with ints, floats, bytes, tuples and UTF-8", () => {
    // pickle.dumps({'a': (1, 2.5, b'xy', None, True), 'b': [10**20, -1, -300, 70000, -(2**40)], 'c': 'héllo'}, protocol=4)
    const v = load(
      hex(
        "80049555000000000000007d94288c016194284b0147400400000000000043027879944e8874948c0162945d94288a09000010632d5ec76b054affffffff4ad4feffff4a701101008a060000000000ff658c0163948c0668c3a96c6c6f94752e",
      ),
    ) as Map<string, unknown>;
    expect([...v.keys()]).toEqual(["a", "b", "c"]);
    const a = v.get("a") as unknown[];
    expect(Object.isFrozen(a)).toBe(true); // tuples are frozen arrays, lists are not
    expect(a).toEqual([1, 2.5, new Uint8Array([0x78, 0x79]), null, true]);
    expect(v.get("b")).toEqual([10n ** 20n, -1, -300, 70000, -(2 ** 40)]);
    expect(Object.isFrozen(v.get("b"))).toBe(false);
    expect(v.get("c")).toBe("héllo");
  });

  it("shares memoised objects like Python does", () => {
    // x = []; pickle.dumps([x, x], protocol=2)
    const v = load(hex("80025d7100285d71016801652e")) as unknown[][];
    expect(v).toHaveLength(2);
    expect(v[0]).toBe(v[1]);
  });

  it("gives allow-listed globals to REDUCE through our handler only, and returns the end offset", () => {
    const calls: unknown[] = [];
    const globals: AllowedGlobals = new Map([
      [
        "mod.make",
        (args: readonly unknown[]) => {
          calls.push(args);
          return { made: args[0] };
        },
      ],
      ["mod.Type", null],
    ]);
    const bytes = pickle(tuple(reduce(global("mod.make"), 7), global("mod.Type")));
    const { value, end } = unpickle(new Uint8Array([...bytes, 0xde, 0xad]), { globals });
    expect(end).toBe(bytes.byteLength);
    const [made, type] = value as [unknown, PyGlobal];
    expect(made).toEqual({ made: 7 });
    expect(calls).toEqual([[7]]);
    expect(type).toBeInstanceOf(PyGlobal);
    expect(type.qualname).toBe("mod.Type");
  });
});

describe("unpickle: refusals", () => {
  it("refuses a global that is not allow-listed, naming it (os.system)", () => {
    const e = pickleError(() => load(ascii("\x80\x02cos\nsystem\nX\x02\x00\x00\x00ls\x85R.")));
    expect(e.message).toContain("global 'os.system' is not allowed");
  });

  it("refuses STACK_GLOBAL of builtins.eval", () => {
    const e = pickleError(() => load(hex("80048c086275696c74696e73948c046576616c9493942e")));
    expect(e.message).toContain("'builtins.eval' is not allowed");
  });

  it("refuses protocol-2 bytes, which Python rebuilds through _codecs.encode", () => {
    // pickle.dumps(b'xy', protocol=2)
    expect(
      pickleError(() =>
        load(
          hex(
            "8002635f636f646563730a656e636f64650a71005802000000787971015806000000" +
              "6c6174696e3171028671035271042e",
          ),
        ),
      ).message,
    ).toContain("_codecs.encode");
  });

  it("refuses REDUCE on a value-only global and on a non-global", () => {
    const globals: AllowedGlobals = new Map([["torch.FloatStorage", null]]);
    expect(
      pickleError(() => load(pickle(reduce(global("torch.FloatStorage"))), globals)).message,
    ).toContain("not an allowed callable");
    expect(pickleError(() => load(ascii("\x80\x02K\x01)R."))).message).toContain(
      "REDUCE on number",
    );
  });

  it.each([
    ["INST", "\x80\x02(ios\nsystem\n."],
    ["OBJ", "\x80\x02(o."],
    ["NEWOBJ", "\x80\x02NN\x81."],
    ["EXT1", "\x80\x02\x82\x01."],
    ["NEXT_BUFFER", "\x80\x05\x97."],
  ])("refuses the %s opcode", (name, bytes) => {
    expect(pickleError(() => load(ascii(bytes))).message).toContain(
      `opcode ${name} is not allowed`,
    );
  });

  it("refuses unknown opcodes, future protocols, persistent ids without a handler and BUILD on non-dicts", () => {
    expect(pickleError(() => load(ascii("\x80\x02\xff."))).message).toContain(
      "unknown opcode 0xff",
    );
    expect(pickleError(() => load(ascii("\x80\x06N."))).message).toContain("protocol 6");
    expect(pickleError(() => load(ascii("\x80\x02K\x01Q."))).message).toContain(
      "persistent ids are not allowed",
    );
    expect(pickleError(() => load(ascii("\x80\x02]Nb."))).message).toContain("BUILD on a list");
  });

  it("refuses malformed structure: underflow, pops below a MARK, missing memo keys, odd SETITEMS, unhashable keys", () => {
    expect(pickleError(() => load(ascii("\x80\x020."))).message).toContain("stack underflow");
    expect(pickleError(() => load(ascii("\x80\x02K\x01(0."))).message).toContain("stack underflow");
    expect(pickleError(() => load(ascii("\x80\x02h\x05."))).message).toContain("memo key 5");
    expect(pickleError(() => load(ascii("\x80\x02}(K\x01u."))).message).toContain("odd number");
    expect(pickleError(() => load(ascii("\x80\x02}]K\x01s."))).message).toContain(
      "dict key of type list",
    );
    expect(pickleError(() => load(ascii("\x80\x02)K\x01a."))).message).toContain(
      "APPEND to a tuple",
    );
    expect(pickleError(() => load(ascii("\x80\x02X\x02\x00\x00\x00\xff\xfe."))).message).toContain(
      "not valid UTF-8",
    );
  });
});

describe("unpickle: resource caps", () => {
  it("checks string and bytes lengths against the remaining input before allocating, and flags truncation", () => {
    const e = pickleError(() => load(ascii("\x80\x02X\xff\xff\xff\x7fabc")));
    expect(e.truncated).toBe(true);
    expect(e.message).toContain("needs 2147483647 more bytes");
    expect(
      pickleError(() => load(ascii("\x80\x04\x8e\xff\xff\xff\xff\xff\xff\xff\xff"))).truncated,
    ).toBe(true);
    expect(pickleError(() => load(ascii("\x80\x02T\xff\xff\xff\xff."))).message).toContain(
      "negative length",
    );
  });

  it("reports every prefix of a state-dict-like pickle as truncated, never as a crash", () => {
    const globals: AllowedGlobals = new Map<string, ((a: readonly unknown[]) => unknown) | null>([
      ["collections.OrderedDict", () => new Map()],
      ["torch._utils._rebuild_tensor_v2", (a) => a],
      ["torch.FloatStorage", null],
    ]);
    const full = pickle(
      new Map([
        ["w", tuple(1, 2, 3)],
        ["b", [1.5, "x", null]],
      ]) as never,
    );
    for (let n = 0; n < full.byteLength; n++) {
      const e = pickleError(() => unpickle(full.subarray(0, n), { globals }));
      expect(e.truncated, `prefix ${n}`).toBe(true);
    }
  });

  it("caps the memo, the MARK nesting, the stack, the object count and long integers", () => {
    const memo = ascii("\x80\x02N" + "q\x00q\x01q\x02q\x03" + ".");
    expect(
      pickleError(() => unpickle(memo, { globals: none, limits: { maxMemo: 3 } })).message,
    ).toContain("memo larger than 3");
    const marks = ascii("\x80\x02" + "(".repeat(20) + ".");
    expect(
      pickleError(() => unpickle(marks, { globals: none, limits: { maxMarkDepth: 10 } })).message,
    ).toContain("MARKs nested deeper than 10");
    const dups = ascii("\x80\x02N" + "2".repeat(50) + ".");
    expect(
      pickleError(() => unpickle(dups, { globals: none, limits: { maxStack: 20 } })).message,
    ).toContain("stack deeper than 20");
    expect(
      pickleError(() => unpickle(dups, { globals: none, limits: { maxObjects: 30 } })).message,
    ).toContain("more than 30 values");
    const long4 = new Uint8Array([
      0x80,
      0x02,
      0x8b,
      0x00,
      0x10,
      0x00,
      0x00,
      ...new Uint8Array(4096),
      0x2e,
    ]);
    expect(pickleError(() => load(long4)).message).toContain("integer of 4096 bytes");
    // Defaults still allow what torch needs: the real fixture pickles are parsed in convert.test.ts.
  });

  it("runs a hostile pickle of self-referencing, re-appended lists in linear time", () => {
    // A list appended to itself 40k times (80k values, under maxPickleObjects): cycles and sharing
    // are references, never copies.
    const body = "]q\x00" + "h\x00h\x00a".repeat(40_000);
    const t0 = performance.now();
    const v = load(ascii("\x80\x02" + body + ".")) as unknown[];
    expect(v).toHaveLength(40_000);
    expect(v[0]).toBe(v);
    expect(performance.now() - t0).toBeLessThan(2000);
  });
});

describe("zip reader", () => {
  const fixture = new Uint8Array(readFileSync("test/fixtures/tiny-a/gen.pt"));

  /** Wraps a reader to record the reads made, to check nothing is read whole. */
  function counting(r: RandomAccessReader) {
    const reads: number[] = [];
    return {
      reads,
      reader: {
        size: r.size,
        read: (o: number, n: number) => {
          reads.push(n);
          return r.read(o, n);
        },
      },
    };
  }

  it("lists a torch zip's STORED records and reads each with a matching CRC, by positioned reads", async () => {
    const { reads, reader } = counting(bytesReader(fixture));
    const zip = await openZip(reader);
    expect(zip.entries.size).toBe(82);
    expect(reads.reduce((a, b) => a + b, 0)).toBeLessThan(80_000); // the end record window and the directory only
    const version = await zip.read(zip.entry("gen/version"));
    expect(new TextDecoder().decode(version)).toBe("3\n");
    const data = await zip.read(zip.entry("gen/data/0"));
    expect(data.byteLength).toBe(1176 * 4);
  });

  it("reads ZIP64 end records and extra fields the same as plain ones", async () => {
    const entries = [
      { name: "a/x", data: new Uint8Array([1, 2, 3]) },
      { name: "a/y", data: new Uint8Array(1000).fill(7) },
    ];
    for (const zip64 of [false, true]) {
      const zip = await openZip(bytesReader(zipStored(entries, zip64)));
      expect([...zip.entries.keys()]).toEqual(["a/x", "a/y"]);
      expect(await zip.read(zip.entry("a/y"))).toEqual(entries[1]!.data);
    }
  });

  it("names a missing record, a compressed record and a CRC mismatch", async () => {
    const good = zipStored([{ name: "a/x", data: new Uint8Array([1, 2, 3]) }]);
    const zip = await openZip(bytesReader(good));
    expect(() => zip.entry("a/data/5")).toThrow(/no record 'a\/data\/5'/);
    const deflated = good.slice();
    deflated[8] = 8; // local header method
    const cd = deflated.length - 22 - (46 + 3);
    deflated[cd + 10] = 8; // central directory method
    await expect(
      (await openZip(bytesReader(deflated))).read(
        (await openZip(bytesReader(deflated))).entry("a/x"),
      ),
    ).rejects.toThrow(/compressed \(method 8\)/);
    const flipped = good.slice();
    flipped[33] = flipped[33]! ^ 1; // first data byte
    const z2 = await openZip(bytesReader(flipped));
    await expect(z2.read(z2.entry("a/x"))).rejects.toThrow(ZipError);
    await expect(z2.read(z2.entry("a/x"))).rejects.toThrow(/CRC-32/);
  });

  it("rejects truncated and non-zip files clearly", async () => {
    await expect(openZip(bytesReader(fixture.subarray(0, fixture.length - 100)))).rejects.toThrow(
      /no end-of-central-directory record/,
    );
    await expect(openZip(bytesReader(new Uint8Array(10)))).rejects.toThrow(/too short/);
    // The end record survives but the directory it points at is cut away.
    const tail = fixture.subarray(fixture.length - 22);
    const cut = new Uint8Array([...fixture.subarray(0, 1000), ...tail]);
    await expect(openZip(bytesReader(cut))).rejects.toThrow(/central directory .* runs past/);
  });

  it("computes the standard CRC-32", () => {
    expect(crc32(ascii("123456789"))).toBe(0xcbf43926);
    expect(crc32(ascii("56789"), crc32(ascii("1234")))).toBe(0xcbf43926);
  });
});
