import { describe, expect, it } from "vitest";
import { verifierAcceptance } from "../src/pipeline/verifierAcceptance.js";

describe("verifier acceptance", () => {
  it("counts only candidates that reached the verifier", () => {
    // 10 parsed-and-validated: 3 failed verify, 7 passed (5 kept, 1 near-copy, 1 beyond k); parse/validate drops do not count.
    const v = verifierAcceptance(5, { "parse:invalid-json": 4, "validate:label-not-in-set": 2, "verify:wrong-arithmetic": 2, "verify:wrong-final-answer": 1, "dedup:rouge-l": 1, "limit:beyond-k": 1 });
    expect(v).toEqual({ reached: 10, passed: 7, rate: 0.7 });
  });

  it("is undefined when nothing reached the verifier", () => {
    expect(verifierAcceptance(0, { "parse:invalid-json": 3 }).rate).toBeUndefined();
  });
});
