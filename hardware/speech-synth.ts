/**
 * Typed text to a spoken WAV file with espeak-ng, so a teacher without a microphone can still give
 * every object its story. The file appears complete or not at all (written beside, then renamed).
 */
import { spawn } from 'node:child_process';
import { rename, rm } from 'node:fs/promises';

/** espeak-ng voice names: a language code with optional variants, e.g. en, en-gb, fr, pt-br, cmn. */
const LANGUAGE = /^[a-z]{2,3}(-[a-z0-9]+)*$/i;
/** Words per minute; a little slower than espeak-ng's 175 for young listeners. */
export const DEFAULT_WORDS_PER_MINUTE = 150;

export class SpeechError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SpeechError';
  }
}

export interface SpeakOptions {
  /** espeak-ng voice / language, e.g. "en", "fr", "de". */
  language: string;
  /** The WAV file to write. */
  out: string;
  wordsPerMinute?: number;
  /** The espeak-ng binary. Default "espeak-ng". */
  command?: string;
}

export async function speakToWav(text: string, options: SpeakOptions): Promise<void> {
  if (text.trim() === '') throw new SpeechError('there is no text to speak');
  if (!LANGUAGE.test(options.language)) {
    throw new SpeechError(`"${options.language}" is not a language code: use one such as en, fr, de or pt-br (\`espeak-ng --voices\` lists them)`);
  }
  const command = options.command ?? 'espeak-ng';
  const partial = `${options.out}.partial-${process.pid}.wav`;
  const args = ['-v', options.language, '-s', String(options.wordsPerMinute ?? DEFAULT_WORDS_PER_MINUTE), '-w', partial, '--stdin'];
  const { code, stderr } = await new Promise<{ code: number | string; stderr: string }>((resolve) => {
    const child = spawn(command, args, { stdio: ['pipe', 'ignore', 'pipe'] });
    let errors = '';
    child.stderr.on('data', (chunk: Buffer) => (errors += chunk.toString()));
    child.on('error', (error: NodeJS.ErrnoException) => resolve({ code: error.code ?? 'error', stderr: errors }));
    child.on('close', (exit) => resolve({ code: exit ?? -1, stderr: errors }));
    child.stdin.on('error', () => undefined);
    child.stdin.end(text);
  });
  if (code !== 0) {
    await rm(partial, { force: true });
    if (code === 'ENOENT') throw new SpeechError(`${command} is not installed: sudo apt install espeak-ng`);
    const detail = stderr.trim().split('\n')[0] ?? '';
    throw new SpeechError(
      /voice/i.test(detail)
        ? `espeak-ng has no voice "${options.language}": pick one that \`espeak-ng --voices\` lists`
        : `espeak-ng failed (exit ${code}${detail ? `: ${detail}` : ''})`,
    );
  }
  await rename(partial, options.out);
}
