/**
 * MQTT topic rules: publish topic names, subscription filters, filter matching and topic
 * templates whose variables cannot escape their level. Every refusal is a `TOPIC_INVALID`
 * `ThingwireError` that states the rule.
 */
import { ThingwireError } from "../errors.ts";
import { utf8Length } from "../store/store.ts";

/** The MQTT limit on a topic's UTF-8 length (a two-byte length prefix). */
export const MAX_TOPIC_BYTES = 65_535;

function invalid(kind: string, topic: string, rule: string): ThingwireError {
  const shown = topic.length > 80 ? `${topic.slice(0, 80)}…` : topic;
  return new ThingwireError("TOPIC_INVALID", `${kind} ${JSON.stringify(shown)} is not allowed: ${rule}.`);
}

function checkCommon(kind: string, topic: string): void {
  if (typeof topic !== "string") throw new ThingwireError("TOPIC_INVALID", `${kind} must be a string, got ${typeof topic}.`);
  if (topic.length === 0) throw invalid(kind, topic, "it must not be empty");
  if (topic.includes("\u0000")) throw invalid(kind, topic, "it must not contain the NUL character (U+0000)");
  if (/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(topic)) {
    throw invalid(kind, topic, "it must be well-formed UTF-8 (it contains a lone surrogate)");
  }
  const bytes = utf8Length(topic);
  if (bytes > MAX_TOPIC_BYTES) throw invalid(kind, topic, `it is ${bytes} UTF-8 bytes long, the limit is ${MAX_TOPIC_BYTES}`);
}

/**
 * Checks a topic name to publish to: not empty, no `+` or `#` wildcard, no NUL, well-formed,
 * at most 65,535 UTF-8 bytes. Throws `TOPIC_INVALID`.
 *
 * @example
 * ```ts
 * assertPublishTopic("telemetry/thing-42"); // ok
 * assertPublishTopic("telemetry/+");        // throws TOPIC_INVALID
 * ```
 */
export function assertPublishTopic(topic: string): void {
  checkCommon("publish topic", topic);
  if (topic.includes("+") || topic.includes("#")) {
    throw invalid("publish topic", topic, "wildcards + and # are only allowed in subscription filters");
  }
}

/**
 * Checks a subscription filter: `+` and `#` only as whole levels, `#` only as the last level;
 * shared subscriptions `$share/<group>/<filter>` need a group without wildcards. Throws `TOPIC_INVALID`.
 *
 * @example
 * ```ts
 * assertTopicFilter("devices/+/cmd/#"); // ok
 * assertTopicFilter("devices/a#");      // throws TOPIC_INVALID
 * ```
 */
export function assertTopicFilter(filter: string): void {
  checkCommon("subscription filter", filter);
  let levels = filter.split("/");
  if (levels[0] === "$share") {
    const group = levels[1];
    if (group === undefined || group === "" || group.includes("+") || group.includes("#") || levels.length < 3) {
      throw invalid("subscription filter", filter, "a shared subscription is $share/<group>/<filter> with a group name without wildcards");
    }
    levels = levels.slice(2);
  }
  levels.forEach((level, i) => {
    if (level.includes("#") && (level !== "#" || i !== levels.length - 1)) {
      throw invalid("subscription filter", filter, "# must be a whole level and the last one");
    }
    if (level.includes("+") && level !== "+") {
      throw invalid("subscription filter", filter, "+ must be a whole level");
    }
  });
}

/**
 * True when `topic` matches the subscription `filter` (MQTT rules: topics starting with `$` do
 * not match a leading wildcard; `$share/<group>/` is ignored).
 *
 * @example
 * ```ts
 * topicMatches("devices/+/cmd/#", "devices/t1/cmd/reboot"); // true
 * ```
 */
export function topicMatches(filter: string, topic: string): boolean {
  let f = filter.split("/");
  if (f[0] === "$share") f = f.slice(2);
  const t = topic.split("/");
  if (topic.startsWith("$") && (f[0] === "+" || f[0] === "#")) return false;
  for (let i = 0; i < f.length; i++) {
    const level = f[i];
    if (level === "#") return true;
    if (i >= t.length) return false;
    if (level !== "+" && level !== t[i]) return false;
  }
  return f.length === t.length;
}

/**
 * Fills a topic template: each `{name}` becomes `vars[name]`. A value that is empty or contains
 * `/`, `+`, `#` or NUL is refused (`TOPIC_INVALID`), so a thing id cannot escape its level or
 * widen a subscription; so is a `{name}` without a value.
 *
 * @example
 * ```ts
 * topicFor("telemetry/{thingId}", { thingId: "thing-42" }); // "telemetry/thing-42"
 * topicFor("telemetry/{thingId}", { thingId: "a/#" });      // throws TOPIC_INVALID
 * ```
 */
export function topicFor(template: string, vars: Readonly<Record<string, string>>): string {
  return template.replace(/\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) => {
    const v = Object.prototype.hasOwnProperty.call(vars, name) ? vars[name] : undefined;
    if (typeof v !== "string") {
      throw new ThingwireError("TOPIC_INVALID", `topic template ${JSON.stringify(template)} needs a value for {${name}}.`);
    }
    if (v === "" || /[/+#\u0000]/.test(v)) {
      throw new ThingwireError(
        "TOPIC_INVALID",
        `${name} ${JSON.stringify(v)} cannot go into topic template ${JSON.stringify(template)}: it must be non-empty and contain no "/", "+", "#" or NUL, or it would change the topic's levels.`,
      );
    }
    return v;
  });
}
