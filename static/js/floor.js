// The floor on every screen: the speaking clock, the speech types' names, the speaker list.
// The countdown is never counted by ticks: each render computes it from the server's deadline
// (against the server's clock, serverNow), so every screen shows the same second.
import { el, serverNow, t } from "./common.js";

/** The kinds of speech a deputy asks for at the terminal, in the order of its buttons. */
export const REQUEST_TYPES = [
  "speech", "question", "reply", "point_of_order", "explanation_of_vote", "faction_statement",
];

/** Every speech type, in the order of the chair's form. */
export const SPEECH_TYPES = [
  "report", "co_report", "closing_word", "speech", "question", "answer", "reply",
  "point_of_order", "explanation_of_vote", "faction_statement", "invited",
];

export function typeLabel(type) {
  return t(`speech_type_${type}`);
}

/** Seconds left of a speech (negative once overrun): to the deadline while it runs. */
export function remainingSeconds(speech) {
  if (!speech) return null;
  return speech.deadline ? (Date.parse(speech.deadline) - serverNow()) / 1000 : speech.remaining_seconds;
}

/** m:ss of whole seconds (rounded up, as the last second shows until it has passed); an overrun
 * shows with a minus sign: −0:05. */
export function formatCountdown(seconds) {
  const whole = Math.ceil(seconds);
  const shown = Math.abs(whole);
  const text = `${Math.floor(shown / 60)}:${String(shown % 60).padStart(2, "0")}`;
  return whole < 0 ? `\u2212${text}` : text;
}

/** What colour the clock is: "on_time", "warning" (amber, at the warning) or "over" (red, at 0). */
export function clockSignal(remaining, floor) {
  if (remaining <= 0) return "over";
  if (remaining <= (floor?.warning_seconds ?? 0)) return "warning";
  return "on_time";
}

/** An estimated wait as "≈ m:ss". */
export function formatWait(seconds) {
  return `\u2248 ${formatCountdown(Math.max(0, seconds ?? 0))}`;
}

/** A clock element for a speech: render it with updateClock. */
export function clockElement(extraClass = "") {
  return el("span", { class: `countdown ${extraClass}`.trim(), "data-countdown": "", role: "timer" });
}

/** Set every [data-countdown] under `root` to the speech's time left, coloured by the signal. */
export function updateClocks(root, floor) {
  const speech = floor?.speech;
  if (!speech) return;
  const remaining = remainingSeconds(speech);
  const text = formatCountdown(remaining);
  const signal = clockSignal(remaining, floor);
  for (const clock of root.querySelectorAll("[data-countdown]")) {
    if (clock.textContent !== text) clock.textContent = text;
    if (clock.dataset.signal !== signal) clock.dataset.signal = signal;
    clock.dataset.digits = String(text.length); // a long overrun (−10:00) gets a smaller size
    const paused = speech.state === "paused";
    if (clock.classList.contains("paused") !== paused) clock.classList.toggle("paused", paused);
  }
}

/** Who a speaker is, in one line: faction (or an invited speaker's position). */
export function speakerAffiliation(entry) {
  return entry.deputy_id === null || entry.deputy_id === undefined ? (entry.position ?? t("invited")) : (entry.faction ?? "");
}

/** "Spoke: 2 · Waiting: 5" for the item. */
export function countsText(floor) {
  return `${t("spoke")}: ${floor.spoke} \u00b7 ${t("waiting")}: ${floor.waiting}`;
}
