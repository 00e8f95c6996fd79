import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { heatmapChart, linearityProfileChart, normalisedDepth } from '../../src/report/chart.ts';
import { embedSvg, escapeHtml, renderHtmlReport, writeHtmlReport, type Report } from '../../src/report/html.ts';

function sampleReport(): Report {
  const points = (L: number) => Array.from({ length: L }, (_, layer) => ({ layer, depth: normalisedDepth(layer, L), score: 0.95 + 0.001 * layer }));
  const cells = [];
  for (const facet of ['q_proj', 'mlp.down']) for (const row of [0.5, 0.9]) for (const col of [0, 1, 2]) cells.push({ facet, row, col, value: (col - 1) * row });
  return {
    title: 'Linearity of <gpt2>',
    subtitle: 'Scores on `tinystories` validation',
    meta: { model: './models/gpt2', command: 'linscope linearity --model ./models/gpt2' },
    sections: [
      {
        title: 'Summary',
        blocks: [
          { kind: 'metrics', items: [{ label: 'mean score', value: 0.9612345 }, { label: 'layers', value: 12 }, { label: 'verdict', value: 'linear', note: 'score > 0.9' }] },
          { kind: 'text', text: 'First paragraph with **bold** and a <tag>.\n\nSecond paragraph.' },
        ],
      },
      {
        title: 'Per-layer scores',
        blocks: [
          { kind: 'table', caption: 'Scores', rows: [{ layer: 0, score: 0.95 }, { layer: 1, score: 0.951 }], precision: 3 },
          { kind: 'chart', spec: linearityProfileChart([{ model: 'gpt2', points: points(12) }], { title: 'Profile', yLabel: 'score' }), caption: 'Figure 1.' },
        ],
      },
      { title: 'LASER', blocks: [{ kind: 'chart', spec: heatmapChart(cells, { title: 'Δloss', diverging: true }) }, { kind: 'code', text: 'linscope laser --rho 0.9 <x>' }, { kind: 'list', items: ['a', '`b`'] }] },
    ],
    results: { scores: [0.95, 0.951], note: '</pre><script>alert(1)</script>' },
    generatedAt: '2025-01-01T00:00:00Z',
  };
}

test('escapeHtml escapes the five special characters', () => {
  assert.equal(escapeHtml(`<a href="x">'&'</a>`), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
});

test('embedSvg drops namespaces and prefixes ids and their references', () => {
  const svg = '<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="10" height="10"><defs><linearGradient id="g1"/><clipPath id="clip1"/><clipPath id="clip10"/></defs><rect fill="url(#g1)" clip-path="url(#clip10)"/><use xlink:href="#clip1"/><a href="#elsewhere"/></svg>';
  const out = embedSvg(svg, 'c2-');
  assert.ok(!out.includes('xmlns'));
  assert.ok(!out.includes('<?xml'));
  assert.ok(out.startsWith('<svg role="img"'));
  assert.ok(out.includes('id="c2-g1"') && out.includes('id="c2-clip1"') && out.includes('id="c2-clip10"'));
  assert.ok(out.includes('fill="url(#c2-g1)"') && out.includes('clip-path="url(#c2-clip10)"'));
  assert.ok(out.includes('xlink:href="#c2-clip1"'));
  assert.ok(out.includes('href="#elsewhere"'), 'references to unknown ids are left alone');
});

test('report is self-contained: no external URLs, scripts, stylesheets or images', async () => {
  const html = await renderHtmlReport(sampleReport());
  assert.ok(html.startsWith('<!DOCTYPE html>'));
  assert.ok(!/https?:\/\//i.test(html), 'no http(s) URL anywhere');
  assert.ok(!/<script/i.test(html), 'no script element (results JSON is escaped)');
  assert.ok(!/<link\b/i.test(html) && !/<img\b/i.test(html) && !/<iframe\b/i.test(html));
  assert.ok(!/\ssrc=/i.test(html));
  assert.ok(!/@import|url\((?!#)/i.test(html), 'CSS loads nothing; only url(#id) references inside SVG');
});

test('report content: title escaped, sections with ids, tables, charts, metrics and JSON', async () => {
  const html = await renderHtmlReport(sampleReport());
  assert.ok(html.includes('<title>Linearity of &lt;gpt2&gt;</title>'));
  assert.ok(html.includes('<code>tinystories</code>'));
  assert.ok(html.includes('<dt>model</dt><dd>./models/gpt2</dd>'));
  assert.ok(html.includes('<nav class="toc"><a href="#summary">Summary</a><a href="#per-layer-scores">Per-layer scores</a><a href="#laser">LASER</a></nav>'));
  assert.ok(html.includes('<p>First paragraph with <strong>bold</strong> and a &lt;tag&gt;.</p>\n<p>Second paragraph.</p>'));
  assert.ok(html.includes('<div class="metric-value">0.9612</div>'));
  assert.ok(html.includes('<td class="num">0.951</td>') && html.includes('<td class="num">0.950</td>'));
  assert.equal((html.match(/<figure class="chart"><svg/g) ?? []).length, 2);
  assert.ok(html.includes('<figcaption>Figure 1.</figcaption>'));
  // Ids of the two charts cannot collide.
  const ids = [...html.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]);
  assert.equal(new Set(ids).size, ids.length);
  assert.ok(html.includes('<pre class="code">linscope laser --rho 0.9 &lt;x&gt;</pre>'));
  assert.ok(/<details class="results"><summary>Raw results \(JSON\)<\/summary><pre>\{\n  &quot;scores&quot;: \[0\.95, 0\.951\]/.test(html));
  assert.ok(html.includes('&lt;/pre&gt;&lt;script&gt;'));
  assert.ok(html.includes('2025-01-01T00:00:00Z'));
});

test('writeHtmlReport writes the file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'linscope-html-'));
  try {
    await writeHtmlReport(join(dir, 'out', 'report.html'), { title: 'Tiny', sections: [{ title: 'Only', blocks: [{ kind: 'text', text: 'hi' }] }] });
    const html = readFileSync(join(dir, 'out', 'report.html'), 'utf8');
    assert.ok(html.includes('<h2>Only</h2>') && !html.includes('<nav'));
    assert.ok(!html.includes('<details'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
