// Generates src/bpf/gen/<tracer>.ts: TypeScript decoders for the structs of bpf/include/<tracer>.h, with offsets
// taken from the BTF of build/bpf/<tracer>.bpf.o. Usage: bun scripts/gen-decoders.ts [--out DIR]
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { elfSection, parseBtf, type BtfType } from "../src/bpf/btf";

const EXACT_TYPEDEF = "hb_u64_exact";

interface Field {
  name: string;
  offset: number;
  size: number;
  tsType: string;
  /** Expression reading the field at `offset + <field offset>`. */
  read(at: string): string;
  /** The reader for one array element, as a function expression. */
  reader: string;
}

interface Struct {
  cName: string;
  size: number;
  fields: Field[];
}

const pascal = (name: string) => name.replace(/(^|_)([a-z0-9])/g, (_, _u, c: string) => c.toUpperCase());
const camel = (name: string) => pascal(name).replace(/^./, (c) => c.toLowerCase());

class Generator {
  readonly structs = new Map<string, Struct>();
  readonly helpers = new Set<string>();

  constructor(
    private readonly types: BtfType[],
    private readonly origin: string,
  ) {}

  /** Follows typedefs and modifiers; reports whether the exact-u64 typedef was on the way. */
  private resolve(id: number): { type: BtfType; exact: boolean } {
    let type = this.types[id]!;
    let exact = false;
    while (["typedef", "const", "volatile", "restrict", "type_tag"].includes(type.kind)) {
      if (type.kind === "typedef" && type.name === EXACT_TYPEDEF) exact = true;
      type = this.types[type.sizeOrType]!;
    }
    return { type, exact };
  }

  private fail(message: string): never {
    throw new Error(`${this.origin}: ${message}`);
  }

  private scalar(type: BtfType, exact: boolean, where: string): { tsType: string; reader: string } {
    const size = type.kind === "int" ? type.sizeOrType : type.kind.startsWith("enum") ? type.sizeOrType : 0;
    if (type.kind === "int" && type.bool) {
      this.helpers.add("bool");
      return { tsType: "boolean", reader: "bool" };
    }
    if (size === 8) {
      const helper = exact ? "big64" : type.signed ? "s64" : "u64";
      this.helpers.add(helper);
      return { tsType: exact ? "bigint" : "number", reader: helper };
    }
    if (size === 1 || size === 2 || size === 4) {
      const helper = `${type.signed ? "s" : "u"}${size * 8}`;
      this.helpers.add(helper);
      return { tsType: "number", reader: helper };
    }
    return this.fail(`${where}: unsupported type ${type.kind} ${type.name} (use fixed-width integers)`);
  }

  private field(name: string, offset: number, id: number, where: string): Field {
    const { type, exact } = this.resolve(id);
    if (type.kind === "array") {
      const element = this.resolve(type.array!.type);
      const count = type.array!.count;
      if (element.type.kind === "int" && element.type.sizeOrType === 1 && element.type.name === "char") {
        this.helpers.add("cString");
        const read = (at: string) => `cString(view, ${at}, ${count})`;
        return { name, offset, size: count, tsType: "string", read, reader: "" };
      }
      const inner = this.field(name, 0, type.array!.type, where);
      this.helpers.add("readArray");
      const read = (at: string) => `readArray(view, ${at}, ${count}, ${inner.size}, ${inner.reader})`;
      return { name, offset, size: inner.size * count, tsType: `${inner.tsType}[]`, read, reader: "" };
    }
    if (type.kind === "struct") {
      const nested = this.struct(type);
      const decoder = `decode${pascal(nested.cName)}`;
      return { name, offset, size: nested.size, tsType: pascal(nested.cName), read: (at) => `${decoder}(view, ${at})`, reader: decoder };
    }
    const { tsType, reader } = this.scalar(type, exact, where);
    return { name, offset, size: type.sizeOrType || 1, tsType, read: (at) => `${reader}(view, ${at})`, reader };
  }

