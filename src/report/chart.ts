/**
 * Chart rendering without a browser or DOM: Vega-Lite spec → Vega → SVG string (a headless
 * `vega.View` with renderer 'none'), and SVG → PNG with resvg. The chart builders live in
 * chart-specs.ts and are re-exported here.
 */
import * as vega from 'vega';
import { compile } from 'vega-lite';
import { Resvg } from '@resvg/resvg-js';
import { existsSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { extname, join } from 'node:path';
import type { TopLevelSpec } from './chart-specs.ts';
import { writeFileAtomic } from '../io/atomic-file.ts';
import { toPrettyJson } from './json.ts';

export * from './chart-specs.ts';

/** Compiles a Vega-Lite spec to a full Vega spec. */
function toVegaSpec(spec: TopLevelSpec): vega.Spec {
  return compile(spec).spec as vega.Spec;
}

/** Renders a Vega-Lite spec to an SVG document (no DOM, no network: data must be inline). */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(toVegaSpec(spec)), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** A sans-serif font family and the file that provides it. */
export interface FontChoice {
  family: string;
  file: string;
}

/** Common sans-serif fonts on Linux distributions, best first. */
const KNOWN_SANS_FONTS: readonly FontChoice[] = [
  { family: 'DejaVu Sans', file: 'DejaVuSans.ttf' },
  { family: 'Liberation Sans', file: 'LiberationSans-Regular.ttf' },
  { family: 'Noto Sans', file: 'NotoSans-Regular.ttf' },
  { family: 'FreeSans', file: 'FreeSans.ttf' },
  { family: 'Arial', file: 'Arial.ttf' },
];

function fontDirectories(): string[] {
  const dirs = ['/usr/share/fonts', '/usr/local/share/fonts', join(homedir(), '.fonts'), join(homedir(), '.local/share/fonts')];
  return dirs.filter((d) => existsSync(d));
}

function findFile(dir: string, names: ReadonlySet<string>, depth: number, found: Map<string, string>): void {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) {
    const path = join(dir, e.name);
    if (e.isDirectory() && depth > 0) findFile(path, names, depth - 1, found);
    else if (names.has(e.name) && !found.has(e.name)) found.set(e.name, path);
  }
}

let sansFontCache: FontChoice | null | undefined;

/**
 * Finds a system sans-serif font for PNG text (SVG's generic 'sans-serif' must map to an installed
 * family, otherwise resvg draws no text). Returns null when none of the known fonts is installed.
 */
function findSansFont(): FontChoice | null {
  if (sansFontCache !== undefined) return sansFontCache;
  const found = new Map<string, string>();
  const names = new Set(KNOWN_SANS_FONTS.map((f) => f.file));
  for (const dir of fontDirectories()) findFile(dir, names, 4, found);
  const hit = KNOWN_SANS_FONTS.find((f) => found.has(f.file));
  sansFontCache = hit ? { family: hit.family, file: found.get(hit.file)! } : null;
  return sansFontCache;
}

export interface PngOptions {
  /** Pixel density multiplier (default 2: crisp on high-DPI screens and in papers). */
  scale?: number;
  /** Background colour (default white; PNG charts with transparent backgrounds read badly). */
  background?: string;
  /** Extra font files to load (e.g. when the system has no fonts). */
  fontFiles?: string[];
}

/** Rasterises an SVG document to PNG bytes with resvg, using system fonts for text. */
export function svgToPng(svg: string, options: PngOptions = {}): Buffer {
  const sans = findSansFont();
  const fontFiles = [...(options.fontFiles ?? []), ...(sans ? [sans.file] : [])];
  const resvg = new Resvg(svg, {
    background: options.background ?? 'white',
    fitTo: { mode: 'zoom', value: options.scale ?? 2 },
    font: {
      loadSystemFonts: true,
      fontFiles,
      ...(sans ? { defaultFontFamily: sans.family, sansSerifFamily: sans.family } : {}),
    },
    logLevel: 'off',
  });
  return resvg.render().asPng();
}

/** Renders a Vega-Lite spec straight to PNG bytes. */
export async function renderPng(spec: TopLevelSpec, options: PngOptions = {}): Promise<Buffer> {
  return svgToPng(await renderSvg(spec), options);
}

/**
 * Saves a chart; the format follows the extension: `.svg`, `.png`, or `.json` (the Vega-Lite spec
 * itself, to re-render or edit later). Writes atomically and creates directories.
 */
export async function saveChart(path: string, spec: TopLevelSpec, options: PngOptions = {}): Promise<void> {
  const ext = extname(path).toLowerCase();
  if (ext === '.svg') await writeFileAtomic(path, await renderSvg(spec));
  else if (ext === '.png') await writeFileAtomic(path, await renderPng(spec, options));
  else if (ext === '.json') await writeFileAtomic(path, toPrettyJson(spec));
  else throw new Error(`saveChart: cannot tell the format of '${path}': use a .svg, .png or .json extension`);
}

let textCheckCache: boolean | undefined;

/**
 * True when resvg actually draws text on this machine (a font was found for 'sans-serif'):
 * renders a word in black on white and looks for dark pixels. Cached after the first call.
 */
export function pngTextRenders(): boolean {
  if (textCheckCache !== undefined) return textCheckCache;
  const svg =
    '<svg xmlns="http://www.w3.org/2000/svg" width="80" height="30">' +
    '<text x="4" y="22" font-family="sans-serif" font-size="20" fill="black">Hg</text></svg>';
  const sans = findSansFont();
  const image = new Resvg(svg, {
    background: 'white',
    font: { loadSystemFonts: true, fontFiles: sans ? [sans.file] : [], ...(sans ? { defaultFontFamily: sans.family, sansSerifFamily: sans.family } : {}) },
    logLevel: 'off',
  }).render();
  const px = image.pixels;
  let dark = 0;
  for (let i = 0; i < px.length; i += 4) if (px[i] < 128) dark++;
  textCheckCache = dark > 20;
  return textCheckCache;
}
