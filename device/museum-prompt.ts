/**
 * Where `hedgerow box assign`'s questions go and answers come from: the terminal, or a script in
 * tests. A pipe works like a keyboard: one line per answer, Enter is an empty line. Lines that come
 * before their question (a script piped in at once) wait in order for it; readline's own question()
 * would drop them.
 */
import { createInterface } from 'node:readline';

export interface AskOptions {
  /** Aborting rejects the question (a take that ends by its time limit). */
  signal?: AbortSignal | undefined;
  /**
   * Only a line typed from now on answers it, as a key pressed while recording; lines already waiting
   * stay for the questions after it.
   */
  fresh?: boolean | undefined;
}

export interface Prompt {
  say(line: string): void;
  /** The answer, trimmed. */
  ask(question: string, options?: AskOptions): Promise<string>;
  /** Redraws the status line (the recording's level meter) in place; without a terminal, prints it as a line. */
  status(line: string): void;
  /** True when status lines redraw in place (a terminal), so they may come often. */
  readonly live: boolean;
  close(): void;
}

export class InputEndedError extends Error {
  constructor(question: string) {
    super(`the input ended before an answer to "${question.trim()}": run the command again and answer each question`);
    this.name = 'InputEndedError';
  }
}

export function terminalPrompt(input: NodeJS.ReadableStream = process.stdin, output: NodeJS.WritableStream = process.stdout): Prompt {
  const live = (output as NodeJS.WriteStream).isTTY === true;
  // Output only for a terminal's echo; questions are written here.
  const lines = createInterface({ input, ...(live ? { output } : {}), terminal: live });
  const early: string[] = [];
  const waiting: { take: (line: string | null) => void }[] = [];
  let ended = false;
  lines.on('line', (line) => {
    const waiter = waiting.shift();
    if (waiter) waiter.take(line);
    else early.push(line);
  });
  lines.on('close', () => {
    ended = true;
    for (const waiter of waiting.splice(0)) waiter.take(null);
  });
  let statusShown = false;
  const endStatus = () => {
    if (statusShown) output.write('\n');
    statusShown = false;
  };
  return {
    say: (line) => {
      endStatus();
      output.write(`${line}\n`);
    },
    ask: (question, options = {}) => {
      endStatus();
      output.write(question);
      if (!options.fresh && early.length > 0) return Promise.resolve(early.shift()!.trim());
      if (ended) return Promise.reject(new InputEndedError(question));
      return new Promise<string>((resolve, reject) => {
        const waiter = {
          take: (line: string | null) => {
            options.signal?.removeEventListener('abort', onAbort);
            if (line === null) reject(new InputEndedError(question));
            else resolve(line.trim());
          },
        };
        const onAbort = () => {
          const at = waiting.indexOf(waiter);
          if (at >= 0) waiting.splice(at, 1);
          reject(new DOMException('the question was withdrawn', 'AbortError'));
        };
        if (options.signal?.aborted) return onAbort();
        options.signal?.addEventListener('abort', onAbort, { once: true });
        // A fresh question goes first, so a line typed now answers it and not one asked before it.
        if (options.fresh) waiting.unshift(waiter);
        else waiting.push(waiter);
      });
    },
    status: (line) => {
      if (!live) return void output.write(`${line}\n`);
      output.write(`\r\x1b[2K${line}`);
      statusShown = true;
    },
    live,
    close: () => lines.close(),
  };
}
