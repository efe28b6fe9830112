/** A small multipart/form-data parser (fields and files), enough for the upload endpoints. */

export interface MultipartFile {
  field: string;
  filename: string;
  contentType: string;
  data: Buffer;
}

export interface MultipartForm {
  fields: Record<string, string | string[]>;
  files: MultipartFile[];
}

export function boundaryOf(contentType: string | undefined): string | undefined {
  const m = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(contentType ?? '');
  return m ? (m[1] ?? m[2])!.trim() : undefined;
}

export function parseMultipart(body: Buffer, boundary: string): MultipartForm {
  const form: MultipartForm = { fields: {}, files: [] };
  const delimiter = Buffer.from(`--${boundary}`);
  let pos = body.indexOf(delimiter);
  while (pos >= 0) {
    let start = pos + delimiter.length;
    if (body.subarray(start, start + 2).toString() === '--') break;
    if (body.subarray(start, start + 2).toString() === '\r\n') start += 2;
    const next = body.indexOf(delimiter, start);
    if (next < 0) break;
    let end = next;
    if (body.subarray(end - 2, end).toString() === '\r\n') end -= 2;
    addPart(form, body.subarray(start, end));
    pos = next;
  }
  return form;
}

function addPart(form: MultipartForm, part: Buffer): void {
  const split = part.indexOf('\r\n\r\n');
  if (split < 0) return;
  const headers = part.subarray(0, split).toString('utf8');
  const data = part.subarray(split + 4);
  const disposition = /content-disposition:([^\r\n]*)/i.exec(headers)?.[1] ?? '';
  const name = /\bname="([^"]*)"/i.exec(disposition)?.[1];
  if (name === undefined) return;
  const filename = /\bfilename="([^"]*)"/i.exec(disposition)?.[1];
  if (filename !== undefined) {
    const contentType = /content-type:\s*([^\r\n]*)/i.exec(headers)?.[1]?.trim() ?? 'application/octet-stream';
    form.files.push({ field: name, filename, contentType, data: Buffer.from(data) });
    return;
  }
  const value = data.toString('utf8');
  const existing = form.fields[name];
  if (existing === undefined) form.fields[name] = value;
  else form.fields[name] = Array.isArray(existing) ? [...existing, value] : [existing, value];
}
