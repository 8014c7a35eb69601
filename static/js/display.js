// The hall display, the broadcast overlay and the public web page: one module, three layouts.
import {
  api, bind, connectLive, el, loadRoster, mode, plural, secondsLeft, sittingHeading, startClock, t,
} from "./common.js";
import {
  countsText, formatWait, speakerAffiliation, typeLabel, updateClocks,
} from "./floor.js";
import { renderPlan, renderBars, ruleText, voteHead } from "./hall.js";
import { Board, COUNTED, SYMBOLS, groupsOf } from "./board.js";

const root = document.getElementById("display");
let roster = new Map();
let state = null;
const board = mode === "hall" ? new Board(root.querySelector('[data-bind="board"]')) : null;

/**
 * What the main area shows: "vote" (an open vote always; else the latest vote's result) or
 * "speaker" (someone speaks, or waits to, and no vote is open). The overlay shows the speaker
 * only while someone speaks. With a vote open, a speech still live shows small beside it.
 */
function layoutOf(state) {
  const floor = state.floor;
  if (state.vote?.state === "open") return "vote";
  if (floor?.speech) return "speaker";
  if (mode !== "overlay" && floor?.queue?.length) return "speaker";
  return "vote";
}

function renderRollCall(vote) {
  const box = root.querySelector('[data-bind="roll-call"]');
  const outcomes = vote && vote.state === "closed" ? vote.outcomes : null;
  box.hidden = !outcomes; // the public page (the hall display has its board)
  box.replaceChildren();
  if (box.hidden) return;
  // The roll-call by faction (the head first), each with its own counts; in the roster's order
  // within it (alphabetical), as in the protocol.
  const rows = [...roster.values()].filter((d) => outcomes[d.id] !== undefined);
  box.append(el("h2", { text: `${t("roll_call")}: ${vote.title}` }), ...factionGroups(rows, (d) => outcomes[d.id]));
}

/** People (roster entries or roll-call lines) by faction, each group with its counts, each
 * person with the outcome `outcomeOf` gives them. */
function factionGroups(people, outcomeOf) {
  return groupsOf(people).map((g) => el("section", { class: "faction-group" },
    el("h3", {}, el("span", { text: `${g.name} (${g.members.length})` }),
      el("span", { class: "faction-counts", text: COUNTED.map((c) => `${t(`count_${c}`)} ${g.members
        .filter((d) => outcomeOf(d) === c).length}`).join(" \u00b7 ") })),
    el("ul", { class: "roll-call-list" }, g.members.map((d) => el("li", { class: `outcome-${outcomeOf(d)}`, "data-deputy": d.id ?? d.deputy_id },
      el("span", { class: "name", text: d.full_name }),
      el("span", { class: "outcome" }, el("span", { class: "mark", "aria-hidden": "true", text: SYMBOLS[outcomeOf(d)] }),
        ` ${t(outcomeOf(d))}`))))));
}

/** The public page: every vote of the sitting so far, newest first, read again when the latest
 * vote opens, closes, is annulled or announced, and (no vote open) after any other change at
 * most every EARLIER_MS, so an earlier vote's annulment shows too; a roll-call vote's names
 * fold out (read when asked). */
const EARLIER_MS = 5000;
let earlierFor = null;
let earlierSeq = -1;
let earlierAt = 0;
let earlierLater = null;
async function renderEarlier() {
  const box = root.querySelector('[data-bind="earlier"]');
  if (!box) return;
  if (!state?.sitting) {
    box.hidden = true;
    box.replaceChildren();
    earlierFor = null;
    return;
  }
  const v = state.vote;
  const key = JSON.stringify([state.sitting.id, v?.vote_id, v?.state, v?.announced_at]);
  if (key === earlierFor) {
    // Something else changed: perhaps an earlier vote's annulment; read again, not too often.
    if (v?.state === "open" || state.seq === earlierSeq || earlierLater) return;
    const wait = Math.max(0, earlierAt + EARLIER_MS - Date.now());
    earlierLater = setTimeout(() => {
      earlierLater = null;
      earlierFor = null;
      renderEarlier().catch(() => { earlierFor = null; });
    }, wait);
    return;
  }
  earlierFor = key;
  earlierSeq = state.seq;
  earlierAt = Date.now();
  const { votes } = await api(`/sittings/${state.sitting.id}/votes`);
  if (key !== earlierFor) return; // a newer change asked again meanwhile
  const done = votes.filter((x) => x.state !== "open").reverse();
  box.hidden = done.length === 0;
  box.replaceChildren(el("h2", { text: t("sitting_votes") }), el("ol", { class: "earlier-votes", reversed: true },
    done.map((x) => el("li", { "data-vote": x.vote_id },
      el("p", { class: "vote-line" }, el("strong", { text: x.title }), ` \u2014 ${voteHead(x)}`),
      el("p", {}, ...resultText(x)),
      x.kind === "roll_call" && x.result ? foldOut(x) : null)))); // counted (annulled too)
}

