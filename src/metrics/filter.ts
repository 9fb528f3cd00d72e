// Include/exclude name filters of the [MetricCollector.*] config sections.
// Patterns are unanchored regexes applied include-then-exclude, as the original's value matcher.

/** Past this many names a filter forgets its verdicts: device and mount names may come and go without end. */
const MAX_VERDICTS = 4096;

/** One include/exclude pair with its verdicts: hundreds of containers repeat the same memory.stat keys per scrape. */
class NameFilter {
  private readonly verdicts = new Map<string, boolean>();
  private readonly include?: RegExp;
  private readonly exclude?: RegExp;

  constructor(included: string, excluded: string) {
    if (included) this.include = new RegExp(included);
    if (excluded) this.exclude = new RegExp(excluded);
  }

  passes(name: string): boolean {
    let verdict = this.verdicts.get(name);
    if (verdict === undefined) {
      verdict = (!this.include || this.include.test(name)) && !this.exclude?.test(name);
      if (this.verdicts.size >= MAX_VERDICTS) this.verdicts.clear();
      this.verdicts.set(name, verdict);
    }
    return verdict;
  }
}

/** By included, then excluded pattern: both are the config's own strings, whose hashes the engine keeps. */
const filters = new Map<string, Map<string, NameFilter>>();

function filterOf(included: string, excluded: string): NameFilter {
  let byExcluded = filters.get(included);
  if (!byExcluded) filters.set(included, (byExcluded = new Map()));
  let filter = byExcluded.get(excluded);
  if (!filter) byExcluded.set(excluded, (filter = new NameFilter(included, excluded)));
  return filter;
}

/** True when no `included` pattern is set or it matches, and no `excluded` pattern is set or it does not match. */
export function passesFilter(name: string, included = "", excluded = ""): boolean {
  return (!included && !excluded) || filterOf(included, excluded).passes(name);
}

/** The pairs of a flat-keyed file whose key passes the filter, in file order. */
export function filterKeys(values: Map<string, number>, included = "", excluded = ""): Array<[string, number]> {
  return [...values].filter(([key]) => passesFilter(key, included, excluded));
}
