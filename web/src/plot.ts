// Charts in inline SVG, drawn in the page with no library and no external service: a line chart
// of one metric against K (one line per series, axes from 0 to 1, optional interval whiskers),
// and a histogram of relevant against irrelevant scores.

const SVG = 'http://www.w3.org/2000/svg';
const WIDTH = 320;
const HEIGHT = 220;
const MARGIN = { top: 28, right: 16, bottom: 36, left: 40 };

/** One line of the chart. */
export interface Series {
  name: string;
  /** CSS class giving the line its colour. */
  className: string;
  points: Array<{ x: number; y: number; /** A 95% interval, drawn as a whisker. */ low?: number; high?: number }>;
}

function el<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number>, text?: string): SVGElementTagNameMap[K] {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

/** A chart titled `title` of `series` over the x values `xs`. */
export function lineChart(title: string, xs: readonly number[], series: readonly Series[]): SVGSVGElement {
  const svg = el('svg', { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, class: 'chart', role: 'img', 'aria-label': title });
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const minX = Math.min(...xs);
  const maxX = Math.max(...xs);
  const x = (v: number) => MARGIN.left + (maxX === minX ? plotW / 2 : ((v - minX) / (maxX - minX)) * plotW);
  const y = (v: number) => MARGIN.top + (1 - v) * plotH;
  svg.append(el('text', { x: WIDTH / 2, y: 16, 'text-anchor': 'middle', class: 'chart-title' }, title));
  for (const tick of [0, 0.25, 0.5, 0.75, 1]) {
    svg.append(el('line', { x1: MARGIN.left, x2: WIDTH - MARGIN.right, y1: y(tick), y2: y(tick), class: 'grid-line' }));
    svg.append(el('text', { x: MARGIN.left - 6, y: y(tick) + 4, 'text-anchor': 'end', class: 'tick' }, tick.toFixed(2)));
  }
  for (const k of xs) svg.append(el('text', { x: x(k), y: HEIGHT - MARGIN.bottom + 16, 'text-anchor': 'middle', class: 'tick' }, String(k)));
  svg.append(el('text', { x: MARGIN.left + plotW / 2, y: HEIGHT - 4, 'text-anchor': 'middle', class: 'axis-label' }, 'K'));
  for (const line of series) {
    if (line.points.length === 0) continue;
    const d = line.points.map((p, i) => `${i === 0 ? 'M' : 'L'}${x(p.x).toFixed(1)},${y(p.y).toFixed(1)}`).join(' ');
    svg.append(el('path', { d, class: `series ${line.className}`, 'data-series': line.name }));
    for (const p of line.points) {
      if (p.low !== undefined && p.high !== undefined) svg.append(el('line', { x1: x(p.x), x2: x(p.x), y1: y(p.low), y2: y(p.high), class: `whisker ${line.className}` }));
      svg.append(el('circle', { cx: x(p.x), cy: y(p.y), r: 3, class: `dot ${line.className}` }));
    }
  }
  return svg;
}

/**
 * Two score distributions on one scale, each as shares of its own group: relevant pairs as bars,
 * every other pair as an outline. The further apart, the easier the ranking. `title` is drawn in
 * the chart; `label` is its accessible name.
 */
export function histogramChart(title: string, label: string, relevant: Histogram, irrelevant: Histogram, className: string): SVGSVGElement {
  const svg = el('svg', { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, class: 'chart histogram', role: 'img', 'aria-label': label });
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const share = (h: Histogram) => {
    const total = h.counts.reduce((a, b) => a + b, 0) || 1;
    return h.counts.map((c) => c / total);
  };
  const rel = share(relevant);
  const irr = share(irrelevant);
  const top = Math.max(...rel, ...irr, 1e-9);
  const bar = plotW / Math.max(rel.length, 1);
  const y = (v: number) => MARGIN.top + plotH - (v / top) * plotH;
  svg.append(el('text', { x: WIDTH / 2, y: 16, 'text-anchor': 'middle', class: 'chart-title' }, title));
  svg.append(el('line', { x1: MARGIN.left, x2: WIDTH - MARGIN.right, y1: MARGIN.top + plotH, y2: MARGIN.top + plotH, class: 'grid-line' }));
  rel.forEach((v, i) => svg.append(el('rect', { x: MARGIN.left + i * bar, y: y(v), width: bar, height: MARGIN.top + plotH - y(v), class: `bar ${className}` })));
  const outline = irr.map((v, i) => `${i === 0 ? 'M' : 'L'}${(MARGIN.left + i * bar).toFixed(1)},${y(v).toFixed(1)} H${(MARGIN.left + (i + 1) * bar).toFixed(1)}`).join(' ');
  svg.append(el('path', { d: outline, class: 'outline' }));
  svg.append(el('text', { x: MARGIN.left, y: HEIGHT - MARGIN.bottom + 16, 'text-anchor': 'start', class: 'tick' }, relevant.min.toFixed(2)));
  svg.append(el('text', { x: WIDTH - MARGIN.right, y: HEIGHT - MARGIN.bottom + 16, 'text-anchor': 'end', class: 'tick' }, relevant.max.toFixed(2)));
  svg.append(el('text', { x: MARGIN.left + plotW / 2, y: HEIGHT - 4, 'text-anchor': 'middle', class: 'axis-label' }, 'cosine score'));
  return svg;
}

/** Counts in equal bins from min to max. */
export interface Histogram {
  min: number;
  max: number;
  counts: number[];
}
