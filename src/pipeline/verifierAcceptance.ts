/**
 * The share of the teacher's candidates that passed the verifier, among those that reached it (those that
 * parsed and validated): drops are counted by stage (`parse:…`, `validate:…`, `verify:…`, `dedup:…`,
 * `limit:…`), and everything kept or dropped after the verifier had passed it.
 */
export function verifierAcceptance(kept: number, dropped: Record<string, number>): { reached: number; passed: number; rate: number | undefined } {
  let failed = 0;
  let passedButDroppedLater = 0;
  for (const [reason, count] of Object.entries(dropped)) {
    if (reason.startsWith("verify:")) failed += count;
    else if (reason.startsWith("dedup:") || reason.startsWith("limit:")) passedButDroppedLater += count;
  }
  const passed = kept + passedButDroppedLater;
  const reached = passed + failed;
  return { reached, passed, rate: reached === 0 ? undefined : passed / reached };
}