function resultText(x) {
  if (x.state === "annulled") {
    return [el("strong", { text: t("vote_annulled") }), x.annul_reason ? `: ${x.annul_reason}` : ""];
  }
  const r = x.result;
  if (!r) return [];
  return [el("strong", { class: r.result === "adopted" ? "yes" : "no", text: t(r.result) }),
    `: ${COUNTED.map((c) => `${t(`count_${c}`)} ${r[c]}`).join(" \u00b7 ")} (${t("threshold")}: ${r.threshold})`];
}

function foldOut(x) {
  const details = el("details", {}, el("summary", { text: t("roll_call_results") }));
  details.addEventListener("toggle", async () => {
    if (!details.open || details.dataset.loaded) return;
    details.dataset.loaded = "1";
    try {
      const { roll_call: lines } = await api(`/votes/${x.vote_id}`);
      details.append(...factionGroups(lines ?? [], (line) => line.outcome));
    } catch {
      delete details.dataset.loaded; // asked again when opened again
      details.open = false;
    }
  });
  return details;
}

/** The vote the screen shows: the sitting's latest, but not a finished one of another item once
 * the next item is under consideration (its result must not stand under the new title). */
function currentVote() {
  const vote = state?.vote;
  const item = state?.current_item;
  if (vote && vote.state !== "open" && item && vote.item_id !== null && vote.item_id !== item.id) return null;
  return vote ?? null;
}

function renderVote() {
  const vote = currentVote();
  const section = root.querySelector('[data-bind="vote"]');
  // On the hall display and the overlay the speaker takes the vote's place (web: both shown).
  section.hidden = !vote || (mode !== "web" && root.dataset.layout === "speaker");
  if (!vote) return;
  section.dataset.state = vote.state;
  section.classList.toggle("secret", vote.kind === "secret");
  section.classList.toggle("announced", Boolean(vote.announced_at));
  bind(root, "vote-kind", voteHead(vote));
  // The vote's title only where it says more than the item's title above it.
  const item = state.current_item ?? state.vote_item;
  bind(root, "vote-title", vote.title === (item?.title ?? vote.title) ? "" : vote.title);
  const progress = root.querySelector('[data-bind="vote-progress"]');
  const result = root.querySelector('[data-bind="result"]');
  if (vote.state === "open") {
    const left = secondsLeft(vote);
    progress.replaceChildren(
      el("span", { class: "badge live", text: t("vote_open") }),
      el("span", { text: `${t("votes_cast")}: ${vote.votes_cast}` }),
      el("span", { class: "time-left", text: vote.interrupted_at ? t("clock_stopped")
        : left === null ? t("no_limit") : `${t("time_left")}: ${plural("seconds", left)}` }));
    progress.append(el("span", { class: "vote-rule", text: ruleText(vote) }));
    if (vote.running) {
      progress.append(renderBars(vote.running, vote.total_composition));
    }
    result.hidden = true;
  } else if (vote.state === "annulled") {
    progress.replaceChildren(el("span", { class: "badge", text: t("vote_annulled") }),
      vote.annul_reason ? el("span", { class: "annul-reason", text: `${t("annul_reason")}: ${vote.annul_reason}` }) : "");
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
      // The public page publishes the journal's head at the close (docs/security.md).
      bind(root, "anchor", mode === "web" && r.anchor ? `${t("anchor")}: ${r.anchor}` : "");
    }
  }
}

/** The item's title on the hall display in at most two lines: a smaller size for a long one (never
 * under 32 px), cut with an ellipsis only past three lines at that size. */
const TITLE_SIZES = [52, 46, 40, 36, 32];
function fitTitle() {
  if (mode !== "hall") return;
  const title = root.querySelector('[data-bind="item-title"]');
  const lines = (size) => title.offsetHeight / (size * 1.15);
  for (const size of TITLE_SIZES) {
    title.style.fontSize = `${size}px`;
    if (lines(size) <= 2.05) return;
  }
}

function queueEntry(entry) {
  const about = [speakerAffiliation(entry), typeLabel(entry.type)].filter(Boolean).join(" \u00b7 ");
  return el("li", { class: `queue-entry type-${entry.type}`, "data-request": entry.id },
    el("span", { class: "queue-place", text: String(entry.place) }),
    el("span", { class: "queue-name", text: mode === "web" ? entry.name : (entry.short_name ?? entry.name) }),
    el("span", { class: "queue-about", text: about }),
    mode === "web" ? el("span", { class: "queue-wait", text: formatWait(entry.wait_seconds) }) : null);
}

