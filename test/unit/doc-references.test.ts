import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

// Every relative link of the README and docs/ leads to a file that exists, and every #anchor to a heading
// of that file; every docs/*.md the source cites exists, and so does a section it names. Reads only files
// of the checkout (no ../shared).

const root = resolve(dirname(new URL(import.meta.url).pathname), '../..');

function markdownFiles(): string[] {
  const docs = readdirSync(join(root, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => join(root, 'docs', f));
  return [join(root, 'README.md'), ...['CHANGELOG.md'].map((f) => join(root, f)).filter((f) => existsSync(f)), ...docs];
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return name.endsWith('.ts') ? [path] : [];
  });
}

/** The text outside fenced code blocks and inline code (links there are examples, not links). */
function proseOf(markdown: string): string {
  return markdown
    .replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '')
    .replace(/`[^`\n]*`/g, '')
    .replace(/<!--[\s\S]*?-->/g, '');
}

/** GitHub's heading anchors: lowercased, punctuation dropped, spaces to "-", repeats numbered. */
function anchorsOf(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  const withoutCode = markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '');
  for (const m of withoutCode.matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const base = (m[1] ?? '')
      .toLowerCase()
      .replace(/<[^>]+>/g, '')
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/ /g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  return anchors;
}

/** Heading texts (backticks and emphasis dropped), for "docs/x.md, section Y" citations. */
function headingsOf(markdown: string): string[] {
  return [...markdown.matchAll(/^#{1,6}\s+(.+?)\s*$/gm)].map((m) => (m[1] ?? '').replace(/[`*_]/g, '').toLowerCase());
}

interface Broken {
  file: string;
  link: string;
  why: string;
}

function brokenLinks(file: string, text: string): Broken[] {
  const broken: Broken[] = [];
  const links = [...proseOf(text).matchAll(/\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)].map((m) => m[1] ?? '');
  for (const link of links) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(link)) continue; // https:, mailto:
    const [pathPart, anchor] = link.split('#', 2) as [string, string | undefined];
    const target = pathPart === '' ? file : resolve(dirname(file), decodeURIComponent(pathPart));
    if (!existsSync(target)) {
      broken.push({ file: relative(root, file), link, why: 'no such file' });
      continue;
    }
    if (
      anchor !== undefined &&
      target.endsWith('.md') &&
      !anchorsOf(readFileSync(target, 'utf8')).has(anchor.toLowerCase())
    ) {
      broken.push({ file: relative(root, file), link, why: `no heading #${anchor} in ${relative(root, target)}` });
    }
  }
  return broken;
}

describe('documentation references', () => {
  it('computes GitHub anchors', () => {
    const a = anchorsOf(
      '# A b\n## `train`: the predictors, reproducibly\n## bench place --slo: at equal SLO\n## A b\n```\n# not ' +
        'a heading\n```\n',
    );
    expect([...a]).toEqual(['a-b', 'train-the-predictors-reproducibly', 'bench-place---slo-at-equal-slo', 'a-b-1']);
  });

  it('finds a broken link and a broken anchor, and ignores code', () => {
    const file = join(root, 'README.md');
    const text =
      '[ok](docs/design.md#routes) [gone](docs/no-such.md) [bad](#no-such-heading) ' +
      '`[code](nowhere.md)`\n```\n[x](nowhere.md)\n```\n';
    expect(brokenLinks(file, text).map((b) => b.link)).toEqual(['docs/no-such.md', '#no-such-heading']);
  });

  it('README.md and docs/*.md link only to files and headings that exist', () => {
    const broken = markdownFiles().flatMap((f) => brokenLinks(f, readFileSync(f, 'utf8')));
    expect(broken).toEqual([]);
  });

  it('the README stays a front door (under 300 lines)', () => {
    expect(readFileSync(join(root, 'README.md'), 'utf8').split('\n').length).toBeLessThan(300);
  });

  it('src/ cites only docs/*.md files and sections that exist, and never DESIGN.md', () => {
    const broken: string[] = [];
    for (const file of sourceFiles(join(root, 'src'))) {
      const text = readFileSync(file, 'utf8');
      const where = relative(root, file);
      if (/\bDESIGN\.md\b/.test(text))
        broken.push(`${where}: cites DESIGN.md, which is not in the project (docs/design.md is)`);
      for (const m of text.matchAll(/\bdocs\/([\w./-]+?\.md)(?:,? section ([\w][\w -]*[\w])|,? "([^"\n]+)")?/g)) {
        const doc = join(root, 'docs', m[1] ?? '');
        if (!existsSync(doc)) {
          broken.push(`${where}: docs/${m[1]} does not exist`);
          continue;
        }
        const section = (m[2] ?? m[3])?.toLowerCase();
        if (section && !headingsOf(readFileSync(doc, 'utf8')).some((h) => h.startsWith(section))) {
          broken.push(`${where}: docs/${m[1]} has no section "${m[2] ?? m[3]}"`);
        }
      }
    }
    expect(broken).toEqual([]);
  });
});
