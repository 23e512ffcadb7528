/**
 * Drawing the four files of a toy task from its kinds (skills or intents) and phrasings (templates):
 * test (the full distribution), seed (small and skewed), teacher pairs (same kind), pool (unlabelled text).
 * The sets never share an input text: test ∩ seed = ∅, and neither appears in the teacher pairs or the pool.
 */
import { Rng } from "./prng.js";

/** One way of saying an example of a kind: a template with its slot fillers. */
export interface Phrasing<E> {
  /** `<kind>/<name>`, e.g. `compare/fewer`. */
  id: string;
  /** Barely present in the seed set (the low-data skew); ordinary everywhere else. */
  rareInSeed?: boolean;
  make(rng: Rng): E;
  /**
   * A new example of this phrasing with the same slot fillers as `like` (names, objects): only its numbers
   * change. Where a phrasing has it, teacher pairs use it: the "similar question" a small teacher can learn.
   */
  makeLike?(rng: Rng, like: E): E;
}

/** A skill (math) or an intent (classification). */
export interface Kind<E> {
  name: string;
  phrasings: Phrasing<E>[];
}

/** An example drawn from a phrasing, with where it came from (kept out of the task files, in the manifest). */
export interface Drawn<E> {
  kind: string;
  phrasing: string;
  example: E;
}

export interface TeacherPair<E> {
  kind: string;
  source: Drawn<E>;
  similar: Drawn<E>;
}

/** Weight of a rare phrasing when drawing the seed set (ordinary phrasings weigh 1). */
export const SEED_RARE_WEIGHT = 0.05;
/** Chance that a teacher pair's similar example reuses the source's phrasing (else another of its kind). */
export const TEACHER_SAME_PHRASING = 0.5;
/** Draws tried before giving up on finding a new unique text (the template space is too small). */
const MAX_TRIES = 200;

export class SplitDrawer<E> {
  /** Input texts taken by test or seed: nothing else may reuse them. */
  private readonly heldOut = new Set<string>();

  constructor(
    private readonly kinds: readonly Kind<E>[],
    /** The input text of an example (question or utterance): what must not repeat across sets. */
    private readonly inputOf: (example: E) => string,
  ) {}

  private kind(name: string): Kind<E> {
    const kind = this.kinds.find((k) => k.name === name);
    if (!kind) throw new Error(`unknown kind ${name}`);
    return kind;
  }

  private drawFrom(kind: Kind<E>, phrasing: Phrasing<E>, rng: Rng): Drawn<E> {
    return { kind: kind.name, phrasing: phrasing.id, example: phrasing.make(rng) };
  }

  /**
   * A new example of `kind` whose text is held out by neither test nor seed, nor (when given) in `taken`;
   * phrasings weighted by `weightOf`.
   */
  private drawUnique(kind: Kind<E>, rng: Rng, taken: Set<string> | undefined, weightOf: (p: Phrasing<E>) => number): Drawn<E> {
    const weights = kind.phrasings.map(weightOf);
    if (!weights.some((w) => w > 0)) throw new Error(`kind ${kind.name}: no phrasing to draw from`);
    for (let tries = 0; tries < MAX_TRIES; tries++) {
      const drawn = this.drawFrom(kind, kind.phrasings[rng.weightedIndex(weights)]!, rng);
      const text = this.inputOf(drawn.example);
      if (!taken?.has(text) && !this.heldOut.has(text)) {
        taken?.add(text);
        return drawn;
      }
    }
    throw new Error(`kind ${kind.name}: no new unique example after ${MAX_TRIES} draws`);
  }

  /** A new example like `source` (Phrasing.makeLike): another text, held out by neither test nor seed. */
  private drawLike(kind: Kind<E>, phrasing: Phrasing<E>, source: Drawn<E>, rng: Rng): Drawn<E> {
    const sourceText = this.inputOf(source.example);
    for (let tries = 0; tries < MAX_TRIES; tries++) {
      const example = phrasing.makeLike!(rng, source.example);
      const text = this.inputOf(example);
      if (text !== sourceText && !this.heldOut.has(text)) return { kind: kind.name, phrasing: phrasing.id, example };
    }
    throw new Error(`phrasing ${phrasing.id}: no new unique similar example after ${MAX_TRIES} draws`);
  }

  /** Test set: `perKind` examples of every kind, phrasings uniform, shuffled. Call first. */
  test(rng: Rng, perKind: number): Drawn<E>[] {
    const taken = new Set<string>();
    const rows = this.kinds.flatMap((kind) => Array.from({ length: perKind }, () => this.drawUnique(kind, rng, taken, () => 1)));
    for (const text of taken) this.heldOut.add(text);
    return rng.shuffle(rows);
  }

  /** Seed set: the given count per kind, rare phrasings nearly absent, shuffled. Call after `test`. */
  seed(rng: Rng, countPerKind: Record<string, number>): Drawn<E>[] {
    const taken = new Set<string>();
    const rows = Object.entries(countPerKind).flatMap(([name, count]) => {
      const kind = this.kind(name);
      return Array.from({ length: count }, () =>
        this.drawUnique(kind, rng, taken, (p) => (p.rareInSeed ? SEED_RARE_WEIGHT : 1)),
      );
    });
    for (const text of taken) this.heldOut.add(text);
    return rng.shuffle(rows);
  }

  /**
   * Teacher pairs: a source and a different, similar example of the same kind (of the same phrasing and slot
   * fillers where the phrasing has makeLike); kinds and sources' phrasings uniform. Texts may repeat across
   * pairs (the toy template spaces are small), never test or seed texts.
   */
  teacherPairs(rng: Rng, count: number): TeacherPair<E>[] {
    return Array.from({ length: count }, () => {
      const kind = rng.pick(this.kinds);
      const source = this.drawUnique(kind, rng, undefined, () => 1);
      const phrasing = kind.phrasings.find((p) => p.id === source.phrasing)!;
      if (phrasing.makeLike) return { kind: kind.name, source, similar: this.drawLike(kind, phrasing, source, rng) };
      const samePhrasing = rng.next() < TEACHER_SAME_PHRASING;
      const similar = this.drawUnique(kind, rng, new Set([this.inputOf(source.example)]), (p) =>
        (p.id === source.phrasing) === samePhrasing ? 1 : 0,
      );
      return { kind: kind.name, source, similar };
    });
  }

  /** Unlabelled pool inputs, kinds and phrasings uniform; repeats allowed, never test or seed texts. */
  poolInputs(rng: Rng, count: number): Drawn<E>[] {
    return Array.from({ length: count }, () => this.drawUnique(rng.pick(this.kinds), rng, undefined, () => 1));
  }
}
