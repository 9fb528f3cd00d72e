// Module types for files Bun embeds with `import path from "x" with { type: "file" }` (see gen/embedded.ts).
declare module "*.o" {
  const path: string;
  export default path;
}

declare module "*.so" {
  const path: string;
  export default path;
}
