const MAX_LINE = 64 * 1024;

/** Turns a byte stream into lines; an over-long line is cut so one noisy process cannot eat the worker's memory. */
export function lineSplitter(onLine: (line: string) => void): { push(chunk: Buffer | string): void; end(): void } {
  let pending = '';
  return {
    push(chunk) {
      pending += chunk.toString();
      for (let nl = pending.indexOf('\n'); nl >= 0; nl = pending.indexOf('\n')) {
        onLine(pending.slice(0, nl).replace(/\r$/, '').slice(0, MAX_LINE));
        pending = pending.slice(nl + 1);
      }
      if (pending.length > MAX_LINE) {
        onLine(pending.slice(0, MAX_LINE));
        pending = '';
      }
    },
    end() {
      if (pending.length > 0) onLine(pending.replace(/\r$/, ''));
      pending = '';
    },
  };
}
