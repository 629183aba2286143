/**
 * Lists the functions (declarations, expressions, arrows, methods, accessors) longer than a limit,
 * longest first: small functions with one job, none in src/ and broker/ over ~80 lines without a
 * comment that says why.
 *
 *   npx tsx scripts/long-functions.ts src broker          # over 80 lines
 *   LIMIT=60 npx tsx scripts/long-functions.ts src/chunks
 *
 * A factory counts with the closures inside it. Exits 0 whatever it finds: a function may stay
 * long with a comment that says why.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';

const limit = Number(process.env.LIMIT ?? 80);

function tsFiles(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) tsFiles(p, out);
    else if (p.endsWith('.ts') && !p.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

function isFunction(n: ts.Node): n is ts.FunctionLikeDeclaration {
  return (
    ts.isFunctionDeclaration(n) ||
    ts.isFunctionExpression(n) ||
    ts.isArrowFunction(n) ||
    ts.isMethodDeclaration(n) ||
    ts.isConstructorDeclaration(n) ||
    ts.isGetAccessor(n) ||
    ts.isSetAccessor(n)
  );
}

function nameOf(n: ts.FunctionLikeDeclaration): string {
  if (n.name !== undefined) return n.name.getText();
  const p = n.parent;
  if (ts.isVariableDeclaration(p) || ts.isPropertyAssignment(p) || ts.isPropertyDeclaration(p)) return p.name.getText();
  return '<anonymous>';
}

interface Long {
  file: string;
  line: number;
  lines: number;
  name: string;
}

const found: Long[] = [];
for (const root of process.argv.slice(2)) {
  for (const file of tsFiles(root)) {
    const src = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
    const visit = (n: ts.Node): void => {
      if (isFunction(n)) {
        const first = src.getLineAndCharacterOfPosition(n.getStart()).line + 1;
        const last = src.getLineAndCharacterOfPosition(n.getEnd()).line + 1;
        if (last - first + 1 > limit) found.push({ file, line: first, lines: last - first + 1, name: nameOf(n) });
      }
      ts.forEachChild(n, visit);
    };
    visit(src);
  }
}
found.sort((a, b) => b.lines - a.lines);
for (const f of found) process.stdout.write(`${String(f.lines).padStart(4)}  ${f.file}:${f.line}  ${f.name}\n`);
process.stdout.write(`${found.length} function(s) over ${limit} lines\n`);
