/**
 * Where `hedgerow box assign`'s questions go and answers come from: the terminal, or a script in
 * tests. A pipe works like a keyboard: one line per answer, Enter is an empty line.
 */
import { createInterface } from 'node:readline/promises';

export interface Prompt {
  say(line: string): void;
  /** The answer, trimmed; an aborted `signal` rejects it (a take that ends by its time limit). */
  ask(question: string, options?: { signal?: AbortSignal }): Promise<string>;
  /** Redraws the status line (the recording's level meter) in place; without a terminal, prints it as a line. */
  status(line: string): void;
  /** True when status lines redraw in place (a terminal), so they may come often. */
  readonly live: boolean;
  close(): void;
}

export function terminalPrompt(input: NodeJS.ReadableStream = process.stdin, output: NodeJS.WritableStream = process.stdout): Prompt {
  const lines = createInterface({ input, output });
  const live = (output as NodeJS.WriteStream).isTTY === true;
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
    ask: async (question, options) => {
      endStatus();
      return (await lines.question(question, options?.signal ? { signal: options.signal } : {})).trim();
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
