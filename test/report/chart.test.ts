import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  barChart,
  heatmapChart,
  lineChart,
  linearityProfileChart,
  normalisedDepth,
  pngTextRenders,
  renderPng,
  renderSvg,
  saveChart,
  svgToPng,
} from '../../src/report/chart.ts';

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function profile(model: string, L: number, withNoResidual = false) {
  return {
    model,
    points: Array.from({ length: L }, (_, layer) => ({
      layer,
      depth: normalisedDepth(layer, L),
      score: 0.9 + 0.01 * layer,
      ...(withNoResidual ? { scoreNoResidual: 0.5 + 0.01 * layer } : {}),
    })),
  };
}

/** Width and height from a PNG's IHDR chunk. */
function pngSize(png: Buffer): { width: number; height: number } {
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}

test('normalisedDepth is layer / (L - 1)', () => {
  assert.equal(normalisedDepth(0, 12), 0);
  assert.equal(normalisedDepth(11, 12), 1);
  assert.equal(normalisedDepth(3, 7), 0.5);
  assert.equal(normalisedDepth(0, 1), 0);
});

test('linearityProfileChart: one row per point, depth on x in [0,1], model as colour', () => {
  const spec = linearityProfileChart([profile('gpt2', 12), profile('opt', 24)], { title: 'Linearity', yLabel: 'linearity score' }) as any;
  assert.equal(spec.data.values.length, 36);
  assert.deepEqual(spec.data.values[0], { model: 'gpt2', layer: 0, depth: 0, score: 0.9, residual: 'with residual' });
  assert.equal(spec.encoding.x.field, 'depth');
  assert.deepEqual(spec.encoding.x.scale.domain, [0, 1]);
  assert.equal(spec.encoding.y.title, 'linearity score');
  assert.deepEqual(spec.encoding.color.sort, ['gpt2', 'opt']);
  assert.deepEqual(spec.layer.map((l: any) => l.mark.type), ['line', 'point']);
  assert.equal(spec.layer[0].encoding.strokeDash, undefined);
});

test('linearityProfileChart withResidual adds dashed residual-free lines and skips non-finite points', () => {
  const s = profile('gpt2', 4, true);
  s.points[1].score = NaN;
  const spec = linearityProfileChart([s], { title: 'L', yLabel: 'score', withResidual: true }) as any;
  assert.equal(spec.data.values.length, 7);
  assert.equal(spec.data.values.filter((v: any) => v.residual === 'without residual').length, 4);
  assert.equal(spec.layer[0].encoding.strokeDash.field, 'residual');
});

test('renderSvg draws the title, axis titles, legend entries and line paths', async () => {
  const svg = await renderSvg(linearityProfileChart([profile('gpt2', 6), profile('pythia', 8)], { title: 'Figure 1 <test>', yLabel: 'linearity score' }));
  assert.ok(svg.startsWith('<svg'));
  assert.ok(svg.includes('Figure 1 &lt;test&gt;'), 'title is escaped and present');
  for (const text of ['normalised depth', 'linearity score', 'gpt2', 'pythia']) assert.ok(svg.includes(`>${text}<`), text);
  assert.ok(svg.includes('class="mark-line role-mark'), 'has a line mark group');
  assert.equal((svg.match(/aria-roledescription="line mark"[^>]*d="M[\d.,L]+"/g) ?? []).length, 2, 'one polyline per model');
});

test('lineChart: log scale drops non-positive values; few points are marked', () => {
  const spec = lineChart(
    [{ name: 'run a', points: [{ x: 0, y: 2 }, { x: 1, y: 0 }, { x: 2, y: 1 }] }],
    { title: 'Loss', xLabel: 'step', yLabel: 'loss', logY: true },
  ) as any;
  assert.equal(spec.data.values.length, 2);
  assert.equal(spec.encoding.y.scale.type, 'log');
  assert.equal(spec.mark.point.filled, true);
});

