// Shared by the screens: the page's strings, the live connection, the clock and API calls.
import { io } from "socket.io-client";

const page = JSON.parse(document.getElementById("page-data").textContent);
export const lang = page.lang;
export const timezone = page.timezone;
export const mode = page.mode;

/** The translated string for `key` (the server rendered them into the page). */
export function t(key) {
  return page.strings.text[key] ?? key;
}

/** What a journal entry's kind means, for the staff's event log. */
export function eventText(kind) {
  return page.strings.events[kind] ?? kind;
}

/** What to tell a person about a refusal: the translation for its code, else the server's words. */
export function errorText(error) {
  if (!error) return "";
  return page.strings.errors[error.code] ?? error.message ?? String(error);
}

const pluralRules = new Intl.PluralRules(lang === "uk" ? "uk-UA" : "en-GB");

/** `n` with the plural form the language needs, e.g. plural("deputies", 22) → "22 депутати". */
export function plural(key, n) {
  const forms = page.strings.plural[key];
  const pattern = forms[pluralRules.select(n)] ?? forms.other ?? Object.values(forms)[0];
  return pattern.replace("{n}", String(n));
}

/** Fill every [data-bind=name] element with text. */
export function bind(root, name, text) {
  for (const el of root.querySelectorAll(`[data-bind="${name}"]`)) {
    if (el.textContent !== text) el.textContent = text; // unchanged text is not re-announced
  }
}

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    // through the CSSOM: a style attribute would be refused by the Content-Security-Policy
    else if (k === "style") Object.assign(node.style, v);
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? "" : v);
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined) node.append(child);
  }
  return node;
}

// The server's clock: time left is counted against it, not against this device's clock. The
// screen asks the server its time (`clock`) and keeps the answer that came back fastest of the
// last few: its error is at most half its round trip, so every screen counts down to a deadline
// on the same clock and shows the same second (bench/floor_load.py). The offset is kept against
// the page's monotonic clock (performance.now), so a device whose clock is set or jumps meanwhile
// still counts right. Until the first answer, the pushed snapshots' `now` stands in.
let offsetMs = 0;
let samples = []; // {trip, offset, at} of recent answers to `clock`
const CLOCK_SAMPLES = 6;
const CLOCK_EVERY_MS = 60_000;
const CLOCK_KEEP_MS = 5 * 60_000;
const monotonic = () => performance.timeOrigin + performance.now();
export function serverNow() {
  return monotonic() + offsetMs;
}

function askClock(socket, times = 3) {
  if (times <= 0 || !socket.connected) return;
  const sent = monotonic();
  socket.timeout(5000).emit("clock", (error, answer) => {
    if (error || !answer || !answer.now) return;
    const back = monotonic();
    samples = [...samples.filter((s) => back - s.at < CLOCK_KEEP_MS).slice(-(CLOCK_SAMPLES - 1)),
      { trip: back - sent, offset: Date.parse(answer.now) - (sent + back) / 2, at: back }];
    offsetMs = samples.reduce((best, s) => (s.trip < best.trip ? s : best)).offset;
    askClock(socket, times - 1);
  });
}

const clockFormat = new Intl.DateTimeFormat(lang === "uk" ? "uk-UA" : "en-GB", {
  timeZone: timezone, hour: "2-digit", minute: "2-digit", second: "2-digit",
});
const dateFormat = new Intl.DateTimeFormat(lang === "uk" ? "uk-UA" : "en-GB", {
  timeZone: timezone, day: "numeric", month: "long", year: "numeric",
});
export function formatClock(ms = serverNow()) {
  return clockFormat.format(new Date(ms));
}
export function formatDate(iso) {
  return dateFormat.format(new Date(iso));
}
/** A sitting's title with its date once: the default title carries the date (ISO), shown in
 * words instead; a title of its own gets the date after it. */
export function sittingHeading(sitting) {
  const day = formatDate(sitting.date);
  return sitting.title.includes(sitting.date) ? sitting.title.replace(sitting.date, day)
    : `${sitting.title} · ${day}`;
}

