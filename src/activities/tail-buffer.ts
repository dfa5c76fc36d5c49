/** Keeps the last `limit` characters of a process's output, for a bounded summary. */
export function tailBuffer(limit: number) {
  let text = '';
  return {
    add(line: string) {
      text += `${line}\n`;
      if (text.length > limit * 2) text = text.slice(-limit);
    },
    get value() {
      return text.length > limit ? text.slice(-limit) : text;
    },
  };
}
