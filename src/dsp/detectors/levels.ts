/**
 * Level reference for the detectors (ITU-T G.711): 0 dBm0 is a sine 3.14 dB below the full-scale sine of the
 * 16-bit linear range, i.e. amplitude 32768 * 10^(-3.14/20) ≈ 22786. All detector thresholds are stated in
 * dBm0 against this reference and converted to the mean power of a sine (A^2 / 2), which is what
 * GoertzelBank reports.
 */
export const DBM0_SINE_AMPLITUDE = 32768 * 10 ** (-3.14 / 20);

/** Amplitude of a sine at `dbm0`. */
export function sineAmplitudeAtDbm0(dbm0: number): number {
  return DBM0_SINE_AMPLITUDE * 10 ** (dbm0 / 20);
}

/** Mean power (A^2 / 2) of a sine at `dbm0`. */
export function sinePowerAtDbm0(dbm0: number): number {
  const a = sineAmplitudeAtDbm0(dbm0);
  return (a * a) / 2;
}

/** Power ratio for a level difference in dB. */
export function dbToPowerRatio(db: number): number {
  return 10 ** (db / 10);
}
