import { statSync } from 'node:fs';

export function isFile(file: string): boolean {
  try {
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

/**
 * Whether the arguments could be a run of a file: a word that names a file, and no --help. The bin asks it
 * before it loads a bundle, and loads nothing for it: it knows no command names (command-names.ts's isPlainRun
 * does).
 */
export function looksLikeRun(args: readonly string[]): boolean {
  if (args.some((a) => a === '-h' || a === '--help')) return false;
  return args.some((a) => !a.startsWith('-') && isFile(a));
}
