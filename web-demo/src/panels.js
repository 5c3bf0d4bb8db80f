// The side panels: errors (aggregated, bounded), the inbox list, the operator's command log.

import { byteSize, clockTime } from "./format.js";

function el(tag, className, text) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}

/** Errors shown in the page: the same code + where counts up instead of scrolling everything away. */
export class ErrorPanel {
  /** @param {HTMLElement} panel  @param {HTMLOListElement} list  @param {HTMLElement} counter */
  constructor(panel, list, counter, max = 30) {
    this.panel = panel;
    this.list = list;
    this.counter = counter;
    this.max = max;
    this.total = 0;
    /** @type {Map<string, {li: HTMLLIElement, count: number, countEl: HTMLElement}>} */
    this.byKey = new Map();
  }

  /**
   * @param {unknown} error   a ThingwireError (code, message, offset/line/column) or anything thrown
   * @param {string} where    what the page was doing: "DBC vehicle.dbc", "devices/truck-1/can" …
   */
  add(error, where) {
    const e = /** @type {any} */ (error);
    const code = typeof e?.code === "string" ? e.code : e?.name ?? "ERROR";
    let message = typeof e?.message === "string" ? e.message : String(error);
    const at = [];
    if (typeof e?.line === "number") at.push(`line ${e.line}${typeof e?.column === "number" ? `:${e.column}` : ""}`);
    if (typeof e?.offset === "number") at.push(`byte ${e.offset}`);
    if (typeof e?.path === "string") at.push(e.path);
    if (at.length) message += ` (${at.join(", ")})`;
    const key = `${code}|${where}|${message}`;
    this.total++;
    this.counter.textContent = String(this.total);
    this.counter.classList.add("bad");
    this.panel.dataset.count = String(this.total);
    const seen = this.byKey.get(key);
    if (seen) {
      seen.count++;
      seen.countEl.textContent = `×${seen.count}`;
      this.list.prepend(seen.li);
      return;
    }
    this.list.querySelector(".empty")?.remove();
    const li = el("li");
    li.dataset.testid = "error-item";
    li.dataset.code = code;
    const countEl = el("span", "count", "");
    li.append(countEl, el("span", "code", code), el("span", "where", `${clockTime(Date.now())} ${where}: `), el("span", "msg", message));
    this.list.prepend(li);
    this.byKey.set(key, { li, count: 1, countEl });
    while (this.list.children.length > this.max) {
      const last = /** @type {HTMLLIElement} */ (this.list.lastElementChild);
      for (const [k, v] of this.byKey) if (v.li === last) this.byKey.delete(k);
      last.remove();
    }
    console.warn(`[kiosk] ${code} ${where}: ${message}`);
  }

  clear() {
    this.byKey.clear();
    this.total = 0;
    this.counter.textContent = "0";
    this.counter.classList.remove("bad");
    this.panel.dataset.count = "0";
    this.list.replaceChildren(el("li", "empty", "none"));
  }
}

/** The latest received messages, newest first, bounded. */
export class InboxList {
  /** @param {HTMLOListElement} list */
  constructor(list, max = 40) {
    this.list = list;
    this.max = max;
  }

  /** @param {{ topic: string, format: string, size: number, at: number, summary?: string }} m */
  add(m) {
    const li = el("li");
    li.dataset.testid = "inbox-item";
    li.dataset.format = m.format;
    li.append(el("span", "time", clockTime(m.at)), el("span", "fmt", m.format), el("span", "topic", m.summary ? `${m.topic} · ${m.summary}` : m.topic), el("span", "size", byteSize(m.size)));
    this.list.prepend(li);
    while (this.list.children.length > this.max) this.list.lastElementChild?.remove();
  }
}

const LOG_KEY = "thingwire-kiosk-commands";

/**
 * Commands the operator sent, with their state: queued (in the IndexedDB outbox), sent (left the outbox:
 * the broker acknowledged it), acked (the device answered on its egress topic), failed (dead-lettered).
 * Kept in localStorage so a reload still shows what is waiting.
 */
export class CommandLog {
  /** @param {HTMLOListElement} list */
  constructor(list, thing, max = 30) {
    this.list = list;
    this.key = `${LOG_KEY}-${thing}`;
    this.max = max;
    /** @type {{id: string, messageId: string, command: string, value: string, at: number, state: string, note?: string}[]} */
    this.entries = [];
    try {
      const saved = JSON.parse(localStorage.getItem(this.key) ?? "[]");
      if (Array.isArray(saved)) this.entries = saved.slice(0, max);
    } catch {
      this.entries = [];
    }
    window.addEventListener("storage", (ev) => {
      if (ev.key !== this.key || ev.newValue === null) return;
      try {
        const theirs = JSON.parse(ev.newValue);
        if (Array.isArray(theirs)) {
          this.entries = theirs;
          this.render();
        }
      } catch {
        // another tab wrote garbage: keep ours
      }
    });
    this.render();
  }

  save() {
    try {
      localStorage.setItem(this.key, JSON.stringify(this.entries.slice(0, this.max)));
    } catch {
      // storage full or disabled: the list lasts until the reload
    }
  }

  add(entry) {
    this.entries.unshift(entry);
    this.entries.length = Math.min(this.entries.length, this.max);
    this.save();
    this.render();
  }

  /** Updates the state of the command with id `id` (or messageId); returns true when found. */
  setState(match, state, note) {
    const rank = { queued: 0, sent: 1, acked: 2, failed: 2 };
    const e = this.entries.find((x) => x.id === match || x.messageId === match);
    if (!e || (rank[state] ?? 0) < (rank[e.state] ?? 0) || (e.state === state && e.note === note)) return false;
    e.state = state;
    if (note !== undefined) e.note = note;
    this.save();
    this.render();
    return true;
  }

  /** Commands still believed to be in the outbox. */
  pending() {
    return this.entries.filter((e) => e.state === "queued");
  }

  render() {
    this.list.replaceChildren(
      ...this.entries.map((e) => {
        const li = el("li");
        li.dataset.testid = "command-item";
        li.dataset.state = e.state;
        li.dataset.id = e.id;
        li.title = e.note ? `${e.id}: ${e.note}` : e.id;
        li.append(el("span", "time", clockTime(e.at)), el("span", "what", e.value ? `${e.command} ${e.value}` : e.command), el("span", "badge", e.state));
        return li;
      }),
    );
  }
}
