/**
 * The blocks of a tar stream, for writing one entry by entry from files and generated text without
 * staging them in a folder first: node-tar's Header and Pax encode the headers (a pax header carries
 * a path too long for ustar's 100 + 155 bytes), and this adds the padding and the end.
 */
import { Header, Pax, type HeaderData } from 'tar';

const BLOCK = 512;

/** Two zero blocks end a tar archive. */
export const TAR_END = Buffer.alloc(2 * BLOCK);

/** The header block(s) of one entry: a pax header first when a field does not fit ustar's. */
export function tarHeader(data: HeaderData): Buffer {
  const header = new Header(data);
  const needPax = header.encode();
  if (!header.block) throw new Error(`tar header for ${data.path} could not be encoded`);
  if (!needPax) return header.block;
  const pax = new Pax({ path: data.path, linkpath: data.linkpath, size: data.size, mtime: data.mtime }).encode();
  return Buffer.concat([pax, header.block]);
}

/** Zeros that bring an entry's body of `size` bytes to a whole block. */
export function tarPadding(size: number): Buffer {
  return Buffer.alloc((BLOCK - (size % BLOCK)) % BLOCK);
}