/** The current speaker with the clock, the next three (the web page: everyone waiting), the
 * counts for the item. */
function renderSpeaker() {
  const floor = state.floor;
  const section = root.querySelector('[data-bind="speaker"]');
  const layout = root.dataset.layout;
  const speech = floor?.speech ?? null;
  const queue = floor?.queue ?? [];
  // Beside an open vote only a live speech shows (small); the overlay shows only a live speech.
  const shown = Boolean(floor) && (layout === "speaker"
    || (mode === "hall" && Boolean(speech)) || (mode === "web" && (Boolean(speech) || queue.length > 0)));
  section.hidden = !shown;
  section.dataset.place = layout === "speaker" ? "main" : "side";
  if (!shown) return;
  const now = root.querySelector('[data-bind="speaker-now"]');
  now.hidden = !speech;
  section.dataset.state = speech ? speech.state : "none";
  if (speech) {
    bind(root, "speech-type", typeLabel(speech.type));
    bind(root, "speaker-name", speech.name);
    bind(root, "speaker-faction", speakerAffiliation(speech));
    root.querySelector('[data-bind="speech-paused"]').hidden = speech.state !== "paused";
    updateClocks(section, floor);
  }
  const next = mode === "web" ? queue : queue.slice(0, 3);
  bind(root, "queue-title", next.length ? (speech ? t("next_speakers") : t("speaker_list")) : t("queue_empty"));
  root.querySelector('[data-bind="queue"]').replaceChildren(...next.map(queueEntry));
  bind(root, "floor-counts", countsText(floor));
  root.querySelector('[data-bind="list-closed"]').hidden = !floor.closed;
}

function render() {
  if (!state) return;
  root.dataset.layout = layoutOf(state);
  bind(root, "council", state.council.name);
  const sitting = state.sitting;
  bind(root, "sitting", sitting ? sittingHeading(sitting) : t("no_sitting"));
  // The item under consideration; once its vote has decided it, the item of that vote (its
  // number and draft number stay beside the result).
  const vote = currentVote();
  const item = state.current_item ?? (vote && state.vote_item?.id === vote.item_id ? state.vote_item : null);
  bind(root, "item-number", item ? `${t("item")} ${item.position}${item.draft_number ? ` · № ${item.draft_number}` : ""}` : "");
  bind(root, "item-title", item ? item.title : vote ? vote.title : (sitting ? t("no_item") : ""));
  bind(root, "registered", sitting ? String(sitting.registered) : "—");
  bind(root, "total", sitting ? String(sitting.total_composition) : "—");
  root.querySelector('[data-bind="registration-open"]').hidden = !sitting?.registration_open;
  const quorum = root.querySelector('[data-bind="quorum"]');
  quorum.textContent = sitting ? (sitting.quorum ? t("quorum_yes") : t("quorum_no")) : "";
  quorum.className = `quorum ${sitting?.quorum ? "yes" : "no"}`;
  if (sitting) quorum.title = `${t("threshold")}: ${sitting.quorum_required}`;
  renderVote();
  renderSpeaker();
  fitTitle();
  const voteShown = !root.querySelector('[data-bind="vote"]').hidden;
  root.dataset.board = root.dataset.layout === "vote" && !voteShown ? "wide" : "beside";
  if (board) {
    board.update(roster, state, vote, { rollCall: root.dataset.layout === "vote" });
  } else if (mode !== "overlay") {
    // The public page: seat numbers and symbols (the names are in the roll-call below).
    renderPlan(root.querySelector('[data-bind="plan"]'), roster, { ...state, vote }, false, { names: false });
    renderRollCall(vote);
    renderEarlier().catch(() => { earlierFor = null; }); // tried again at the next push
  }
  root.dataset.seq = String(state.seq ?? "");
}

// The hall display is drawn for 1920×1080 and scaled to the screen it is on (1280×720 shows the
// same, smaller); its board lays out its pages on the drawn canvas, unaffected by the scale.
if (mode === "hall") {
  const fit = () => root.style.setProperty("--scale",
    String(Math.min(window.innerWidth / 1920, window.innerHeight / 1080)));
  window.addEventListener("resize", fit);
  fit();
}
startClock(root);
setInterval(() => {
  if (state?.vote?.state === "open") renderVote();
  if (state?.floor?.speech) updateClocks(root, state.floor); // every screen shows the same second
}, 250);
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
