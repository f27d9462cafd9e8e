import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import type { DatasetContentFile } from '../../../cloud/engine/engine.ts';

/** A dataset content's CSV as text, read through the store's chunks as the download route reads it. */
export async function contentText(file: DatasetContentFile): Promise<string> {
  return text(Readable.from(file.chunks()));
}