  struct(type: BtfType): Struct {
    const known = this.structs.get(type.name);
    if (known) return known;
    let end = 0;
    const fields: Field[] = [];
    for (const member of type.members ?? []) {
      const where = `struct ${type.name}.${member.name}`;
      if (member.bitSize) this.fail(`${where}: bitfields are not allowed`);
      const offset = member.bitOffset / 8;
      if (offset !== end) this.fail(`${where}: implicit padding at byte ${end}, add an explicit __pad field`);
      const field = this.field(member.name, offset, member.type, where);
      end = offset + field.size;
      fields.push(field);
    }
    if (end !== type.sizeOrType) this.fail(`struct ${type.name}: implicit tail padding after byte ${end}`);
    const struct = { cName: type.name, size: type.sizeOrType, fields };
    this.structs.set(type.name, struct);
    return struct;
  }
}

const isPadding = (field: Field) => /^_*pad/.test(field.name);

function render(struct: Struct): string {
  const type = pascal(struct.cName);
  const visible = struct.fields.filter((f) => !isPadding(f));
  const layout = struct.fields.map((f) => `    ${f.name}: { offset: ${f.offset}, size: ${f.size} },`);
  return [
    `/** struct ${struct.cName} (${struct.size} bytes) */`,
    `export interface ${type} {`,
    ...visible.map((f) => `  ${f.name}: ${f.tsType};`),
    `}`,
    ``,
    `export const ${camel(struct.cName)}Layout = {`,
    `  size: ${struct.size},`,
    `  fields: {`,
    ...layout,
    `  },`,
    `} as const;`,
    ``,
    `export function decode${type}(view: DataView, offset: number): ${type} {`,
    `  return {`,
    ...visible.map((f) => `    ${f.name}: ${f.read(`offset + ${f.offset}`)},`),
    `  };`,
    `}`,
  ].join("\n");
}

/** Decoders of one tracer: the structs its header declares, laid out as its object's BTF says. */
export function generateTracer(root: string, tracer: string): string {
  const header = join(root, "bpf/include", `${tracer}.h`);
  const object = join(root, "build/bpf", `${tracer}.bpf.o`);
  const btf = elfSection(new Uint8Array(readFileSync(object)), ".BTF");
  if (!btf) throw new Error(`${object}: no .BTF section (compile with -g)`);
  const types = parseBtf(btf);
  const generator = new Generator(types, object);
  const names = [...readFileSync(header, "utf8").matchAll(/^struct\s+(\w+)\s*\{/gm)].map((m) => m[1]!);
  for (const name of names) {
    const type = types.find((t) => t.kind === "struct" && t.name === name);
    if (!type) throw new Error(`${object}: struct ${name} of ${header} is not in BTF: pin it with HB_EXPORT_STRUCT(${name})`);
    generator.struct(type);
  }
  const helpers = [...generator.helpers].sort();
  return [
    `// Generated by scripts/gen-decoders.ts from the BTF of build/bpf/${tracer}.bpf.o (structs of bpf/include/${tracer}.h).`,
    `// Do not edit: run \`bun scripts/gen-decoders.ts\`; tests/bpf_decoders.test.ts fails when this file is stale.`,
    ...(helpers.length ? [`import { ${helpers.join(", ")} } from "../decode";`] : []),
    ``,
    [...generator.structs.values()].map(render).join("\n\n"),
    ``,
  ].join("\n");
}

/** Every tracer that has both a header and a built object: file name → source. */
export function generateAll(root: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const file of readdirSync(join(root, "bpf")).filter((f) => f.endsWith(".bpf.c")).sort()) {
    const tracer = file.slice(0, -".bpf.c".length);
    if (!existsSync(join(root, "bpf/include", `${tracer}.h`))) continue;
    out.set(`${tracer}.ts`, generateTracer(root, tracer));
  }
  return out;
}

if (import.meta.main) {
  const root = join(import.meta.dir, "..");
  const outIndex = process.argv.indexOf("--out");
  const outDir = outIndex > 0 ? process.argv[outIndex + 1]! : join(root, "src/bpf/gen");
  mkdirSync(outDir, { recursive: true });
  for (const [file, source] of generateAll(root)) writeFileSync(join(outDir, file), source);
}
