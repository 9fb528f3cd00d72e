// Generates src/bpf/gen/<tracer>.ts: TypeScript decoders for the structs of bpf/include/<tracer>.h, with offsets
// taken from the BTF of build/bpf/<tracer>.bpf.o. Structs of the shared headers (bpf/include/hb_*.h) go once into
// src/bpf/gen/hb_<name>.ts, which the tracers import. Usage: bun scripts/gen-decoders.ts [--out DIR]
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

/** Struct name → the shared header (file name without .h) that declares it. */
type SharedStructs = ReadonlyMap<string, string>;

class Generator {
  readonly structs = new Map<string, Struct>();
  readonly helpers = new Set<string>();
  /** Shared header → the generator of its structs as this object lays them out. */
  readonly imported = new Map<string, Generator>();

  constructor(
    private readonly types: BtfType[],
    readonly origin: string,
    private readonly shared: SharedStructs = new Map(),
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
      const nested = this.nestedStruct(type);
      const decoder = `decode${pascal(nested.cName)}`;
      return { name, offset, size: nested.size, tsType: pascal(nested.cName), read: (at) => `${decoder}(view, ${at})`, reader: decoder };
    }
    const { tsType, reader } = this.scalar(type, exact, where);
    return { name, offset, size: type.sizeOrType || 1, tsType, read: (at) => `${reader}(view, ${at})`, reader };
  }

  private nestedStruct(type: BtfType): Struct {
    const header = this.shared.get(type.name);
    if (header === undefined) return this.struct(type);
    let generator = this.imported.get(header);
    if (!generator) {
      const others = new Map([...this.shared].filter(([, h]) => h !== header));
      this.imported.set(header, (generator = new Generator(this.types, this.origin, others)));
    }
    return generator.struct(type);
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

const declared = (header: string) => [...readFileSync(header, "utf8").matchAll(/^struct\s+(\w+)\s*\{/gm)].map((m) => m[1]!);

function sharedStructs(root: string): SharedStructs {
  const include = join(root, "bpf/include");
  const shared = new Map<string, string>();
  for (const file of readdirSync(include).filter((f) => /^hb_\w+\.h$/.test(f))) {
    for (const name of declared(join(include, file))) shared.set(name, file.slice(0, -".h".length));
  }
  return shared;
}

function source(origin: string, generator: Generator): string {
  const helpers = [...generator.helpers].sort();
  const imports = [...generator.imported].map(([header, g]) => {
    const names = [...g.structs.values()].flatMap((s) => [`decode${pascal(s.cName)}`, `type ${pascal(s.cName)}`]);
    return `import { ${names.join(", ")} } from "./${header}";`;
  });
  return [
    `// Generated by scripts/gen-decoders.ts from the BTF of ${origin}.`,
    `// Do not edit: run \`bun scripts/gen-decoders.ts\`; tests/bpf_decoders.test.ts fails when this file is stale.`,
    ...(helpers.length ? [`import { ${helpers.join(", ")} } from "../decode";`] : []),
    ...imports,
    ``,
    [...generator.structs.values()].map(render).join("\n\n"),
    ``,
  ].join("\n");
}

function tracerGenerator(root: string, tracer: string, shared: SharedStructs): Generator {
  const header = join(root, "bpf/include", `${tracer}.h`);
  const object = join(root, "build/bpf", `${tracer}.bpf.o`);
  const btf = elfSection(new Uint8Array(readFileSync(object)), ".BTF");
  if (!btf) throw new Error(`${object}: no .BTF section (compile with -g)`);
  const types = parseBtf(btf);
  const generator = new Generator(types, object, shared);
  for (const name of declared(header)) {
    const type = types.find((t) => t.kind === "struct" && t.name === name);
    if (!type) throw new Error(`${object}: struct ${name} of ${header} is not in BTF: pin it with HB_EXPORT_STRUCT(${name})`);
    generator.struct(type);
  }
  return generator;
}

/** Decoders of one tracer: the structs its header declares, laid out as its object's BTF says. */
export function generateTracer(root: string, tracer: string): string {
  const generator = tracerGenerator(root, tracer, sharedStructs(root));
  return source(`build/bpf/${tracer}.bpf.o (structs of bpf/include/${tracer}.h)`, generator);
}

/**
 * Every tracer that has both a header and a built object, and the shared headers they use: file name → source.
 * A shared struct is decoded one way for all, so every object that uses it must lay it out alike.
 */
export function generateAll(root: string): Map<string, string> {
  const shared = sharedStructs(root);
  const out = new Map<string, string>();
  const sharedOut = new Map<string, { text: string; origin: string }>();
  for (const file of readdirSync(join(root, "bpf")).filter((f) => f.endsWith(".bpf.c")).sort()) {
    const tracer = file.slice(0, -".bpf.c".length);
    if (!existsSync(join(root, "bpf/include", `${tracer}.h`))) continue;
    const generator = tracerGenerator(root, tracer, shared);
    out.set(`${tracer}.ts`, source(`build/bpf/${tracer}.bpf.o (structs of bpf/include/${tracer}.h)`, generator));
    for (const [header, g] of generator.imported) {
      const text = source(`the objects that use bpf/include/${header}.h`, g);
      const first = sharedOut.get(header);
      if (first && first.text !== text) {
        throw new Error(`bpf/include/${header}.h: ${g.origin} and ${first.origin} differ in the layout of its structs, or in which of them they use`);
      }
      sharedOut.set(header, first ?? { text, origin: g.origin });
    }
  }
  for (const [header, { text }] of sharedOut) out.set(`${header}.ts`, text);
  return out;
}

if (import.meta.main) {
  const root = join(import.meta.dir, "..");
  const outIndex = process.argv.indexOf("--out");
  const outDir = outIndex > 0 ? process.argv[outIndex + 1]! : join(root, "src/bpf/gen");
  mkdirSync(outDir, { recursive: true });
  for (const [file, source] of generateAll(root)) writeFileSync(join(outDir, file), source);
}
