/** A question at the terminal on stderr (stdout stays for results); a secret answer is not echoed. */
import { createInterface } from 'node:readline';

export function promptAtTerminal(question: string, options: { secret: boolean }): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  if (options.secret) {
    // readline echoes through _writeToOutput; printing nothing for the typed characters hides them.
    (rl as unknown as { _writeToOutput: (s: string) => void })._writeToOutput = (s: string) => {
      if (s.startsWith(question)) process.stderr.write(question);
    };
  }
  return new Promise((resolve) => {
    rl.question(question, (answer) => {
      rl.close();
      if (options.secret) process.stderr.write('\n');
      resolve(answer);
    });
  });
}
