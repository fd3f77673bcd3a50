/**
 * Transcript risk: a deterministic, weighted set of phrase rules over the final segments of a call's live
 * transcription. It is a rule set, not a model: each rule names a vishing tactic (payment extraction, gift
 * cards, one-time codes, remote-access tools, urgency and threats, impersonation, secrecy), a category keeps
 * the strongest rule it matched over the whole call, and categories combine as a noisy-OR,
 * risk = 1 - prod(1 - weight). One tactic alone stays below the threshold; it takes several together (the
 * shape of a scam script) to cross it.
 */

export const RISK_CATEGORIES = [
  'payment',
  'gift_card',
  'one_time_code',
  'remote_access',
  'urgency',
  'threat',
  'impersonation',
  'secrecy',
] as const;
export type RiskCategory = (typeof RISK_CATEGORIES)[number];

export interface RiskRule {
  name: string;
  category: RiskCategory;
  weight: number;
  pattern: RegExp;
}

export const TRANSCRIPT_RULES: readonly RiskRule[] = [
  {
    name: 'card_details',
    category: 'payment',
    weight: 0.45,
    pattern: /\b(card number|credit card|debit card|security code|cvv|cvc|expir(y|ation) date)\b/,
  },
  {
    name: 'bank_details',
    category: 'payment',
    weight: 0.45,
    pattern: /\b(routing number|account number|sort code|online banking password|pin number)\b/,
  },
  {
    name: 'money_transfer',
    category: 'payment',
    weight: 0.5,
    pattern:
      /\b(wire (the )?(money|funds|transfer)|western union|moneygram|zelle|bitcoin|crypto(currency)? atm|safe account|transfer (the|your) (money|funds|savings))\b/,
  },
  {
    name: 'gift_cards',
    category: 'gift_card',
    weight: 0.6,
    pattern:
      /\b(gift ?cards?|itunes cards?|google play cards?|steam cards?|apple cards?|amazon cards?|scratch (off )?the back)\b/,
  },
  {
    name: 'read_code',
    category: 'one_time_code',
    weight: 0.55,
    pattern:
      /\b((verification|security|one[- ]time|authori[sz]ation|confirmation) (code|pin|passcode)|code (we|i|that was) (just )?(sent|texted)|read (me )?(back )?the code|otp)\b/,
  },
  {
    name: 'remote_tool',
    category: 'remote_access',
    weight: 0.6,
    pattern:
      /\b(anydesk|teamviewer|ultraviewer|quick ?support|logmein|remote (access|desktop|control)|screen ?shar(e|ing))\b/,
  },
  {
    name: 'install_app',
    category: 'remote_access',
    weight: 0.4,
    pattern: /\b(download|install) (this|the|an?) (app|application|program|software)\b/,
  },
  {
    name: 'urgency',
    category: 'urgency',
    weight: 0.3,
    pattern:
      /\b(right now|immediately|urgent(ly)?|within the (next )?(hour|\d+ minutes)|before it'?s too late|last (chance|warning)|time is running out|act now)\b/,
  },
  {
    name: 'threat',
    category: 'threat',
    weight: 0.45,
    pattern:
      /\b(arrest(ed)?|warrant|lawsuit|police (will|are)|deport(ed|ation)?|(account|number|license) (will be |has been |is )?(suspended|frozen|blocked|closed)|legal action)\b/,
  },
  {
    name: 'authority',
    category: 'impersonation',
    weight: 0.35,
    pattern:
      /\b(irs|internal revenue|social security (administration|office|number)|hmrc|fraud department|tax (office|department)|microsoft (support|technician)|tech(nical)? support|federal agent|customs (office|department))\b/,
  },
  {
    name: 'secrecy',
    category: 'secrecy',
    weight: 0.4,
    pattern:
      /\b(don'?t tell (anyone|anybody|your|the bank)|keep (this|it) (confidential|secret|between us)|do not (tell|discuss|hang up)|don'?t hang up|stay on the line)\b/,
  },
];

export interface TranscriptRiskOptions {
  /** Accumulated risk at which the first `transcript_risk` alert is raised (default 0.8). */
  threshold?: number;
  /**
   * After the first alert (level 0), each time the score climbs into a higher band of this width above the
   * threshold the alert is raised again one level up (default 0.1): levels stay 0, 1, 2... however fast it climbs.
   */
  escalationStep?: number;
  /** Calls tracked at once; the least recently updated is forgotten beyond it (default 10 000). */
  maxCalls?: number;
}

export interface TranscriptRiskResult {
  score: number;
  categories: RiskCategory[];
  rules: string[];
  finalSegments: number;
  /** Set when this segment took the call to a new alert level. */
  raise: { level: number } | null;
}

interface CallRisk {
  weights: Map<RiskCategory, number>;
  rules: Set<string>;
  finalSegments: number;
  /** Highest level already raised, -1 before the first. */
  raisedLevel: number;
  /** Score band (steps above the threshold) at the last raise. */
  raisedBand: number;
}

export class TranscriptRiskTracker {
  private readonly threshold: number;
  private readonly step: number;
  private readonly maxCalls: number;
  private readonly calls = new Map<string, CallRisk>();

  constructor(options: TranscriptRiskOptions = {}) {
    this.threshold = options.threshold ?? 0.8;
    this.step = options.escalationStep ?? 0.1;
    this.maxCalls = options.maxCalls ?? 10_000;
  }

  /**
   * Adds one transcription segment. Interim segments (`isFinal` false) are revised by the engine and repeated in
   * the final one, so only final segments count.
   */
  addSegment(callKey: string, transcript: string, isFinal: boolean): TranscriptRiskResult | null {
    if (!isFinal) return null;
    let call = this.calls.get(callKey);
    if (call) this.calls.delete(callKey);
    else call = { weights: new Map(), rules: new Set(), finalSegments: 0, raisedLevel: -1, raisedBand: -1 };
    this.calls.set(callKey, call);
    if (this.calls.size > this.maxCalls) this.calls.delete(this.calls.keys().next().value as string);

    call.finalSegments++;
    const text = normalize(transcript);
    for (const rule of TRANSCRIPT_RULES) {
      if (!rule.pattern.test(text)) continue;
      call.rules.add(rule.name);
      if ((call.weights.get(rule.category) ?? 0) < rule.weight) call.weights.set(rule.category, rule.weight);
    }
    let keep = 1;
    for (const weight of call.weights.values()) keep *= 1 - weight;
    const score = 1 - keep;
    let raise: { level: number } | null = null;
    if (score >= this.threshold) {
      const band = Math.floor((score - this.threshold) / this.step + 1e-9);
      if (band > call.raisedBand) {
        call.raisedBand = band;
        call.raisedLevel++;
        raise = { level: call.raisedLevel };
      }
    }
    return {
      score,
      categories: [...call.weights.keys()],
      rules: [...call.rules],
      finalSegments: call.finalSegments,
      raise,
    };
  }

  end(callKey: string): void {
    this.calls.delete(callKey);
  }
}

function normalize(text: string): string {
  return text.toLowerCase().replace(/[’‘]/g, "'").replace(/\s+/g, ' ');
}
