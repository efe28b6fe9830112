// A small reader of the OTLP protobuf payloads the real exporters send (`http/protobuf`): just
// enough of the wire format and of the trace and logs messages for the test receiver to see the
// same spans and log records it sees in `http/json`.
import type { TestLogRecord, TestSpan } from './otlp';

type Field = { no: number; wire: number; value: bigint | Uint8Array };

/** The fields of one protobuf message, in order. */
function fields(buf: Uint8Array): Field[] {
  const out: Field[] = [];
  let i = 0;
  const varint = (): bigint => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const b = buf[i++]!;
      result |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return result;
      shift += 7n;
    }
  };
  const fixed = (bytes: number): bigint => {
    let v = 0n;
    for (let k = bytes - 1; k >= 0; k--) v = (v << 8n) | BigInt(buf[i + k]!);
    i += bytes;
    return v;
  };
  while (i < buf.length) {
    const key = Number(varint());
    const no = key >> 3;
    const wire = key & 7;
    if (wire === 0) out.push({ no, wire, value: varint() });
    else if (wire === 1) out.push({ no, wire, value: fixed(8) });
    else if (wire === 5) out.push({ no, wire, value: fixed(4) });
    else if (wire === 2) {
      const len = Number(varint());
      out.push({ no, wire, value: buf.subarray(i, i + len) });
      i += len;
    } else throw new Error(`unsupported protobuf wire type ${wire}`);
  }
  return out;
}

const text = (v: Field['value']) => new TextDecoder().decode(v as Uint8Array);
const hex = (v: Field['value']) => Buffer.from(v as Uint8Array).toString('hex');
const all = (buf: Uint8Array, no: number) =>
  fields(buf)
    .filter((f) => f.no === no)
    .map((f) => f.value as Uint8Array);

function anyValue(buf: Uint8Array): unknown {
  const [f] = fields(buf);
  if (!f) return undefined;
  switch (f.no) {
    case 1:
      return text(f.value);
    case 2:
      return f.value === 1n;
    case 3:
      return Number(BigInt.asIntN(64, f.value as bigint));
    case 4: {
      const b = Buffer.alloc(8);
      b.writeBigUInt64LE(f.value as bigint);
      return b.readDoubleLE();
    }
    case 5:
      return all(f.value as Uint8Array, 1).map(anyValue);
    case 6:
      return keyValues(all(f.value as Uint8Array, 1));
    case 7:
      return Buffer.from(f.value as Uint8Array).toString('base64');
    default:
      return undefined;
  }
}

function keyValues(list: Uint8Array[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const kv of list) {
    const fs = fields(kv);
    const key = fs.find((f) => f.no === 1);
    const value = fs.find((f) => f.no === 2);
    if (key) out[text(key.value)] = value ? anyValue(value.value as Uint8Array) : undefined;
  }
  return out;
}

/** The log records of an `ExportLogsServiceRequest`. */
export function decodeLogsRequest(buf: Uint8Array): TestLogRecord[] {
  const out: TestLogRecord[] = [];
  for (const rl of all(buf, 1))
    for (const sl of all(rl, 2))
      for (const lr of all(sl, 2)) {
        const fs = fields(lr);
        const body = fs.find((f) => f.no === 5);
        const name = fs.find((f) => f.no === 12);
        out.push({
          eventName: name ? text(name.value) : undefined,
          body: body ? anyValue(body.value as Uint8Array) : undefined,
          attributes: keyValues(fs.filter((f) => f.no === 6).map((f) => f.value as Uint8Array)),
        });
      }
  return out;
}

/** The spans of an `ExportTraceServiceRequest`. */
export function decodeTraceRequest(buf: Uint8Array): TestSpan[] {
  const out: TestSpan[] = [];
  for (const rs of all(buf, 1))
    for (const ss of all(rs, 2))
      for (const sp of all(ss, 2)) {
        const fs = fields(sp);
        const one = (no: number) => fs.find((f) => f.no === no)?.value;
        const status = one(15) as Uint8Array | undefined;
        const statusFields = status ? fields(status) : [];
        const parent = one(4) as Uint8Array | undefined;
        out.push({
          name: text(one(5) ?? new Uint8Array()),
          kind: Number(one(6) ?? 0n),
          traceId: hex(one(1) ?? new Uint8Array()),
          spanId: hex(one(2) ?? new Uint8Array()),
          parentSpanId: parent?.length ? hex(parent) : undefined,
          attributes: keyValues(fs.filter((f) => f.no === 9).map((f) => f.value as Uint8Array)),
          status: {
            code: Number(statusFields.find((f) => f.no === 3)?.value ?? 0n) || undefined,
            message: statusFields.find((f) => f.no === 2) ? text(statusFields.find((f) => f.no === 2)!.value) : undefined,
          },
          events: fs
            .filter((f) => f.no === 11)
            .map((f) => {
              const ev = fields(f.value as Uint8Array);
              return { name: text(ev.find((e) => e.no === 2)?.value ?? new Uint8Array()), attributes: keyValues(ev.filter((e) => e.no === 3).map((e) => e.value as Uint8Array)) };
            }),
          startNs: (one(7) as bigint | undefined) ?? 0n,
          endNs: (one(8) as bigint | undefined) ?? 0n,
        });
      }
  return out;
}
