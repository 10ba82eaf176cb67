import { mkdirSync, mkdtempSync, openSync, closeSync, rmSync, symlinkSync, utimesSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clearDataCache, DataError, describeData, loadData } from '../../engine/data';
import { readCsv, scanCsv } from '../../engine/data/csv';
import type { DataSpec } from '../../engine/ir';

let root: string; // the workspace
let proj: string; // the .nn file's folder, inside the workspace
let outside: string; // a folder next to the workspace

beforeAll(() => {
  const base = mkdtempSync(join(tmpdir(), 'nnlens-csv-'));
  root = join(base, 'ws');
  proj = join(root, 'proj');
  outside = join(base, 'elsewhere');
  mkdirSync(join(proj, 'data'), { recursive: true });
  mkdirSync(outside);
  writeFileSync(join(outside, 'secret.csv'), 'a,b\n1,2\n');
  writeFileSync(join(root, 'shared.csv'), 'a,b\n1,2\n3,4\n');
});

afterAll(() => {
  rmSync(join(root, '..'), { recursive: true, force: true });
});

function file(name: string, text: string): string {
  const p = join(proj, name);
  writeFileSync(p, text);
  return name;
}

function csv(path: string, opts: Partial<Extract<DataSpec, { kind: 'csv' }>> = {}): DataSpec {
  return { kind: 'csv', path, label: null, classes: null, normalize: false, ...opts };
}

const ctx = () => ({ baseDir: proj, workspaceRoot: root });

function dataError(f: () => unknown): DataError {
  try {
    f();
  } catch (e) {
    if (!(e instanceof DataError)) throw e;
    return e;
  }
  throw new Error('expected a DataError');
}

