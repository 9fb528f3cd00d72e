import { expect, test } from "bun:test";
import { formatFamilies } from "./exposition";

test("formats families with escaping and special values", () => {
  const text = formatFamilies([
    {
      name: "b_metric",
      help: 'line\\one\nline two',
      type: "gauge",
      samples: [
        { metricName: "b_metric", labels: { dev: 'a"b\\c\nd' }, value: NaN },
        { metricName: "b_metric", labels: {}, value: Infinity },
      ],
    },
    { name: "a_metric", help: "first", type: "counter", samples: [{ metricName: "a_metric", labels: { x: "1" }, value: 2.5 }] },
  ]);
  expect(text).toBe(
    [
      "# HELP a_metric first",
      "# TYPE a_metric counter",
      'a_metric{x="1"} 2.5',
      "# HELP b_metric line\\\\one\\nline two",
      "# TYPE b_metric gauge",
      'b_metric{dev="a\\"b\\\\c\\nd"} NaN',
      "b_metric +Inf",
      "",
    ].join("\n"),
  );
});
