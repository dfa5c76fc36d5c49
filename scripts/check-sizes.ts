/**
 * Size limits for src/: no function over 60 lines, no file over 300, unless the file's leading comment says
 * why with a line `long: <reason>`. A function's lines are counted from its first line to its last, nested
 * functions included: a factory that returns twenty methods is long, whatever its methods are.
 *
 *   node --import tsx scripts/check-sizes.ts [root]      (root defaults to the repository; checks root/src)
 */
import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import ts from 'typescript';
import { sourceFiles } from './source-files.js';

export const MAX_FUNCTION_LINES = 60;
export const MAX_FILE_LINES = 300;

export interface Oversize {
  file: string;
  line: number;
  what: string;
  lines: number;
  limit: number;
}

/** The reason a file gives in its leading comment for being allowed to be long, if any. */
export function longReason(text: string): string | undefined {
  const leading = /^(?:\s*(?:\/\/[^\n]*|\/\*[\s\S]*?\*\/))+/.exec(text)?.[0] ?? '';
  return /^[\s/*]*long:\s*(\S.*)$/m.exec(leading)?.[1];
}

const nameOf = (node: ts.Node, source: ts.SourceFile): string => {
  const named = node as { name?: ts.Node };
  if (named.name) return named.name.getText(source);
  const parent = node.parent;
  if (ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent) || ts.isPropertyDeclaration(parent)) {
    return parent.name.getText(source);
  }
  return '(anonymous)';
};

const isFunction = (node: ts.Node): node is ts.FunctionLikeDeclaration =>
  ts.isFunctionDeclaration(node) ||
  ts.isFunctionExpression(node) ||
  ts.isArrowFunction(node) ||
  ts.isMethodDeclaration(node) ||
  ts.isConstructorDeclaration(node) ||
  ts.isGetAccessorDeclaration(node) ||
  ts.isSetAccessorDeclaration(node);

/** Functions of one file over the limit, and the file itself if it is. */
export function oversizeIn(file: string, text = readFileSync(file, 'utf8')): Oversize[] {
  if (longReason(text)) return [];
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const lineOf = (pos: number) => source.getLineAndCharacterOfPosition(pos).line + 1;
  const found: Oversize[] = [];
  const fileLines = text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
  if (fileLines > MAX_FILE_LINES) found.push({ file, line: 1, what: 'file', lines: fileLines, limit: MAX_FILE_LINES });
  const visit = (node: ts.Node): void => {
    if (isFunction(node) && node.body) {
      const first = lineOf(node.getStart(source));
      const lines = lineOf(node.end) - first + 1;
      if (lines > MAX_FUNCTION_LINES) {
        found.push({ file, line: first, what: `function ${nameOf(node, source)}`, lines, limit: MAX_FUNCTION_LINES });
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

export function checkSizes(root: string): Oversize[] {
  return sourceFiles(resolve(root, 'src')).flatMap((file) => oversizeIn(file).map((o) => ({ ...o, file: relative(root, file) })));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const root = resolve(process.argv[2] ?? join(dirname(new URL(import.meta.url).pathname), '..'));
  const found = checkSizes(root);
  for (const o of found) process.stderr.write(`${o.file}:${o.line}: ${o.what} is ${o.lines} lines (limit ${o.limit})\n`);
  if (found.length) {
    process.stderr.write(`sizes: ${found.length} over the limit: split them, or say why at the top of the file ("long: ...")\n`);
    process.exit(1);
  }
  process.stdout.write(`sizes: no function in src/ over ${MAX_FUNCTION_LINES} lines, no file over ${MAX_FILE_LINES}\n`);
}
