// A skip that says why. vitest lists a skipped test by its title only, and a skip nobody can
// explain is a hole in the suite: every conditional skip in test/unit and test/lifecycle goes
// through here (or names its reason in its title), so the run's output carries the reason.
export function skipNote(skip: boolean, what: string, why: string): boolean {
  if (skip) console.warn(`skipped on ${process.platform}: ${what} — ${why}`);
  return skip;
}