describe('csv: reading', () => {
  it('reads the iris example with class names in order of first appearance', () => {
    const spec = csv('data/iris.csv', { label: 'species', classes: 3 });
    const ex = { baseDir: join(__dirname, '../../examples') };
    const info = describeData(spec, ex);
    expect(info).toEqual({
      xShape: [4],
      yShape: [3],
      n: 150,
      oneHot: true,
      classNames: ['setosa', 'versicolor', 'virginica'],
    });
    const d = loadData(spec, ex);
    expect(Array.from(d.x.subarray(0, 4))).toEqual([5.1, 3.5, 1.4, 0.2]);
    expect(Array.from(d.y.subarray(0, 3))).toEqual([1, 0, 0]);
    expect(Array.from(d.y.subarray(149 * 3))).toEqual([0, 0, 1]);
  });

  it('normalize: z-scores every feature column over all rows (population std)', () => {
    file('norm.csv', 'a,b,c,y\n1,10,5,0\n2,20,5,1\n3,60,5,0\n');
    const d = loadData(csv('norm.csv', { normalize: true }), ctx());
    // column a: mean 2, std sqrt(2/3)
    const sa = Math.sqrt(2 / 3);
    expect(d.x[0]).toBeCloseTo(-1 / sa, 12);
    expect(d.x[3]).toBeCloseTo(0, 12);
    expect(d.x[6]).toBeCloseTo(1 / sa, 12);
    // column b: mean 30, std sqrt((400+100+900)/3)
    const sb = Math.sqrt(1400 / 3);
    expect(d.x[1]).toBeCloseTo(-20 / sb, 12);
    expect(d.x[7]).toBeCloseTo(30 / sb, 12);
    // a constant column becomes 0
    expect([d.x[2], d.x[5], d.x[8]]).toEqual([0, 0, 0]);
    // labels are untouched
    expect(Array.from(d.y)).toEqual([0, 1, 0]);
  });

  it('takes the last column as the label by default, numeric → [1]', () => {
    file('reg.csv', 'x1,x2,price\n1,2,3.5\n4,5,-6e2\n');
    const d = loadData(csv('reg.csv'), ctx());
    expect(d.xShape).toEqual([2]);
    expect(d.yShape).toEqual([1]);
    expect(d.oneHot).toBe(false);
    expect(Array.from(d.x)).toEqual([1, 2, 4, 5]);
    expect(Array.from(d.y)).toEqual([3.5, -600]);
  });

  it('accepts the label as a 0-based column index', () => {
    file('idx.csv', 'y,a,b\n1,2,3\n0,5,6\n');
    const d = loadData(csv('idx.csv', { label: 0, classes: 2 }), ctx());
    expect(Array.from(d.x)).toEqual([2, 3, 5, 6]);
    expect(Array.from(d.y)).toEqual([0, 1, 1, 0]);
    expect(d.classNames).toBeUndefined();
  });

  it('uses integer labels as class indices, names otherwise', () => {
    file('ints.csv', 'a,cls\n0,2\n1,0\n2,1\n');
    const ints = loadData(csv('ints.csv', { classes: 3 }), ctx());
    expect(Array.from(ints.y)).toEqual([0, 0, 1, 1, 0, 0, 0, 1, 0]);
    file('names.csv', 'a,cls\n0,dog\n1,cat\n2,dog\n3,7\n');
    const names = loadData(csv('names.csv', { classes: 3 }), ctx());
    expect(names.classNames).toEqual(['dog', 'cat', '7']);
    expect(Array.from(names.y)).toEqual([1, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 1]);
  });

  it('handles quotes, CRLF, a byte-order mark, spaces and blank lines', () => {
    file('messy.csv', '\uFEFF"x, first" , y ,label\r\n 1 , 2 ,"New York, NY"\r\n\r\n3,4,"say ""hi"""\r\n5,6,"two\nlines"\r\n');
    const spec = csv('messy.csv', { label: 'label', classes: 3 });
    const d = loadData(spec, ctx());
    expect(d.n).toBe(3);
    expect(Array.from(d.x)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(d.classNames).toEqual(['New York, NY', 'say "hi"', 'two\nlines']);
  });

  it('gives the same result whatever the chunk size (streaming across chunk boundaries)', () => {
    const lines = ['a,b,name'];
    for (let i = 0; i < 200; i++) lines.push(`${i * 0.5},${-i},"${['Zürich', 'Łódź', '東京', 'x, y'][i % 4]}"`);
    const name = file('chunks.csv', lines.join('\n') + '\n');
    const path = join(proj, name);
    const opts = { label: 'name', classes: 4, normalize: false };
    const big = scanCsv(path, 'csv', opts);
    const whole = readCsv(path, big, opts);
    for (const chunk of [1, 2, 3, 7, 64]) {
      const s = scanCsv(path, 'csv', opts, chunk);
      expect(s).toEqual(big);
      const d = readCsv(path, s, opts, chunk);
      expect(Array.from(d.x)).toEqual(Array.from(whole.x));
      expect(Array.from(d.y)).toEqual(Array.from(whole.y));
    }
    expect(big.classNames).toEqual(['Zürich', 'Łódź', '東京', 'x, y']);
  });

  it('keeps what its one validating pass parsed: the same examples a second reading gives', () => {
    const lines = ['a, b ,"c, d",name'];
    for (let i = 0; i < 300; i++) lines.push(`${i * 0.25},${-i}e-3, ${(i * 7) % 11} ,"${['Zürich', 'Łódź', '東京'][i % 3]}"`);
    const path = join(proj, file('kept.csv', lines.join('\r\n') + '\r\n'));
    const ints = join(proj, file('kept-ints.csv', 'x,y,label\n1,2,2\n3,4,0\n5,6,1\n'));
    const cases: [string, { label: string | number | null; classes: number | null; normalize: boolean }][] = [
      [path, { label: 'name', classes: 3, normalize: false }],
      [path, { label: 'name', classes: 3, normalize: true }],
      [path, { label: 'name', classes: 4, normalize: false }],
      [ints, { label: null, classes: 3, normalize: false }],
      [ints, { label: null, classes: null, normalize: true }],
    ];
    for (const [f, opts] of cases) {
      for (const chunk of [3, 1 << 20]) {
        const { data, ...scan } = scanCsv(f, 'csv', opts, chunk, { limit: 1e6 });
        expect(scan).toEqual(scanCsv(f, 'csv', opts, chunk));
        const read = readCsv(f, scan, opts, chunk);
        expect(data).not.toBeNull();
        expect(Array.from(data!.x)).toEqual(Array.from(read.x));
        expect(Array.from(data!.y)).toEqual(Array.from(read.y));
        expect({ ...data!, x: null, y: null }).toEqual({ ...read, x: null, y: null });
      }
    }
    // above the limit it only validates
    expect(scanCsv(path, 'csv', cases[0][1], undefined, { limit: 100 }).data).toBeNull();
  });

  it('streams a file of 300,000 rows', () => {
    const p = join(proj, 'big.csv');
    const fd = openSync(p, 'w');
    writeSync(fd, 'f1,f2,f3,label\n');
    const n = 300_000;
    let block: string[] = [];
    for (let i = 0; i < n; i++) {
      block.push(`${i},${(i % 1000) / 8},${0 - i * 2 + 0},${i % 5}`);
      if (block.length === 10_000) {
        writeSync(fd, block.join('\n') + '\n');
        block = [];
      }
    }
    closeSync(fd);
    const spec = csv('big.csv', { classes: 5 });
    const info = describeData(spec, ctx());
    expect(info).toEqual({ xShape: [3], yShape: [5], n, oneHot: true });
    const d = loadData(spec, ctx());
    expect(d.n).toBe(n);
    for (const i of [0, 1, 12_345, 299_999]) {
      expect(Array.from(d.x.subarray(3 * i, 3 * i + 3))).toEqual([i, (i % 1000) / 8, 0 - i * 2 + 0]);
      expect(d.y[5 * i + (i % 5)]).toBe(1);
    }
    let ones = 0;
    for (let i = 0; i < d.y.length; i++) ones += d.y[i];
    expect(ones).toBe(n);
  });
});

describe('csv: errors', () => {
  it('a missing file', () => {
    const e = dataError(() => describeData(csv('nope.csv'), ctx()));
    expect(e.message).toBe(`csv: file not found: "nope.csv" (looked for ${join(proj, 'nope.csv')})`);
  });

  it('a bad number names the row and the column (number and name)', () => {
    file('bad.csv', 'a,b,c\n1,2,3\n4,x5,6\n');
    const e = dataError(() => describeData(csv('bad.csv'), ctx()));
    expect(e.message).toBe('csv "bad.csv" row 3, column 2 ("b"): "x5" is not a number');
    expect(e.row).toBe(3);
    expect(e.column).toBe(2);
    expect(() => loadData(csv('bad.csv'), ctx())).toThrow(e.message);
  });

  it('an empty value', () => {
    file('empty-cell.csv', 'a,b,c\n1,,3\n');
    const e = dataError(() => describeData(csv('empty-cell.csv'), ctx()));
    expect(e.message).toBe('csv "empty-cell.csv" row 2, column 2 ("b"): the value is empty');
  });

  it('a wrong column name, with a suggestion', () => {
    file('cols.csv', 'Length,Width,Species\n1,2,a\n');
    const e = dataError(() => describeData(csv('cols.csv', { label: 'species', classes: 2 }), ctx()));
    expect(e.message).toBe(
      'csv "cols.csv": no column named "species" — did you mean "Species"? (columns: "Length", "Width", "Species")',
    );
    expect(e.row).toBe(1);
    const e2 = dataError(() => describeData(csv('cols.csv', { label: 'kind', classes: 2 }), ctx()));
    expect(e2.message).toBe('csv "cols.csv": no column named "kind" (columns: "Length", "Width", "Species")');
  });

  it('a label index out of range', () => {
    file('three.csv', 'a,b,c\n1,2,3\n');
    const e = dataError(() => describeData(csv('three.csv', { label: 3 }), ctx()));
    expect(e.message).toBe('csv "three.csv": label: 3 is not a column index; the file has 3 columns (0..2)');
  });

  it('a label name that appears twice in the header', () => {
    file('dup.csv', 'x,y,x\n1,2,3\n');
    const e = dataError(() => describeData(csv('dup.csv', { label: 'x' }), ctx()));
    expect(e.message).toBe(
      'csv "dup.csv": the column name "x" appears 2 times (columns 1, 3); name the label by its 0-based index',
    );
    expect(describeData(csv('dup.csv', { label: 2 }), ctx()).xShape).toEqual([2]);
  });

  it('too many classes', () => {
    file('classes.csv', 'a,s\n1,x\n2,y\n3,x\n4,z\n5,w\n');
    const e = dataError(() => describeData(csv('classes.csv', { classes: 3 }), ctx()));
    expect(e.message).toBe(
      'csv "classes.csv" row 6, column 2 ("s"): "w" is a 4th distinct class, but classes: 3 (seen before: "x", "y", "z")',
    );
    expect(e.row).toBe(6);
    expect(e.column).toBe(2);
  });

  it('an integer class outside 0..k-1', () => {
    file('range.csv', 'a,s\n1,0\n2,1\n3,2\n');
    const e = dataError(() => describeData(csv('range.csv', { classes: 2 }), ctx()));
    expect(e.message).toBe('csv "range.csv" row 4, column 2 ("s"): class 2 is outside 0..1 (classes: 2)');
  });

  it('a class name without classes:', () => {
    file('named.csv', 'a,s\n1,cat\n');
    const e = dataError(() => describeData(csv('named.csv'), ctx()));
    expect(e.message).toBe(
      'csv "named.csv" row 2, column 2 ("s"): the label "cat" is not a number (for class names, add classes: k)',
    );
  });

  it('a row with the wrong number of values', () => {
    file('ragged.csv', 'a,b,c\n1,2,3\n\n1,2\n');
    const e = dataError(() => describeData(csv('ragged.csv'), ctx()));
    expect(e.message).toBe('csv "ragged.csv" row 4: 2 values, but the header has 3 columns');
    expect(e.row).toBe(4);
  });

  it('an empty file and a header without rows', () => {
    file('empty.csv', '');
    expect(dataError(() => describeData(csv('empty.csv'), ctx())).message).toBe(
      'csv "empty.csv": the file is empty (expected a header row)',
    );
    file('header.csv', 'a,b\n');
    expect(dataError(() => describeData(csv('header.csv'), ctx())).message).toBe(
      'csv "header.csv": no data rows after the header',
    );
  });

  it('an unclosed quote', () => {
    file('quote.csv', 'a,b\n1,2\n3,"4\n5,6\n');
    const e = dataError(() => describeData(csv('quote.csv'), ctx()));
    expect(e.message).toBe('csv "quote.csv" row 3: a quoted field is never closed');
    expect(e.row).toBe(3);
  });
});

describe('csv: the workspace rule', () => {
  it('refuses a .. escape, without revealing whether the file exists', () => {
    const e = dataError(() => describeData(csv('../../elsewhere/secret.csv'), ctx()));
    expect(e.message).toBe(
      `csv: "../../elsewhere/secret.csv" is outside the workspace (${root}); data files must be inside it`,
    );
    const e2 = dataError(() => describeData(csv('../../elsewhere/absent.csv'), ctx()));
    expect(e2.message).toContain('is outside the workspace');
  });

  it('allows .. that stays inside the workspace root', () => {
    expect(describeData(csv('../shared.csv'), ctx()).n).toBe(2);
  });

  it('uses the .nn folder as the workspace when there is no root', () => {
    const e = dataError(() => describeData(csv('../shared.csv'), { baseDir: proj }));
    expect(e.message).toContain('is outside the workspace');
  });

  it('refuses an absolute path outside, accepts one inside', () => {
    const e = dataError(() => describeData(csv(join(outside, 'secret.csv')), ctx()));
    expect(e.message).toContain('is outside the workspace');
    expect(describeData(csv(join(root, 'shared.csv')), ctx()).n).toBe(2);
  });

  it('refuses a symbolic link that leads outside', () => {
    symlinkSync(join(outside, 'secret.csv'), join(proj, 'link.csv'));
    symlinkSync(outside, join(proj, 'linkdir'));
    const e = dataError(() => describeData(csv('link.csv'), ctx()));
    expect(e.message).toBe(
      `csv: "link.csv" leads outside the workspace through a symbolic link (to ${join(outside, 'secret.csv')}); data files must be inside ${root}`,
    );
    expect(dataError(() => loadData(csv('linkdir/secret.csv'), ctx())).message).toContain(
      'leads outside the workspace through a symbolic link',
    );
  });

  it('follows a symbolic link that stays inside', () => {
    symlinkSync(join(root, 'shared.csv'), join(proj, 'inside-link.csv'));
    expect(loadData(csv('inside-link.csv'), ctx()).n).toBe(2);
  });
});

describe('csv: the describe cache', () => {
  it('notices when the file changes (mtime and size)', () => {
    clearDataCache();
    const name = file('changing.csv', 'a,b\n1,2\n');
    expect(describeData(csv(name), ctx()).n).toBe(1);
    expect(describeData(csv(name), ctx()).n).toBe(1);
    writeFileSync(join(proj, name), 'a,b\n1,2\n3,4\n');
    utimesSync(join(proj, name), new Date(), new Date(Date.now() + 5000));
    expect(describeData(csv(name), ctx()).n).toBe(2);
    expect(loadData(csv(name), ctx()).n).toBe(2);
    writeFileSync(join(proj, name), 'a,b\n1,oops\n3,4\n');
    utimesSync(join(proj, name), new Date(), new Date(Date.now() + 10000));
    expect(() => describeData(csv(name), ctx())).toThrow('"oops" is not a number');
  });

  it('keys on the options too', () => {
    const name = file('opts.csv', 'a,b\n1,0\n2,1\n');
    expect(describeData(csv(name), ctx()).yShape).toEqual([1]);
    expect(describeData(csv(name, { classes: 2 }), ctx()).yShape).toEqual([2]);
  });

  it('hands out independent copies of cached rows', () => {
    const name = file('copies.csv', 'a,b\n1,0\n2,1\n');
    const a = loadData(csv(name), ctx());
    a.x[0] = 99;
    expect(loadData(csv(name), ctx()).x[0]).toBe(1);
  });
});
