// Include/exclude name filters of the [MetricCollector.*] config sections.
// Patterns are unanchored regexes applied include-then-exclude, as the original's value matcher.

const compiled = new Map<string, RegExp>();

function regexOf(pattern: string): RegExp {
  let re = compiled.get(pattern);
  if (!re) {
    re = new RegExp(pattern);
    compiled.set(pattern, re);
  }
  return re;
}

/** True when no `included` pattern is set or it matches, and no `excluded` pattern is set or it does not match. */
export function passesFilter(name: string, included = "", excluded = ""): boolean {
  if (included && !regexOf(included).test(name)) return false;
  return !(excluded && regexOf(excluded).test(name));
}

/** The pairs of a flat-keyed file whose key passes the filter, in file order. */
export function filterKeys(values: Map<string, number>, included = "", excluded = ""): Array<[string, number]> {
  return [...values].filter(([key]) => passesFilter(key, included, excluded));
}
