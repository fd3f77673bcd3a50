/**
 * The bench chart as a self-contained SVG: packets/s offered and received per concurrency step (service and
 * bare receiver) on the left axis, loss on the right axis.
 */
import type { StepMeasurement } from './run-bench.ts';

const W = 760;
const H = 420;
const LEFT = 80;
const RIGHT = 70;
const TOP = 50;
const BOTTOM = 60;

interface Series {
  name: string;
  colour: string;
  dashed?: boolean;
  points: { x: number; y: number | null }[];
  axis: 'pps' | 'loss';
}

function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function niceMax(x: number): number {
  if (x <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(x));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= x) return m * p;
  return 10 * p;
}

export function benchChartSvg(service: StepMeasurement[], bare: StepMeasurement[], title: string): string {
  const xs = [...new Set([...service, ...bare].map((s) => s.concurrency))].sort((a, b) => a - b);
  const series: Series[] = [
    {
      name: 'offered (service run)',
      colour: '#888',
      dashed: true,
      axis: 'pps',
      points: service.map((s) => ({ x: s.concurrency, y: s.offered_pps })),
    },
    {
      name: 'service received',
      colour: '#1f77b4',
      axis: 'pps',
      points: service.map((s) => ({ x: s.concurrency, y: s.received_pps })),
    },
    {
      name: 'bare dgram received',
      colour: '#2ca02c',
      axis: 'pps',
      points: bare.map((s) => ({ x: s.concurrency, y: s.received_pps })),
    },
    {
      name: 'service loss %',
      colour: '#d62728',
      axis: 'loss',
      points: service.map((s) => ({ x: s.concurrency, y: 100 * s.loss })),
    },
    {
      name: 'bare loss %',
      colour: '#ff7f0e',
      dashed: true,
      axis: 'loss',
      points: bare.map((s) => ({ x: s.concurrency, y: 100 * s.loss })),
    },
  ];
  const ppsMax = niceMax(
    Math.max(1, ...series.filter((s) => s.axis === 'pps').flatMap((s) => s.points.map((p) => p.y ?? 0))),
  );
  const lossMax = niceMax(
    Math.max(1, ...series.filter((s) => s.axis === 'loss').flatMap((s) => s.points.map((p) => p.y ?? 0))),
  );
  const plotW = W - LEFT - RIGHT;
  const plotH = H - TOP - BOTTOM;
  // Steps are evenly spaced: they rise roughly geometrically, and a linear axis would crowd the small ones.
  const px = (c: number) => LEFT + (xs.length <= 1 ? plotW / 2 : (plotW * xs.indexOf(c)) / (xs.length - 1));
  const py = (y: number, axis: 'pps' | 'loss') =>
    TOP + plotH - (plotH * y) / (axis === 'pps' ? ppsMax : lossMax);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="22" text-anchor="middle" font-size="15">${esc(title)}</text>`,
    `<line x1="${LEFT}" y1="${TOP + plotH}" x2="${LEFT + plotW}" y2="${TOP + plotH}" stroke="#000"/>`,
    `<line x1="${LEFT}" y1="${TOP}" x2="${LEFT}" y2="${TOP + plotH}" stroke="#000"/>`,
    `<line x1="${LEFT + plotW}" y1="${TOP}" x2="${LEFT + plotW}" y2="${TOP + plotH}" stroke="#000"/>`,
  ];
  for (let i = 0; i <= 5; i++) {
    const y = TOP + plotH - (plotH * i) / 5;
    out.push(`<line x1="${LEFT}" y1="${y}" x2="${LEFT + plotW}" y2="${y}" stroke="#eee"/>`);
    out.push(
      `<text x="${LEFT - 6}" y="${y + 4}" text-anchor="end">${Math.round((ppsMax * i) / 5).toLocaleString('en-US')}</text>`,
    );
    out.push(`<text x="${LEFT + plotW + 6}" y="${y + 4}">${((lossMax * i) / 5).toFixed(1)}%</text>`);
  }
  for (const c of xs) out.push(`<text x="${px(c)}" y="${TOP + plotH + 18}" text-anchor="middle">${c}</text>`);
  out.push(`<text x="${LEFT + plotW / 2}" y="${H - 18}" text-anchor="middle">concurrent calls</text>`);
  out.push(
    `<text transform="translate(18 ${TOP + plotH / 2}) rotate(-90)" text-anchor="middle">packets/s</text>`,
  );
  out.push(
    `<text transform="translate(${W - 12} ${TOP + plotH / 2}) rotate(90)" text-anchor="middle">loss</text>`,
  );
  series.forEach((s, i) => {
    const points = s.points.filter((p): p is { x: number; y: number } => p.y !== null);
    if (points.length > 0) {
      const d = points.map((p) => `${px(p.x).toFixed(1)},${py(p.y, s.axis).toFixed(1)}`).join(' ');
      out.push(
        `<polyline fill="none" stroke="${s.colour}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''} points="${d}"/>`,
      );
      for (const p of points)
        out.push(
          `<circle cx="${px(p.x).toFixed(1)}" cy="${py(p.y, s.axis).toFixed(1)}" r="3" fill="${s.colour}"/>`,
        );
    }
    const lx = LEFT + 10 + (i % 3) * 200;
    const ly = TOP + 14 + Math.floor(i / 3) * 16;
    out.push(
      `<line x1="${lx}" y1="${ly - 4}" x2="${lx + 18}" y2="${ly - 4}" stroke="${s.colour}" stroke-width="2"${s.dashed ? ' stroke-dasharray="4 3"' : ''}/>`,
    );
    out.push(`<text x="${lx + 24}" y="${ly}">${esc(s.name)}</text>`);
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
