/**
 * The stdout handler: one JSON line per message on standard output
 * (`{"seq","topic","qos","receivedAt","bytes","payload"|"payloadBase64"}`), the payload as text when
 * it is printable UTF-8, else base64. Logs go to standard error, so stdout stays data only.
 *
 * @example
 * ```yaml
 * handlers: [ { type: stdout } ]
 * ```
 */
import type { CliIO } from "../command.ts";
import { messageJson } from "./payload.ts";
import type { Handler } from "./handler.ts";

/** A handler writing each message as a JSON line to `io.stdout`. */
export function stdoutHandler(name: string, io: CliIO): Handler {
  return {
    name,
    handle(message) {
      io.stdout(JSON.stringify(messageJson(message)) + "\n");
      return Promise.resolve();
    },
  };
}
