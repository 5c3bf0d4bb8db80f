/** Topic rules: publish names, subscription filters, matching, templates that a thing id cannot escape. */
import { isThingwireError } from "../../src/errors.ts";
import { assertPublishTopic, assertTopicFilter, MAX_TOPIC_BYTES, topicFor, topicMatches } from "../../src/device/topics.ts";
import type { Assert, Harness } from "./harness.ts";

const invalid = (rule: RegExp) => (e: unknown) => isThingwireError(e, "TOPIC_INVALID") && rule.test(e.message);

export function deviceTopicsSuite(h: Harness): void {
  const assert: Assert = h.assert;
  h.describe("device topics", () => {
    h.test("publish topics: plain names, $aws topics, UTF-8 and the 65,535-byte limit pass", () => {
      for (const t of ["a", "telemetry/thing-42", "/leading/slash", "trailing/", "$aws/things/t1/shadow/update", "ünï/cødé/😀", "a//b"]) {
        assertPublishTopic(t);
      }
      assertPublishTopic("x".repeat(MAX_TOPIC_BYTES));
    });

    h.test("publish topics: empty, wildcards, NUL, lone surrogates and oversize are refused with the rule", () => {
      assert.throws(() => assertPublishTopic(""), invalid(/must not be empty/));
      assert.throws(() => assertPublishTopic("a/+/b"), invalid(/wildcards/));
      assert.throws(() => assertPublishTopic("a/#"), invalid(/wildcards/));
      assert.throws(() => assertPublishTopic("a#b"), invalid(/wildcards/));
      assert.throws(() => assertPublishTopic("a\u0000b"), invalid(/NUL/));
      assert.throws(() => assertPublishTopic("a\uD800b"), invalid(/surrogate/));
      assert.throws(() => assertPublishTopic("x".repeat(MAX_TOPIC_BYTES + 1)), invalid(/65536 UTF-8 bytes long, the limit is 65535/));
      // 21,846 three-byte characters = 65,538 bytes, though only 21,846 UTF-16 units
      assert.throws(() => assertPublishTopic("€".repeat(21_846)), invalid(/65538 UTF-8 bytes/));
      assert.throws(() => assertPublishTopic(42 as unknown as string), invalid(/must be a string/));
    });

    h.test("filters: wildcards only as whole levels, # last, shared subscriptions", () => {
      for (const f of ["#", "+", "a/+/b", "a/#", "+/+/#", "$share/g1/devices/+/cmd", "$aws/things/+/shadow/#", "a//+"]) assertTopicFilter(f);
      assert.throws(() => assertTopicFilter("a/b#"), invalid(/# must be a whole level/));
      assert.throws(() => assertTopicFilter("a/#/b"), invalid(/# must be a whole level and the last/));
      assert.throws(() => assertTopicFilter("a/b+"), invalid(/\+ must be a whole level/));
      assert.throws(() => assertTopicFilter("a/++"), invalid(/\+ must be a whole level/));
      assert.throws(() => assertTopicFilter("$share/g+/a"), invalid(/shared subscription/));
      assert.throws(() => assertTopicFilter("$share/g"), invalid(/shared subscription/));
      assert.throws(() => assertTopicFilter(""), invalid(/empty/));
      assert.throws(() => assertTopicFilter("a\u0000"), invalid(/NUL/));
    });

    h.test("matching follows MQTT rules", () => {
      const cases: [string, string, boolean][] = [
        ["a/b", "a/b", true],
        ["a/+", "a/b", true],
        ["a/+", "a/b/c", false],
        ["a/#", "a", true],
        ["a/#", "a/b/c", true],
        ["#", "a/b", true],
        ["+/b", "/b", true],
        ["+", "a/b", false],
        ["#", "$SYS/x", false],
        ["+/x", "$aws/x", false],
        ["$aws/#", "$aws/x", true],
        ["$share/g/a/+", "a/b", true],
        ["a/b", "a/c", false],
        ["a/b/c", "a/b", false],
      ];
      for (const [f, t, want] of cases) assert.equal(topicMatches(f, t), want, `${f} vs ${t}`);
    });

    h.test("topicFor fills {name} and refuses values that would escape their level", () => {
      assert.equal(topicFor("telemetry/{thingId}", { thingId: "thing-42" }), "telemetry/thing-42");
      assert.equal(topicFor("$aws/things/{thingId}/shadow/{op}", { thingId: "t1", op: "update" }), "$aws/things/t1/shadow/update");
      for (const bad of ["a/b", "+", "#", "x#", "a\u0000", ""]) {
        assert.throws(() => topicFor("telemetry/{thingId}", { thingId: bad }), invalid(/must be non-empty and contain no/), JSON.stringify(bad));
      }
      assert.throws(() => topicFor("telemetry/{thingId}", {}), invalid(/needs a value for \{thingId\}/));
      assert.throws(() => topicFor("t/{toString}", {}), invalid(/needs a value/), "no prototype values");
    });
  });
}
