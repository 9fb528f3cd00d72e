// Demangling: the qualified name of C++ and legacy Rust symbols; anything else unchanged.
import { expect, test } from "bun:test";
import { demangle } from "./demangle";

test.each([
  ["_ZN2v88internal8compiler12PipelineImpl13OptimizeGraphEPNS1_7LinkageE", "v8::internal::compiler::PipelineImpl::OptimizeGraph"],
  ["_ZN4node12_GLOBAL__N_1L20PlatformWorkerThreadEPv", "node::(anonymous namespace)::PlatformWorkerThread"],
  ["_ZN2v88internal12PipelineImpl3RunINS1_5PhaseEJEEEvDpOT0_", "v8::internal::PipelineImpl::Run<…>"],
  ["_ZN3foo3BarC2Ev", "foo::Bar::Bar"],
  ["_ZN3foo3BarD1Ev", "foo::Bar::~Bar"],
  ["_ZNK3foo3BarclEi", "foo::Bar::operator()"],
  ["_ZNSt6vectorIiSaIiEE9push_backERKi", "std::vector<…>::push_back"],
  ["_Z3fooi", "foo"],
  ["_ZL6helperv", "helper"],
  ["_ZN4core3fmt5write17h0123456789abcdefE", "core::fmt::write"],
  ["main", "main"],
  ["_Zbroken", "_Zbroken"],
])("%s → %s", (mangled, plain) => {
  expect(demangle(mangled)).toBe(plain);
});
