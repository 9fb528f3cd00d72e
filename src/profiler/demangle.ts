// Readable names for C++ and Rust (legacy) symbols in flame graphs: the Itanium ABI's qualified function name, without
// parameter types and with template arguments shown as <…>. Anything outside this subset is left mangled.

const OPERATORS: Record<string, string> = {
  nw: "new", na: "new[]", dl: "delete", da: "delete[]", ps: "+", ng: "-", ad: "&", de: "*", co: "~", pl: "+", mi: "-",
  ml: "*", dv: "/", rm: "%", an: "&", or: "|", eo: "^", aS: "=", pL: "+=", mI: "-=", mL: "*=", dV: "/=", rM: "%=",
  aN: "&=", oR: "|=", eO: "^=", ls: "<<", rs: ">>", lS: "<<=", rS: ">>=", eq: "==", ne: "!=", lt: "<", gt: ">",
  le: "<=", ge: ">=", ss: "<=>", nt: "!", aa: "&&", oo: "||", pp: "++", mm: "--", cm: ",", pm: "->*", pt: "->",
  cl: "()", ix: "[]", qu: "?",
};

const ABBREVIATIONS: Record<string, string> = {
  St: "std", Sa: "std::allocator", Sb: "std::basic_string", Ss: "std::string", Si: "std::istream", So: "std::ostream", Sd: "std::iostream",
};

const RUST_HASH = /^h[0-9a-f]{16}$/;

class Parser {
  pos = 0;
  /** Prefixes seen so far, for S_ / S<n>_ back-references. */
  readonly subs: string[] = [];

  constructor(readonly text: string) {}

  peek(n = 0): string {
    return this.text[this.pos + n] ?? "";
  }

  /** `<length><identifier>` */
  sourceName(): string {
    const m = /^\d+/.exec(this.text.slice(this.pos));
    if (!m) throw new Error("no source name");
    const len = Number(m[0]);
    const start = this.pos + m[0].length;
    if (start + len > this.text.length) throw new Error("short source name");
    this.pos = start + len;
    const name = this.text.slice(start, start + len);
    return name.startsWith("_GLOBAL__N") ? "(anonymous namespace)" : name;
  }

  /** Skips a balanced I…E template argument list. */
  templateArgs(): string {
    let depth = 0;
    do {
      const ch = this.text[this.pos++];
      if (ch === undefined) throw new Error("unterminated template arguments");
      if (/\d/.test(ch) && depth > 0) {
        this.pos--;
        this.sourceName();
        continue;
      }
      if (ch === "I" || ch === "N" || ch === "L" || ch === "X") depth++;
      else if (ch === "E") depth--;
    } while (depth > 0);
    return "<…>";
  }

  substitution(): string {
    const two = this.text.slice(this.pos, this.pos + 2);
    if (ABBREVIATIONS[two]) {
      this.pos += 2;
      return ABBREVIATIONS[two]!;
    }
    const m = /^S([0-9A-Z]*)_/.exec(this.text.slice(this.pos));
    if (!m) throw new Error("bad substitution");
    this.pos += m[0].length;
    const index = m[1] === "" ? 0 : parseInt(m[1]!, 36) + 1;
    return this.subs[index] ?? "…";
  }

  /** One component of a nested name; `parts` so far names the enclosing class for constructors. */
  component(parts: string[]): string {
    const ch = this.peek();
    if (/\d/.test(ch)) return this.sourceName();
    if (ch === "C" && /[1-5I]/.test(this.peek(1))) return (this.pos += 2), parts.at(-1) ?? "?";
    if (ch === "D" && /[0-5]/.test(this.peek(1))) return (this.pos += 2), `~${parts.at(-1) ?? "?"}`;
    if (ch === "S") return this.substitution();
    if (ch === "L") return this.pos++, this.component(parts);
    const op = OPERATORS[this.text.slice(this.pos, this.pos + 2)];
    if (op) return (this.pos += 2), `operator${op}`;
    throw new Error(`unsupported component at ${this.pos}`);
  }

  nested(): string {
    this.pos++; // N
    while (/[rVKRO]/.test(this.peek())) this.pos++;
    const parts: string[] = [];
    while (this.peek() !== "E") {
      if (this.peek() === "I") {
        parts[parts.length - 1] += this.templateArgs();
      } else {
        parts.push(this.component(parts));
      }
      this.subs.push(parts.join("::"));
    }
    this.pos++;
    if (parts.length > 1 && RUST_HASH.test(parts.at(-1)!)) parts.pop();
    return parts.join("::");
  }
}

/** `_ZN2v88internal8compiler12PipelineImpl13OptimizeGraphEPNS1_7LinkageE` → `v8::internal::compiler::PipelineImpl::OptimizeGraph`. */
export function demangle(symbol: string): string {
  if (!symbol.startsWith("_Z")) return symbol;
  const p = new Parser(symbol);
  p.pos = 2;
  try {
    if (p.peek() === "L") p.pos++;
    if (p.peek() === "N") return p.nested();
    const name = p.peek() === "S" ? `${p.substitution()}::${p.sourceName()}` : p.sourceName();
    return p.peek() === "I" ? name + p.templateArgs() : name;
  } catch {
    return symbol;
  }
}
