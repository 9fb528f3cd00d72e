import { expect, test } from "bun:test";
import { parseListenAddress } from "./http";

test("parses listen addresses", () => {
  expect(parseListenAddress(":19704")).toEqual({ hostname: "0.0.0.0", port: 19704 });
  expect(parseListenAddress("127.0.0.1:8080")).toEqual({ hostname: "127.0.0.1", port: 8080 });
  expect(parseListenAddress("[::1]:9")).toEqual({ hostname: "::1", port: 9 });
  expect(() => parseListenAddress("19704")).toThrow("invalid listen address");
  expect(() => parseListenAddress(":99999")).toThrow("invalid listen address");
});
