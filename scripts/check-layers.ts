/**
 * The layer rule: which part of src/ may import which. Every import (static, re-export, dynamic `import()`,
 * `require()`) is resolved to the file it names, so `../activities/x.js` and `../../activities/x.js` are the
 * same edge, and a type-only import is told apart from a value import (the workflow sandbox needs that).
 * Biome's noRestrictedImports sees only the import's text, which is why this is a script of its own.
 *
 *   node --import tsx scripts/check-layers.ts [root]     (root defaults to the repository; checks root/src)
 */
import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import ts from 'typescript';
import { sourceFiles } from './source-files.js';

interface LayerRule {
  /** Layers this one may import values from (itself always). */
  may: readonly string[];
  /** Layers it may import types from, and only types. */
  typesFrom?: readonly string[];
  /** npm packages it may import; undefined: any. */
  packages?: readonly string[];
}

const SANDBOX_PACKAGES = ['@temporalio/workflow', '@temporalio/common', 'zod'];
const CORE = ['shared', 'config'];

/** The layers, bottom up. A layer is a folder of src/, or a file at its root (client.ts, worker.ts). */
export const LAYERS: Readonly<Record<string, LayerRule>> = {
  shared: { may: [], packages: SANDBOX_PACKAGES },
  workflows: { may: ['shared'], typesFrom: ['activities'], packages: SANDBOX_PACKAGES },
  config: { may: ['shared'] },
  executables: { may: [] },
  temporal: { may: [...CORE, 'executables'] },
  runtimes: { may: CORE },
  backends: { may: CORE },
  git: { may: [...CORE, 'runtimes'] },
  activities: { may: [...CORE, 'backends', 'runtimes', 'git'] },
  client: { may: [...CORE, 'temporal', 'git', 'workflows'] },
  worker: { may: [...CORE, 'executables', 'temporal', 'runtimes', 'backends', 'git', 'activities', 'workflows'] },
  cli: { may: [...CORE, 'executables', 'temporal', 'runtimes', 'backends', 'git', 'activities', 'workflows', 'client', 'worker'] },
};

/** Packages that one module wraps for the rest of Drover. */
export const WRAPPED_PACKAGES: Readonly<Record<string, string>> = {
  dockerode: 'runtimes/docker/engine.ts',
  'simple-git': 'git/git.ts',
};

export interface ImportEdge {
  from: string;
  spec: string;
  typeOnly: boolean;
  line: number;
}

export interface Violation {
  file: string;
  line: number;
  message: string;
}

/** Every import of one source file, with whether it brings in types only. */
export function importsOf(file: string, text = readFileSync(file, 'utf8')): ImportEdge[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const edges: ImportEdge[] = [];
  const add = (spec: ts.Expression | undefined, typeOnly: boolean, node: ts.Node) => {
    if (!spec || !ts.isStringLiteralLike(spec)) return;
    edges.push({ from: file, spec: spec.text, typeOnly, line: source.getLineAndCharacterOfPosition(node.getStart()).line + 1 });
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node)) add(node.moduleSpecifier, importIsTypeOnly(node), node);
    else if (ts.isExportDeclaration(node)) add(node.moduleSpecifier, exportIsTypeOnly(node), node);
    else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) add(node.argument.literal, true, node);
    else if (ts.isCallExpression(node) && isLoaderCall(node)) add(node.arguments[0], false, node);
    ts.forEachChild(node, visit);
  };
  visit(source);
  return edges;
}

function importIsTypeOnly(node: ts.ImportDeclaration): boolean {
  const clause = node.importClause;
  if (!clause) return false; // `import './x.js'` runs the module
  if (clause.isTypeOnly) return true;
  const named = clause.namedBindings;
  return !clause.name && !!named && ts.isNamedImports(named) && named.elements.length > 0 && named.elements.every((e) => e.isTypeOnly);
}

function exportIsTypeOnly(node: ts.ExportDeclaration): boolean {
  if (node.isTypeOnly) return true;
  const named = node.exportClause;
  return !!named && ts.isNamedExports(named) && named.elements.length > 0 && named.elements.every((e) => e.isTypeOnly);
}

const isLoaderCall = (node: ts.CallExpression) =>
  node.expression.kind === ts.SyntaxKind.ImportKeyword || (ts.isIdentifier(node.expression) && node.expression.text === 'require');

