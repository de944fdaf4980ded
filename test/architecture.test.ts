import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

/**
 * The import rules of docs/design.md, checked on the source tree: every relative import of every
 * shipped TypeScript file (static, type-only, re-export, dynamic import() and require()) is read
 * with TypeScript's own pre-processor and resolved to a file.
 */

const ROOT = path.resolve(__dirname, '..');
/** The shipped folders: what tsconfig compiles, less the tests and benchmarks. */
const SOURCE_FOLDERS: string[] = (JSON.parse(fs.readFileSync(path.join(ROOT, 'tsconfig.json'), 'utf8')) as { include: string[] }).include.filter((f) => f !== 'test' && f !== 'bench');

type Graph = Map<string, string[]>;

interface Rule {
  name: string;
  /** True when an import from `from` to `to` (paths relative to the repository) breaks the rule. */
  forbids(from: string, to: string): boolean;
}

const within = (folder: string) => (file: string) => file === folder || file.startsWith(`${folder}/`);
const isKube = within('kube');
const isMaster = within('master');
const isAgent = within('agent');

const RULES: Rule[] = [
  { name: 'master must not import agent/', forbids: (from, to) => isMaster(from) && isAgent(to) },
  { name: 'agent must not import master/', forbids: (from, to) => isAgent(from) && isMaster(to) },
  { name: 'kube/ imports only kube/ (it is the client library both sides share)', forbids: (from, to) => isKube(from) && !isKube(to) },
  { name: 'the scheduler must not import controllers/', forbids: (from, to) => within('master/scheduler')(from) && within('master/controllers')(to) },
  { name: 'bootstrap/ must not import master/', forbids: (from, to) => within('bootstrap')(from) && isMaster(to) },
];

function sourceFiles(dir: string, out: string[] = []): string[] {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) sourceFiles(full, out);
    else if (/\.tsx?$/.test(entry.name) && !entry.name.endsWith('.d.ts')) out.push(full);
  }
  return out;
}

/** The file a relative specifier names, as Node and tsc resolve it; undefined for packages. */
function resolveImport(fromFile: string, specifier: string): string | undefined {
  if (!specifier.startsWith('.')) return undefined;
  const base = path.resolve(path.dirname(fromFile), specifier);
  for (const candidate of [base, `${base}.ts`, `${base}.tsx`, path.join(base, 'index.ts')]) {
    if (fs.existsSync(candidate) && fs.statSync(candidate).isFile()) return candidate;
  }
  throw new Error(`${path.relative(ROOT, fromFile)} imports "${specifier}", which names no file`);
}

function importGraph(): Graph {
  const graph: Graph = new Map();
  const files = SOURCE_FOLDERS.filter((f) => fs.existsSync(path.join(ROOT, f))).flatMap((f) => sourceFiles(path.join(ROOT, f)));
  for (const file of files) {
    const info = ts.preProcessFile(fs.readFileSync(file, 'utf8'), true, true);
    const targets = info.importedFiles.map((i) => resolveImport(file, i.fileName)).filter((t): t is string => t !== undefined);
    graph.set(path.relative(ROOT, file), [...new Set(targets.map((t) => path.relative(ROOT, t)))]);
  }
  return graph;
}

function ruleViolations(graph: Graph): string[] {
  const found: string[] = [];
  for (const [from, tos] of graph) for (const to of tos) for (const rule of RULES) if (rule.forbids(from, to)) found.push(`${rule.name}: ${from} -> ${to}`);
  return found;
}

/** Every strongly connected set of two or more files (or a file importing itself), by Tarjan's algorithm. */
function importCycles(graph: Graph): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  let next = 0;
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v) as number, low.get(w) as number));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v) as number, index.get(w) as number));
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    let w: string;
    do {
      w = stack.pop() as string;
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    if (component.length > 1 || (graph.get(v) ?? []).includes(v)) cycles.push(component.sort());
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return cycles;
}

describe('architecture: import rules', () => {
  const graph = importGraph();

  it('reads the whole tree', () => {
    // A broken scan (wrong root, no files) would pass every rule below vacuously.
    expect(graph.size).toBeGreaterThan(300);
    expect(graph.get('agent/agent.ts')).toContain('kube/client.ts');
  });

  it('keeps master and agent apart, kube/ below both, the scheduler off the controllers and bootstrap off the master', () => {
    expect(ruleViolations(graph)).toEqual([]);
  });

  it('has no import cycle', () => {
    expect(importCycles(graph).map((c) => c.join(' <-> '))).toEqual([]);
  });

  it('would catch each kind of violation', () => {
    const bad: Graph = new Map([
      ['master/a.ts', ['agent/b.ts']],
      ['agent/b.ts', ['master/c.ts']],
      ['kube/d.ts', ['master/c.ts']],
      ['master/scheduler/e.ts', ['master/controllers/f.ts']],
      ['bootstrap/g.ts', ['master/c.ts']],
      ['master/c.ts', ['master/h.ts']],
      ['master/h.ts', ['master/c.ts']],
    ]);
    expect(ruleViolations(bad)).toHaveLength(RULES.length);
    expect(importCycles(bad)).toEqual([['master/c.ts', 'master/h.ts']]);
  });
});