test('heatmapChart diverging: symmetric domain centred on 0, numeric rows sorted, facets as panels', async () => {
  const cells = [];
  for (const facet of ['q', 'mlp']) for (const row of [0.9, 0.1, 0.5]) for (const col of [0, 1, 2]) cells.push({ facet, row, col, value: row * (col - 1) * (facet === 'q' ? 1 : -2) });
  const spec = heatmapChart(cells, { title: 'Δloss', diverging: true, rowLabel: 'ρ', colLabel: 'layer' }) as any;
  assert.equal(spec.facet.field, 'facet');
  assert.deepEqual(spec.facet.sort, ['q', 'mlp']);
  const color = spec.spec.layer[0].encoding.color.scale;
  assert.deepEqual(color.domain, [-1.8, 1.8]);
  assert.equal(color.domainMid, 0);
  assert.deepEqual(spec.spec.encoding.y.sort, [0.1, 0.5, 0.9]);
  const svg = await renderSvg(spec);
  assert.ok(svg.includes('>Δloss<'));
  assert.ok(svg.includes('>mlp<') && svg.includes('>q<'));
  assert.ok((svg.match(/<path/g) ?? []).length >= cells.length, 'one path per cell at least');
});

test('heatmapChart with valueFormat prints values; NaN cells are left blank', async () => {
  const spec = heatmapChart(
    [{ row: 'a', col: 'x', value: 0.125 }, { row: 'b', col: 'x', value: NaN }],
    { title: 'H', valueFormat: '.2f' },
  ) as any;
  assert.equal(spec.data.values[1].value, null);
  assert.equal(spec.layer.length, 2);
  const svg = await renderSvg(spec);
  assert.ok(svg.includes('>0.13<'));
  assert.ok(!svg.includes('NaN'));
});

test('barChart: grouped bars keep input order; sortByValue orders labels largest first', async () => {
  const grouped = barChart(
    [{ label: 'a', value: 1, group: 'g1' }, { label: 'a', value: 2, group: 'g2' }, { label: 'b', value: 3, group: 'g1' }],
    { title: 'B', yLabel: 'score' },
  ) as any;
  assert.deepEqual(grouped.encoding.xOffset.sort, ['g1', 'g2']);
  assert.equal(grouped.layer[0].encoding.color.field, 'group');
  const sorted = barChart([{ label: 'small', value: 1 }, { label: 'big', value: 5 }], { title: 'S', horizontal: true, sortByValue: true, valueFormat: '.1f' }) as any;
  assert.deepEqual(sorted.encoding.y.sort, ['big', 'small']);
  const svg = await renderSvg(sorted);
  assert.ok(svg.includes('>5.0<') && svg.includes('>big<'));
});

test('renderPng gives a PNG of the expected size (scale 2 by default)', async () => {
  const spec = lineChart([{ name: 'r', points: [{ x: 0, y: 1 }, { x: 1, y: 2 }] }], { title: 'T', xLabel: 'x', yLabel: 'y', width: 200, height: 100 });
  const svg = await renderSvg(spec);
  const svgWidth = Number(/width="(\d+)"/.exec(svg)![1]);
  const png = await renderPng(spec);
  assert.deepEqual(png.subarray(0, 8), PNG_SIGNATURE);
  const { width, height } = pngSize(png);
  assert.equal(width, svgWidth * 2);
  assert.ok(height > 200 && height < 400, `height ${height}`);
  assert.equal(pngSize(svgToPng(svg, { scale: 1 })).width, svgWidth);
});

test('PNG text: a system sans-serif font is found and text is drawn', (t) => {
  if (!pngTextRenders()) {
    t.skip('no usable system font: PNG charts would have no text (install fonts-dejavu-core)');
    return;
  }
  assert.equal(pngTextRenders(), true);
});

test('saveChart writes .svg, .png and .json by extension and rejects others', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'linscope-chart-'));
  try {
    const spec = barChart([{ label: 'a', value: 1 }], { title: 'Save' });
    await saveChart(join(dir, 'c.svg'), spec);
    await saveChart(join(dir, 'c.png'), spec);
    await saveChart(join(dir, 'c.json'), spec);
    assert.ok(readFileSync(join(dir, 'c.svg'), 'utf8').includes('>Save<'));
    assert.deepEqual(readFileSync(join(dir, 'c.png')).subarray(0, 8), PNG_SIGNATURE);
    assert.equal(JSON.parse(readFileSync(join(dir, 'c.json'), 'utf8')).title, 'Save');
    await assert.rejects(saveChart(join(dir, 'c.gif'), spec), /\.svg, \.png or \.json/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