/** The layer of a file of src/: its top folder, or its own name for a file at the root. */
export function layerOf(srcDir: string, file: string): string {
  const [top = '', ...rest] = relative(srcDir, file).split(sep);
  return rest.length ? top : top.replace(/\.ts$/, '');
}

/** What is wrong with one import, or undefined. */
export function judge(srcDir: string, edge: ImportEdge): string | undefined {
  const layer = layerOf(srcDir, edge.from);
  const rule = LAYERS[layer];
  if (!rule) return `${layer} is not a known layer: add it to LAYERS in scripts/check-layers.ts`;
  if (!edge.spec.startsWith('.')) return judgePackage(srcDir, edge, layer, rule);
  const target = resolve(dirname(edge.from), edge.spec.replace(/\.js$/, '.ts'));
  if (!target.startsWith(srcDir + sep)) return `imports ${edge.spec}, outside src/`;
  const to = layerOf(srcDir, target);
  if (to === layer || rule.may.includes(to)) return undefined;
  if (edge.typeOnly && rule.typesFrom?.includes(to)) return undefined;
  const types = rule.typesFrom?.includes(to) ? ' (types only, with `import type`)' : '';
  return `${layer} may not import ${to}${types}: ${edge.spec}`;
}

function judgePackage(srcDir: string, edge: ImportEdge, layer: string, rule: LayerRule): string | undefined {
  if (edge.spec.startsWith('node:') && rule.packages && !edge.typeOnly) return `${layer} runs in the workflow sandbox: no ${edge.spec}`;
  const name = edge.spec.startsWith('@') ? edge.spec.split('/').slice(0, 2).join('/') : (edge.spec.split('/')[0] ?? '');
  const owner = WRAPPED_PACKAGES[name];
  if (owner && relative(srcDir, edge.from) !== owner) return `${name} is imported only by src/${owner}`;
  if (rule.packages && !edge.typeOnly && !edge.spec.startsWith('node:') && !rule.packages.includes(name)) {
    return `${layer} runs in the workflow sandbox: only ${rule.packages.join(', ')}, not ${name}`;
  }
  return undefined;
}

/** Every layer violation under root/src, and every loop of value imports (a loop makes load order matter). */
export function checkLayers(root: string): Violation[] {
  const srcDir = resolve(root, 'src');
  const edges = new Map(sourceFiles(srcDir).map((file) => [file, importsOf(file)] as const));
  const layered = [...edges].flatMap(([file, imports]) =>
    imports.flatMap((edge) => {
      const message = judge(srcDir, edge);
      return message ? [{ file: relative(root, file), line: edge.line, message }] : [];
    }),
  );
  return [...layered, ...importLoops(edges).map((loop) => loopViolation(root, loop))];
}

const targetOf = (edge: ImportEdge) => resolve(dirname(edge.from), edge.spec.replace(/\.js$/, '.ts'));

/** Loops of value imports between files, each found once (depth-first, by the edge that closes it). */
export function importLoops(edges: ReadonlyMap<string, ImportEdge[]>): string[][] {
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const loops: string[][] = [];
  const visit = (file: string): void => {
    state.set(file, 'open');
    path.push(file);
    for (const edge of edges.get(file) ?? []) {
      if (edge.typeOnly || !edge.spec.startsWith('.')) continue;
      const next = targetOf(edge);
      if (state.get(next) === 'open') loops.push([...path.slice(path.indexOf(next)), next]);
      else if (!state.has(next) && edges.has(next)) visit(next);
    }
    path.pop();
    state.set(file, 'done');
  };
  for (const file of edges.keys()) if (!state.has(file)) visit(file);
  return loops;
}

function loopViolation(root: string, loop: string[]): Violation {
  return { file: relative(root, loop[0] ?? ''), line: 1, message: `import loop: ${loop.map((f) => relative(root, f)).join(' -> ')}` };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const root = resolve(process.argv[2] ?? join(dirname(new URL(import.meta.url).pathname), '..'));
  const found = checkLayers(root);
  for (const v of found) process.stderr.write(`${v.file}:${v.line}: ${v.message}\n`);
  if (found.length) {
    process.stderr.write(`layers: ${found.length} import(s) break the layer rule (see CONTRIBUTING.md, "Layers")\n`);
    process.exit(1);
  }
  process.stdout.write('layers: src/ keeps to its layers\n');
}