/** Seconds left of an open vote (null without a time limit). */
export function secondsLeft(vote) {
  if (!vote || !vote.deadline || vote.state !== "open") return null;
  return Math.max(0, Math.ceil((Date.parse(vote.deadline) - serverNow()) / 1000));
}

export function startClock(root) {
  const tick = () => bind(root, "clock", formatClock());
  tick();
  setInterval(tick, 250);
}

/**
 * Follow the live push. Snapshots older than the one shown are dropped: a lower journal number,
 * or the same number read earlier (a state is never newer than its number, but a read that a
 * commit overtook can be older than it, and a later push of the same state would not come). A
 * staff client that sees a gap in the numbered events asks for a fresh snapshot, as does every
 * client on reconnect
 * (the server sends one on every connection). `socket.ask()` asks for one at any time; its
 * answer goes through the same check, so a late answer never undoes a newer push.
 */
export function connectLive({ token = null, onSnapshot, onEvent = null, onStatus = null }) {
  let seq = -1;
  let readAt = 0; // when the server read the snapshot shown (its state's `now`)
  const socket = io({ auth: token ? { token } : {}, transports: ["websocket"] });
  const accept = (snapshot) => {
    if (!snapshot || snapshot.seq < seq) return;
    const at = Date.parse(snapshot.state?.now ?? "") || 0;
    if (snapshot.seq === seq && at && at < readAt) return;
    seq = snapshot.seq;
    readAt = at;
    if (snapshot.state && snapshot.state.now && !samples.length) {
      offsetMs = Date.parse(snapshot.state.now) - monotonic();
    }
    onSnapshot(snapshot);
  };
  socket.ask = () => socket.emit("snapshot", accept);
  socket.on("snapshot", accept);
  socket.on("event", (event) => {
    if (seq >= 0 && event.seq > seq + 1) {
      socket.ask(); // a gap: something was missed
    }
    seq = Math.max(seq, event.seq);
    if (onEvent) onEvent(event);
  });
  socket.on("connect", () => {
    samples = []; // perhaps another server process: its answers, not the last one's
    askClock(socket);
    if (onStatus) onStatus("connected");
  });
  setInterval(() => askClock(socket, 1), CLOCK_EVERY_MS);
  socket.on("disconnect", () => {
    seq = -1; // whatever comes after the reconnection is fresh (even a journal started anew)
    readAt = 0;
    if (onStatus) onStatus("reconnecting");
  });
  socket.on("connect_error", (error) => {
    if (onStatus) onStatus("reconnecting", error);
    // A refusal by the server is not retried by the client library: a busy server is asked
    // again; a refused token is for the page to handle (onStatus gets the error).
    if (!socket.active && !isRefusedToken(error)) {
      setTimeout(() => socket.connect(), 1000 + Math.random() * 2000);
    }
  });
  if (onStatus) onStatus("connecting");
  return socket;
}

/** Whether a connection error means the token was refused (revoked, expired, unknown). */
export function isRefusedToken(error) {
  return Boolean(error) && /rejected|token/i.test(String(error.message));
}

/** Call the JSON API; resolves to the body, or rejects with the server's message. */
export async function api(path, { method = "GET", body = undefined, token = null } = {}) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (token) headers.Authorization = `Bearer ${token}`;
  const response = await fetch(`/api/v1${path}`, {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  const data = text ? JSON.parse(text) : null;
  if (!response.ok) {
    const error = new Error(data?.error?.message ?? `${response.status} ${response.statusText}`);
    error.status = response.status;
    error.code = data?.error?.code;
    throw error;
  }
  return data;
}

/** The roster by id (names and seats for the hall plan and the roll-call). */
export async function loadRoster() {
  const { deputies } = await api("/deputies");
  return new Map(deputies.map((d) => [d.id, d]));
}

export const CHOICES = ["for", "against", "abstain"];
