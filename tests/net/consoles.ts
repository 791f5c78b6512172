/** One machine's console from `rewind group`'s output, where each line is prefixed with `[name] `. */
export function consoleOf(stdout: string, name: string): string {
  const prefix = `[${name}] `;
  return stdout
    .split(/(?<=\n)/)
    .filter((line) => line.startsWith(prefix))
    .map((line) => line.slice(prefix.length))
    .join('');
}
