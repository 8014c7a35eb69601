// Pieces shared by the display and the control screen: the hall plan, bar charts, labels.
import { el, t } from "./common.js";
import { SYMBOLS } from "./board.js";

export function voteKindLabel(vote) {
  const kind = { secret: t("secret_ballot"), roll_call: t("roll_call"), open: t("open_vote") }[vote.kind];
  return vote.attempt > 1 ? `${kind} · ${t("attempt")} ${vote.attempt}` : kind;
}

/** What the vote is, with its stage (за основу / поправка / в цілому): the screens' vote head. */
export function voteHead(vote) {
  return `${voteKindLabel(vote)} · ${t(`stage_${vote.stage}`)}`;
}

/** Votes "for" a vote needs, known before the close when its rule counts from the total
 * composition (domain/rules.py minimum_count); null when it depends on who registers or votes. */
export function neededBeforeClose(vote) {
  const rule = vote.rule;
  if (!rule || rule.base !== "total") return null;
  const product = rule.numerator * vote.total_composition;
  const needed = rule.comparator === "more_than" ? Math.floor(product / rule.denominator) + 1
    : Math.ceil(product / rule.denominator);
  return Math.max(1, needed);
}

/** The adoption rule in words, with the votes needed where they are known already. */
export function ruleText(vote) {
  const needed = neededBeforeClose(vote);
  return `${t("rule")}: ${describeRule(vote.rule)}${needed === null ? "" : ` · ${t("threshold")}: ${needed}`}`;
}

/** The adoption rule in the screen's language ("більше половини від загального складу ради"). */
export function describeRule(rule) {
  const half = rule.numerator === 1 && rule.denominator === 2;
  const fraction = half ? t("rule_half") : `${rule.numerator}/${rule.denominator}`;
  return `${t(`rule_${rule.comparator}`)} ${fraction} ${t(`rule_of_${rule.base}`)}`;
}

/** Horizontal bars, one per count, scaled to `total`. */
export function renderBars(counts, total) {
  return el("div", { class: "bar-chart" }, Object.entries(counts).map(([key, n]) =>
    el("div", { class: `bar-row ${key}` },
      el("span", { class: "bar-label", text: t(`count_${key}`) }),
      el("span", { class: "bar-track" }, el("span", {
        class: "bar-fill", style: { width: `${total ? Math.round((100 * n) / total) : 0}%` },
      })),
      el("strong", { class: "bar-count", "data-choice": key, text: String(n) }))));
}

/**
 * Every seat coloured by registered / absent and, when the state carries per-deputy choices
 * (after a roll-call closes; for staff while a vote is open), by choice.
 */
export function renderPlan(box, roster, state, staff, { names = true } = {}) {
  const sitting = state.sitting;
  if (!sitting) { box.replaceChildren(); return; }
  const registered = new Set(sitting.registered_ids);
  const vote = state.vote;
  const choices = vote?.state === "closed" ? vote.outcomes : (staff ? vote?.choices : null);
  const waiting = staff && vote?.state === "open" ? new Set(vote.not_yet_voted ?? []) : new Set();
  const seats = sitting.participant_ids.map((id) => roster.get(id)).filter(Boolean)
    .sort((a, b) => (a.seat_number ?? 9999) - (b.seat_number ?? 9999));
  // Big councils get smaller seats (numbers only past 120), so the whole hall fits the screen.
  box.dataset.size = seats.length > 120 ? "many" : seats.length > 60 ? "some" : "few";
  box.replaceChildren(...seats.map((d) => {
    const choice = choices ? choices[d.id] : undefined;
    const classes = ["seat", registered.has(d.id) ? "registered" : "absent"];
    if (choice) classes.push(`choice-${choice}`);
    if (waiting.has(d.id)) classes.push("waiting");
    const label = `${d.seat_number ?? "—"} ${d.full_name}: ${registered.has(d.id) ? t("registered") : t("absent")}${choice ? `, ${t(choice)}` : ""}`;
    const mark = SYMBOLS[d.is_head ? "head" : choice ?? (registered.has(d.id) ? "registered" : "absent")];
    // A tile is a picture of the seat: its label says it all (a bare div may not carry one).
    return el("div", { class: classes.join(" "), role: "img", title: label, "aria-label": label, "data-deputy": d.id },
      el("span", { class: "seat-number" }, d.seat_number ? String(d.seat_number) : "",
        el("span", { class: "seat-mark", "aria-hidden": "true", text: ` ${mark}` })),
      names ? el("span", { class: "seat-name", text: d.short_name ?? d.full_name }) : null);
  }));
}
