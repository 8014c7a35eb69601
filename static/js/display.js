// The hall display, the broadcast overlay and the public web page: one module, three layouts.
import {
  bind, connectLive, el, formatDate, loadRoster, mode, plural, secondsLeft, startClock, t,
} from "./common.js";
import { renderPlan, renderBars, voteKindLabel } from "./hall.js";

const root = document.getElementById("display");
let roster = new Map();
let state = null;

function renderRollCall(vote) {
  const box = root.querySelector('[data-bind="roll-call"]');
  const outcomes = vote && vote.state === "closed" ? vote.outcomes : null;
  box.hidden = !outcomes || mode === "overlay";
  box.replaceChildren();
  if (box.hidden) return;
  // The roll-call in the roster's order (the head first, then alphabetical), as in the protocol.
  const rows = [...roster.values()].filter((d) => outcomes[d.id] !== undefined);
  box.append(el("h2", { text: `${t("roll_call")}: ${vote.title}` }),
    el("ul", { class: "roll-call-list" }, rows.map((d) => el("li", { class: `outcome-${outcomes[d.id]}`, "data-deputy": d.id },
      el("span", { class: "name", text: mode === "web" ? d.full_name : (d.short_name ?? d.full_name) }),
      el("span", { class: "outcome", text: t(outcomes[d.id]) })))));
}

function renderVote() {
  const vote = state?.vote;
  const section = root.querySelector('[data-bind="vote"]');
  section.hidden = !vote;
  if (!vote) return;
  section.dataset.state = vote.state;
  section.classList.toggle("secret", vote.kind === "secret");
  section.classList.toggle("announced", Boolean(vote.announced_at));
  bind(root, "vote-kind", voteKindLabel(vote));
  bind(root, "vote-title", vote.title);
  const progress = root.querySelector('[data-bind="vote-progress"]');
  const result = root.querySelector('[data-bind="result"]');
  if (vote.state === "open") {
    const left = secondsLeft(vote);
    progress.replaceChildren(
      el("span", { class: "badge live", text: t("vote_open") }),
      el("span", { text: `${t("votes_cast")}: ${vote.votes_cast}` }),
      el("span", { class: "time-left", text: left === null ? t("no_limit") : `${t("time_left")}: ${plural("seconds", left)}` }));
    if (vote.running) {
      progress.append(renderBars(vote.running, vote.total_composition));
    }
    result.hidden = true;
  } else if (vote.state === "annulled") {
    progress.replaceChildren(el("span", { class: "badge", text: t("vote_annulled") }));
    result.hidden = true;
  } else {
    progress.replaceChildren(...[el("span", { class: "badge", text: vote.manual ? t("manual") : t("vote_closed") }),
      vote.announced_at ? el("span", { class: "badge announced", text: t("announced") }) : null].filter(Boolean));
    const r = vote.result;
    result.hidden = !r;
    if (r) {
      const verdict = root.querySelector('[data-bind="verdict"]');
      verdict.textContent = t(r.result);
      verdict.className = `verdict ${r.result}`;
      root.querySelector('[data-bind="bars"]').replaceChildren(renderBars(
        { for: r.for, against: r.against, abstain: r.abstain, not_voted: r.not_voted, absent: r.absent },
        vote.total_composition));
      bind(root, "threshold", `${t("threshold")}: ${r.threshold} · ${t("total")}: ${vote.total_composition}`);
    }
  }
}

function render() {
  if (!state) return;
  bind(root, "council", state.council.name);
  const sitting = state.sitting;
  bind(root, "sitting", sitting ? `${sitting.title} · ${formatDate(sitting.date)}` : t("no_sitting"));
  // The item under consideration; once its vote has decided it, the item of that vote.
  const item = state.current_item;
  bind(root, "item-number", item ? `${t("item")} ${item.position}${item.draft_number ? ` · № ${item.draft_number}` : ""}` : "");
  bind(root, "item-title", item ? item.title : state.vote ? state.vote.title : (sitting ? t("no_item") : ""));
  bind(root, "registered", sitting ? String(sitting.registered) : "—");
  bind(root, "total", sitting ? String(sitting.total_composition) : "—");
  const quorum = root.querySelector('[data-bind="quorum"]');
  quorum.textContent = sitting ? (sitting.quorum ? t("quorum_yes") : t("quorum_no")) : "";
  quorum.className = `quorum ${sitting?.quorum ? "yes" : "no"}`;
  if (sitting) quorum.title = `${t("threshold")}: ${sitting.quorum_required}`;
  renderVote();
  if (mode !== "overlay") {
    renderPlan(root.querySelector('[data-bind="plan"]'), roster, state, false);
    renderRollCall(state.vote);
  }
  root.dataset.seq = String(state.seq ?? "");
}

startClock(root);
setInterval(() => { if (state?.vote?.state === "open") renderVote(); }, 250);
roster = await loadRoster().catch(() => new Map());
connectLive({
  onSnapshot(snapshot) {
    state = snapshot.state ? { ...snapshot.state, seq: snapshot.seq } : null;
    if (state) render();
  },
  onStatus(status) {
    bind(root, "connection", t(status));
    root.dataset.connection = status;
    if (status === "connected") loadRoster().then((r) => { roster = r; render(); }).catch(() => {});
  },
});
