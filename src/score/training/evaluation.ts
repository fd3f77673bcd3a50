import type { AlertDecision } from '../../alert/alert.ts';
import { detectsLabel, verdictOf } from '../../alert/call-judge.ts';

export const EVAL_LABELS = ['legit', 'robocall', 'pumping', 'fax_modem', 'card_entry'] as const;

export interface JudgedCall {
  call: string;
  label: string;
  onsetS: number;
  /** card_entry: end of the last digit; its time to detect counts from here (the number is not complete before). */
  lastDigitS?: number;
  scenario?: string;
  decisions: AlertDecision[];
}

export interface ClassMetrics {
  calls: number;
  precision: number | null;
  recall: number | null;
  /** Seconds from onset (card_entry: from the last digit) to the first alert of the right kind, where it came. */
  ttd_median_s: number | null;
  ttd_p90_s: number | null;
}

export interface EvaluationReport {
  calls: number;
  confusion: { labels: readonly string[]; verdicts: readonly string[]; matrix: number[][] };
  classes: Record<string, ClassMetrics>;
  legit_false_alarm_rate: number | null;
  legit_false_alarms: string[];
  misses: { call: string; label: string; scenario?: string; verdict: string }[];
}

/** Call-level metrics: what an operator sees (a call alerted or not, and how soon), not window accuracy. */
export function evaluateCalls(calls: readonly JudgedCall[]): EvaluationReport {
  const labels = EVAL_LABELS;
  const matrix = labels.map(() => labels.map(() => 0));
  const ttd: Record<string, number[]> = {};
  const misses: EvaluationReport['misses'] = [];
  const legitFalseAlarms: string[] = [];
  for (const c of calls) {
    const verdict = verdictOf(c.decisions);
    const li = labels.indexOf(c.label as (typeof labels)[number]);
    const vi = labels.indexOf(verdict as (typeof labels)[number]);
    if (li >= 0 && vi >= 0) matrix[li][vi]++;
    if (c.label === 'legit' && c.decisions.length > 0) legitFalseAlarms.push(c.call);
    if (verdict !== c.label) misses.push({ call: c.call, label: c.label, scenario: c.scenario, verdict });
    const first = c.decisions.find((d) => detectsLabel(d.kind, c.label));
    if (first && c.label !== 'legit') {
      ttd[c.label] ??= [];
      ttd[c.label].push(Math.max(0, first.mediaS - (c.lastDigitS ?? c.onsetS)));
    }
  }
  const classes: Record<string, ClassMetrics> = {};
  labels.forEach((label, i) => {
    const actual = matrix[i].reduce((a, b) => a + b, 0);
    const predicted = matrix.reduce((a, row) => a + row[i], 0);
    const times = (ttd[label] ?? []).sort((a, b) => a - b);
    classes[label] = {
      calls: actual,
      precision: predicted > 0 ? round(matrix[i][i] / predicted) : null,
      recall: actual > 0 ? round(matrix[i][i] / actual) : null,
      ttd_median_s: times.length > 0 ? round(quantile(times, 0.5)) : null,
      ttd_p90_s: times.length > 0 ? round(quantile(times, 0.9)) : null,
    };
  });
  const legit = classes.legit.calls;
  return {
    calls: calls.length,
    confusion: { labels, verdicts: labels, matrix },
    classes,
    legit_false_alarm_rate: legit > 0 ? round(legitFalseAlarms.length / legit) : null,
    legit_false_alarms: legitFalseAlarms,
    misses,
  };
}

export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

function round(x: number): number {
  return Math.round(x * 10000) / 10000;
}

/** The confusion matrix as a small self-contained SVG (rows: label, columns: verdict). */
export function confusionSvg(report: EvaluationReport, title: string): string {
  const { labels, matrix } = report.confusion;
  const cell = 70;
  const left = 110;
  const top = 70;
  const w = left + cell * labels.length + 20;
  const h = top + cell * labels.length + 40;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${w / 2}" y="18" text-anchor="middle" font-size="14">${escapeXml(title)}</text>`,
    `<text x="${left + (cell * labels.length) / 2}" y="38" text-anchor="middle">verdict</text>`,
  ];
  labels.forEach((label, j) => {
    parts.push(`<text x="${left + j * cell + cell / 2}" y="${top - 8}" text-anchor="middle">${label}</text>`);
  });
  matrix.forEach((row, i) => {
    const total = row.reduce((a, b) => a + b, 0) || 1;
    parts.push(
      `<text x="${left - 8}" y="${top + i * cell + cell / 2 + 4}" text-anchor="end">${labels[i]}</text>`,
    );
    row.forEach((n, j) => {
      const share = n / total;
      const shade = Math.round(255 - share * 200);
      const fill = i === j ? `rgb(${shade},${255},${shade})` : `rgb(255,${shade},${shade})`;
      parts.push(
        `<rect x="${left + j * cell}" y="${top + i * cell}" width="${cell}" height="${cell}" fill="${fill}" stroke="#888"/>`,
        `<text x="${left + j * cell + cell / 2}" y="${top + i * cell + cell / 2 + 4}" text-anchor="middle">${n}</text>`,
      );
    });
  });
  parts.push(`<text x="8" y="${h - 12}">rows: label; columns: verdict; green: correct</text>`, '</svg>');
  return `${parts.join('\n')}\n`;
}

function escapeXml(s: string): string {
  return s.replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c] ?? c);
}
