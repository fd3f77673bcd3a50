import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { type FoundCall, findRecordedCalls } from '../../recordings/recorded-call.ts';

/** CONTRACTS §2 label file beside a recorded call. */
export const labelSchema = z.object({
  label: z.enum(['legit', 'robocall', 'pumping', 'fax_modem', 'card_entry']),
  onset_s: z.number().min(0).default(0),
  campaign: z.string().optional(),
  /** card_entry: when the last digit ends (extra field written by `forkguard corpus`). */
  last_digit_s: z.number().min(0).optional(),
});
export type CallLabel = z.infer<typeof labelSchema> & { scenario?: string };

export interface LabelledCall extends FoundCall {
  label: CallLabel;
}

/** Recorded calls under `dirs` that have a valid `NAME.json` label; the others are reported, not guessed. */
export async function findLabelledCalls(
  dirs: string[],
): Promise<{ calls: LabelledCall[]; skipped: string[] }> {
  const calls: LabelledCall[] = [];
  const skipped: string[] = [];
  for (const found of await findRecordedCalls(dirs)) {
    const labelPath = found.path.replace(/\.(wav|pcapng|pcap)$/i, '.json');
    let raw: unknown;
    try {
      raw = JSON.parse(await readFile(labelPath, 'utf8'));
    } catch {
      skipped.push(`${found.path}: no readable label ${labelPath}`);
      continue;
    }
    const parsed = labelSchema.safeParse(raw);
    if (!parsed.success) {
      skipped.push(
        `${labelPath}: ${parsed.error.issues[0].path.join('.')}: ${parsed.error.issues[0].message}`,
      );
      continue;
    }
    const scenario =
      typeof (raw as { scenario?: unknown }).scenario === 'string'
        ? (raw as { scenario: string }).scenario
        : undefined;
    calls.push({ ...found, label: { ...parsed.data, scenario } });
  }
  return { calls, skipped };
}
