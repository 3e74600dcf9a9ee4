/**
 * The import graph of the source, read with the TypeScript compiler API. An edge is
 * `runtime` when the import survives compilation: TypeScript (and esbuild, which tsx and
 * the Lambda build use) drops `import type`, and imports whose names are used only as
 * types. What survives is read from TypeScript's own CommonJS output, so the graph is
 * the one Node loads.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

export interface ImportEdge {
  from: string;
  to: string;
  /** False for an import that only types use (dropped from the JavaScript). */
  runtime: boolean;
}

/** The .ts files under `dirs` (relative to `root`, with `/`), sorted. */
export function sourceFiles(root: string, dirs: string[]): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(path.join(root, dir), { withFileTypes: true })) {
      const rel = path.posix.join(dir, e.name);
      if (e.isDirectory()) walk(rel);
      else if (rel.endsWith('.ts') && !rel.endsWith('.d.ts')) out.push(rel);
    }
  };
  for (const d of dirs) if (existsSync(path.join(root, d))) walk(d);
  return out.sort();
}

function resolve(root: string, from: string, specifier: string): string | null {
  const base = path.posix.normalize(path.posix.join(path.posix.dirname(from), specifier));
  for (const candidate of [base, `${base}.ts`, `${base}/index.ts`]) {
    const abs = path.join(root, candidate);
    if (existsSync(abs) && statSync(abs).isFile()) return candidate;
  }
  return null;
}

/** Relative imports of one file's text: every one (type-only included), and those left in its JavaScript. */
export function importsOf(fileName: string, text: string): { all: string[]; runtime: string[] } {
  const all = ts.preProcessFile(text, true, true).importedFiles.map((f) => f.fileName);
  const js = ts.transpileModule(text, {
    fileName,
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
  }).outputText;
  const runtime = [...js.matchAll(/\brequire\((["'])([^"']+)\1\)/g)].map((m) => m[2]!);
  const local = (s: string) => s.startsWith('.');
  return { all: [...new Set(all.filter(local))], runtime: [...new Set(runtime.filter(local))] };
}

/** Every relative import between the files, with whether it is a runtime one. */
export function importGraph(root: string, files: string[]): ImportEdge[] {
  const edges: ImportEdge[] = [];
  for (const from of files) {
    const { all, runtime } = importsOf(from, readFileSync(path.join(root, from), 'utf8'));
    const live = new Set(runtime.map((s) => resolve(root, from, s)));
    for (const s of new Set([...all, ...runtime])) {
      const to = resolve(root, from, s);
      if (to) edges.push({ from, to, runtime: live.has(to) });
    }
  }
  return edges;
}

/** The cycles of a directed graph: its strongly connected components of two nodes or more, each sorted. */
export function cycles(edges: { from: string; to: string }[]): string[][] {
  const next = new Map<string, string[]>();
  for (const e of edges) {
    if (e.from === e.to) continue;
    next.set(e.from, [...(next.get(e.from) ?? []), e.to]);
    if (!next.has(e.to)) next.set(e.to, []);
  }
  // Tarjan's algorithm.
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string) => {
    index.set(v, counter);
    low.set(v, counter);
    counter++;
    stack.push(v);
    onStack.add(v);
    for (const w of next.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1) found.push(component.sort());
    }
  };
  for (const v of [...next.keys()].sort()) if (!index.has(v)) visit(v);
  return found.sort((a, b) => a[0]!.localeCompare(b[0]!));
}
