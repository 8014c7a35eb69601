// The secretary's and the chair's control screen: one screen from which a whole sitting runs.
// Every action goes through the JSON API with the signed-in person's token; what is shown comes
// from the server's pushed snapshots (staff audience), never from what was clicked.
import {
  api, bind, connectLive, errorText, eventText, el, formatClock, isRefusedToken, loadRoster,
  plural, secondsLeft, sittingHeading,
  startClock, t,
} from "./common.js";
import {
  countsText, formatCountdown, formatWait, speakerAffiliation, typeLabel, updateClocks,
} from "./floor.js";
import { renderBars, renderPlan, voteHead } from "./hall.js";

const root = document.getElementById("control");
const KEY = "voting.control.token";
const LINKED = "voting.control.linked"; // set when the token came in the page's link
let token = null;
let who = null;
let state = null;
let roster = new Map();
let events = [];
/** How many of the latest journal entries the event list shows. */
const EVENTS_SHOWN = 15;

const $ = (selector) => root.querySelector(selector);

function fail(error) {
  bind(root, "error", error ? `${t("error")}: ${errorText(error)}` : "");
}

async function act(path, body, method = "POST") {
  fail(null);
  try {
    return await api(path, { method, body, token });
  } catch (error) {
    fail(error);
    if (error.status === 401) signOut();
    return null;
  }
}

function name(id) {
  const d = roster.get(id);
  return d ? d.full_name : `#${id}`;
}

// What a sitting's line shows: it is made again only when this changes, so that a form being
// filled in or a production being followed is not wiped by the next snapshot.
const sittingKey = (s) => JSON.stringify([s.id, s.state, s.title, s.date, s.place, s.chair_id, s.secretary_id]);

function fillList(list, entries, line) {
  const keys = entries.map(({ s }) => sittingKey(s));
  if (keys.length && keys.join("\n") === [...list.children].map((li) => li.dataset.key).join("\n")) return;
  list.replaceChildren(...entries.map((entry) => {
    const li = line(entry);
    li.dataset.key = sittingKey(entry.s);
    return li;
  }));
}

async function showSittings() {
  const { sessions } = await api("/sessions", { token }).catch(() => ({ sessions: [] }));
  const list = root.querySelector('[data-bind="sittings-list"]');
  const of = (state) => sessions.flatMap((session) => session.sittings
    .filter((s) => s.state === state).map((s) => ({ session, s })));
  fillList(list, of("planned"), ({ session, s }) => el("li", { "data-sitting": s.id },
    el("span", { text: `${session.title ?? ""} · ${sittingHeading(s)} ` }),
    el("button", { type: "button", class: "primary", text: t("open_sitting"),
      onclick: () => act(`/sittings/${s.id}/open`) }),
    detailsForm(s)));
  if (!list.children.length) list.append(el("li", { text: t("no_planned_sittings") }));
  fillList(root.querySelector('[data-bind="records-list"]'), of("closed"), ({ session, s }) =>
    el("li", { "data-sitting": s.id },
      el("span", { text: `${session.title ?? ""} · ${sittingHeading(s)} ` }),
      el("a", { href: `/archive/sittings/${s.id}/protocol.pdf`, text: t("protocol_pdf") }),
      el("span", { text: " · " }),
      el("a", { href: `/archive/sittings/${s.id}`, text: t("in_the_archive") }),
      el("span", { text: " " }),
      el("button", { type: "button", text: t("produce_record"), onclick: (e) => produceRecord(s.id, e.currentTarget) }),
      detailsForm(s)));
}

// A sitting's place, chair and secretary, as its protocol states them (before, during, or as
// a correction after the sitting: the record is then produced again).
function detailsForm(s) {
  if (who?.role !== "secretary") return el("span");  // the secretary's (the chair only reads them)
  const people = [...roster.values()].filter((d) => d.active);
  const choose = (field, chosen) => el("select", { name: field },
    el("option", { value: "", text: `— ${t("not_chosen")} —` }),
    ...people.map((d) => el("option", { value: String(d.id), text: d.full_name, selected: d.id === chosen })));
  const done = el("span", { class: "details-saved", role: "status" });
  const form = el("form", { class: "stack" },
    el("label", {}, `${t("place")} `, el("input", { name: "place", maxlength: "300", value: s.place ?? "" })),
    el("label", {}, `${t("chair")} `, choose("chair_id", s.chair_id)),
    el("label", {}, `${t("secretary")} `, choose("secretary_id", s.secretary_id)),
    el("div", {}, el("button", { type: "submit", text: t("save") }), " ", done));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const data = new FormData(form);
    const person = (field) => (data.get(field) ? Number(data.get(field)) : null);
    done.textContent = "";
    const answer = await act(`/sittings/${s.id}`, {
      place: data.get("place").trim() || null,
      chair_id: person("chair_id"),
      secretary_id: person("secretary_id"),
    }, "PATCH");
    if (answer) {
      done.textContent = t("saved");
      // What was saved is what the form shows: the line is not made again for it.
      const line = form.closest("[data-key]");
      if (line) line.dataset.key = sittingKey(answer);
    }
  });
  return el("details", { class: "sitting-details" }, el("summary", { text: t("sitting_details") }), form);
}

// The open sitting's details form, made again only when what it shows changed (an edit in
// progress is not wiped by the next snapshot).
function renderDetails() {
  const holder = $('[data-bind="sitting-details"]');
  const s = state.sitting;
  const key = sittingKey(s);
  if (holder.dataset.key === key) return;
  const wasOpen = holder.querySelector("details")?.open;
  holder.dataset.key = key;
  const form = detailsForm(s);
  form.open = Boolean(wasOpen);
  holder.replaceChildren(form);
}

// The record again, now (after a correction): the server starts a production (the renders run
// in worker processes) and the page follows its progress, as a percentage, until the files are
// ready; the answer says which files got a new version.
const PRODUCTION_POLL_MS = 200;

async function produceRecord(sittingId, button) {
  const item = button.closest("li");
  const bar = el("progress", { max: "100", value: "0", "aria-label": t("producing_record") });
  const percent = el("span", { class: "record-percent", text: " 0%" });
  button.disabled = true;
  item.querySelector(".record-done")?.remove();
  item.append(bar, percent);
  let job = await act(`/archive/sittings/${sittingId}/records`);
  while (job && job.state === "running") {
    bar.value = job.percent;
    percent.textContent = ` ${job.percent}%`;
    await new Promise((resolve) => setTimeout(resolve, PRODUCTION_POLL_MS));
    try {  // not through act(): polling must not clear an error shown meanwhile
      job = await api(job.status_url.replace(/^\/api\/v1/, ""), { token });
    } catch (error) {
      fail(error);
      job = null;
    }
  }
  bar.remove();
  percent.remove();
  button.disabled = false;
  if (job?.state === "done") {
    const versions = job.files.filter((f) => f.name === "protocol.pdf").map((f) => f.version);
    item.append(el("span", { class: "record-done", role: "status",
      text: ` ${t("record_ready")}${versions.length ? ` (${t("version")} ${versions[0]})` : ""}` }));
  } else if (job) {
    item.append(el("span", { class: "record-done error-box", role: "status",
      text: ` ${t("record_failed")}: ${job.error ?? ""}` }));
  }
}

function moveItem(item, step) {
  const order = state.agenda.map((i) => i.id);
  const at = order.indexOf(item.id);
  const to = at + step;
  if (to < 0 || to >= order.length) return;
  [order[at], order[to]] = [order[to], order[at]];
  act(`/sittings/${state.sitting.id}/agenda/order`, { order }, "PUT");
}

function renderAgenda() {
  const list = root.querySelector('[data-bind="agenda"]');
  const open = state.vote?.state === "open";
  const setStatus = (item, status) => act(`/agenda-items/${item.id}/status`, { status }, "PUT");
  list.replaceChildren(...(state.agenda ?? []).map((item, index, all) => {
    const current = item.status === "under_consideration";
    const undecided = item.status === "pending" || current;
    return el("li", { class: `agenda-item status-${item.status}${current ? " current" : ""}`, "data-item": item.id },
      el("span", { class: "agenda-title", text: `${item.position}. ${item.title}` }),
      el("span", { class: "badge", text: t(`status_${item.status}`) }),
      el("span", { class: "agenda-actions" },
        ["pending", "postponed", "withdrawn"].includes(item.status) ? el("button", {
          type: "button", disabled: open, text: t("make_current"),
          onclick: () => setStatus(item, "under_consideration") }) : null,
        undecided ? el("button", { type: "button", disabled: open && current, text: t("postpone"),
          onclick: () => setStatus(item, "postponed") }) : null,
        undecided ? el("button", { type: "button", class: "danger", disabled: open && current, text: t("withdraw"),
          onclick: () => { if (confirm(`${t("withdraw")}: ${item.title}?`)) setStatus(item, "withdrawn"); } }) : null,
        el("button", { type: "button", "aria-label": `${t("move_up")}: ${item.title}`, disabled: index === 0, text: "↑",
          onclick: () => moveItem(item, -1) }),
        el("button", { type: "button", "aria-label": `${t("move_down")}: ${item.title}`, disabled: index === all.length - 1, text: "↓",
          onclick: () => moveItem(item, 1) })));
  }));
}

function renderRoster() {
  const body = root.querySelector('[data-bind="roster"]');
  const deputies = [...roster.values()].sort((a, b) => (a.seat_number ?? 9999) - (b.seat_number ?? 9999));
  body.replaceChildren(...deputies.map((d) => el("tr", { class: d.active ? "" : "inactive" },
    el("td", { text: d.seat_number ?? "—" }), el("td", { text: d.full_name }),
    el("td", { text: d.faction ?? "" }),
    el("td", {}, d.is_head ? t("head") : el("button", { type: "button", disabled: who?.role !== "secretary",
      text: d.active ? t("deactivate") : t("activate"),
      onclick: () => {
        if (!d.active || confirm(`${t("deactivate")}: ${d.full_name}?`)) {
          act(`/deputies/${d.id}`, { active: !d.active }, "PATCH");
        }
      } })))));
}

function renderRegistration() {
  const sitting = state.sitting;
  bind(root, "registered", String(sitting.registered));
  bind(root, "total", String(sitting.total_composition));
  const quorum = $('[data-bind="quorum"]');
  quorum.textContent = sitting.quorum ? t("quorum_yes") : t("quorum_no");
  quorum.className = `quorum ${sitting.quorum ? "yes" : "no"}`;
  bind(root, "quorum-needed", `${t("threshold")}: ${sitting.quorum_required}`);
  const toggle = $("#registration-toggle");
  toggle.textContent = sitting.registration_open ? t("close_registration") : t("open_registration");
  toggle.className = sitting.registration_open ? "danger" : "primary";
  toggle.disabled = state.vote?.state === "open";
  const stopped = sitting.registration_interrupted_at;
  $('[data-bind="registration-interrupted"]').hidden = !stopped;
  bind(root, "registration-interrupted-text",
    stopped ? t("registration_interrupted").replace("{time}", formatClock(Date.parse(stopped))) : "");
}

function renderVote() {
  const vote = state.vote;
  const open = vote?.state === "open";
  const closed = vote && vote.state !== "open";
  $("#vote-form").hidden = open;
  $("#vote-live").hidden = !open;
  $("#vote-result").hidden = !closed;
  const item = state.current_item;
  bind(root, "current-item", item ? `${t("item")} ${item.position}: ${item.title}` : t("no_item"));
  $("#start-vote").disabled = !item || open;
  if (open) {
    bind(root, "vote-kind", voteHead(vote));
    bind(root, "vote-title", vote.title);
    bind(root, "votes-cast", String(vote.votes_cast));
    bind(root, "vote-registered", String(state.sitting.registered));
    const left = secondsLeft(vote);
    const stopped = vote.interrupted_at;
    bind(root, "vote-time-left", stopped ? t("clock_stopped")
      : left === null ? t("no_limit") : `${t("time_left")}: ${plural("seconds", left)}`);
    const secret = vote.kind === "secret";
    $('[data-bind="vote-interrupted"]').hidden = !stopped;
    bind(root, "vote-interrupted-text", stopped
      ? t(secret ? "secret_interrupted" : "vote_interrupted").replace("{time}", formatClock(Date.parse(stopped))) : "");
    $("#vote-continue").hidden = secret;
    $('[data-bind="close-vote-box"]').hidden = Boolean(stopped && secret);
    $('[data-bind="running"]').replaceChildren(vote.running ? renderBars(vote.running, vote.total_composition) : "");
    const waiting = vote.not_yet_voted ?? [];
    bind(root, "not-voted-title", waiting.length ? plural("not_voted_count", waiting.length) : t("everyone_voted"));
    $('[data-bind="not-voted"]').replaceChildren(...waiting.map((id) => el("li", { text: name(id) })));
  } else if (closed) {
    bind(root, "result-kind", voteHead(vote));
    bind(root, "result-title", vote.title);
    const verdict = $('[data-bind="verdict"]');
    const r = vote.result;
    verdict.textContent = vote.state === "annulled" ? t("vote_annulled") : r ? t(r.result) : "";
    verdict.className = `verdict ${vote.state === "annulled" ? "annulled" : r?.result ?? ""}`;
    $('[data-bind="result-bars"]').replaceChildren(r ? renderBars(
      { for: r.for, against: r.against, abstain: r.abstain, not_voted: r.not_voted, absent: r.absent },
      vote.total_composition) : "");
    bind(root, "result-threshold", r ? `${t("threshold")}: ${r.threshold} · ${t("total")}: ${vote.total_composition}` : "");
    $("#revote").disabled = vote.state !== "closed";
    $("#announce").disabled = vote.state !== "closed" || Boolean(vote.announced_at);
    $("#announce").textContent = vote.announced_at ? t("announced") : t("announce");
    $("#annul").disabled = vote.state === "annulled";
  }
}

function renderManualList() {
  const box = $('[data-bind="manual-list"]');
  const registered = state.sitting ? state.sitting.registered_ids : [];
  if (box.dataset.for === registered.join(",")) return; // keep what the clerk is typing
  box.dataset.for = registered.join(",");
  box.replaceChildren(...registered.map((id) => el("label", {},
    el("span", { text: name(id) }),
    el("select", { name: `choice_${id}`, "data-deputy": id },
      el("option", { value: "", text: "—" }),
      ["for", "against", "abstain"].map((c) => el("option", { value: c, text: t(c) }))))));
}

// --- the floor --------------------------------------------------------------------------------

function micName(microphone) {
  if (microphone === "chair") return t("mic_chair");
  if (microphone === "tribune") return t("mic_tribune");
  const deputy = /^deputy:(\d+)$/.exec(microphone);
  return deputy ? name(Number(deputy[1])) : microphone;
}

function queueOrder() {
  return (state?.floor?.queue ?? []).map((entry) => entry.id);
}

/** The chair's order: every waiting request, first to last (the whole list, as the API wants). */
function putOrder(order) {
  return act(`/sittings/${state.sitting.id}/floor/order`, { order }, "PUT");
}

function moveSpeaker(id, step) {
  const order = queueOrder();
  const at = order.indexOf(id);
  const to = at + step;
  if (at < 0 || to < 0 || to >= order.length) return;
  [order[at], order[to]] = [order[to], order[at]];
  putOrder(order);
}

let dragged = null; // the request being dragged in the list

function dropOn(targetId, after) {
  const order = queueOrder().filter((id) => id !== dragged);
  const at = order.indexOf(targetId);
  if (dragged === null || at < 0) return;
  order.splice(after ? at + 1 : at, 0, dragged);
  if (order.join(",") !== queueOrder().join(",")) putOrder(order);
}

function staffQueueEntry(entry, index, all) {
  const who = entry.name;
  const about = [speakerAffiliation(entry), typeLabel(entry.type), formatWait(entry.wait_seconds)]
    .filter(Boolean).join(" \u00b7 ");
  const where = (e) => {
    const box = e.currentTarget.getBoundingClientRect();
    return e.clientY > box.top + box.height / 2;
  };
  return el("li", {
    class: `queue-entry type-${entry.type}`, "data-request": entry.id, draggable: "true",
    ondragstart: (e) => { dragged = entry.id; e.dataTransfer.effectAllowed = "move"; e.dataTransfer.setData("text/plain", String(entry.id)); },
    ondragend: () => { dragged = null; },
    ondragover: (e) => { if (dragged !== null) { e.preventDefault(); e.dataTransfer.dropEffect = "move"; } },
    ondrop: (e) => { e.preventDefault(); dropOn(entry.id, where(e)); dragged = null; },
  },
  el("span", { class: "queue-place", text: String(entry.place) }),
  el("span", { class: "queue-name", text: who }),
  el("span", { class: "queue-about", text: about }),
  el("button", { type: "button", class: "primary queue-grant", text: t("give_floor"), "aria-label": `${t("give_floor")}: ${who}`,
    onclick: () => act(`/sittings/${state.sitting.id}/floor/grant`, { request_id: entry.id }) }),
  el("span", { class: "queue-actions" },
    el("button", { type: "button", text: "\u2191", "aria-label": `${t("move_up")}: ${who}`, disabled: index === 0,
      onclick: () => moveSpeaker(entry.id, -1) }),
    el("button", { type: "button", text: "\u2193", "aria-label": `${t("move_down")}: ${who}`, disabled: index === all.length - 1,
      onclick: () => moveSpeaker(entry.id, 1) }),
    el("button", { type: "button", class: "danger", text: "\u2715", "aria-label": `${t("remove_request")}: ${who}`,
      onclick: () => { if (confirm(`${t("remove_request")}: ${who}?`)) act(`/floor/requests/${entry.id}`, undefined, "DELETE"); } })));
}

function renderSpeech(floor) {
  const speech = floor.speech;
  $('[data-bind="speech-now"]').hidden = !speech;
  if (!speech) return;
  bind(root, "speech-name", speech.name);
  bind(root, "speech-about", [speakerAffiliation(speech), typeLabel(speech.type),
    `${t("allotted")} ${formatCountdown(speech.allotted_seconds)}`,
    speech.state === "paused" ? t("paused") : null].filter(Boolean).join(" \u00b7 "));
  bind(root, "recording-error", speech.recording_error ? `${t("recording_failed")}: ${speech.recording_error}` : "");
  $("#speech-pause").textContent = speech.state === "paused" ? t("resume") : t("pause");
  const stopped = speech.interrupted_at;
  $('[data-bind="speech-interrupted"]').hidden = !stopped;
  bind(root, "speech-interrupted",
    stopped ? t("speech_interrupted").replace("{time}", formatClock(Date.parse(stopped))) : "");
  updateClocks($('[data-bind="speech-now"]'), floor);
}

function renderMicrophones(floor) {
  bind(root, "mic-mode", floor.microphone_mode ? `(${t(`mic_mode_${floor.microphone_mode}`)})` : "");
  // While the chair's priority holds the others silent, the key shows pressed and can be let go.
  $("#chair-hold").setAttribute("aria-pressed", floor.chair_priority_held ? "true" : "false");
  $("#chair-release").disabled = !floor.chair_priority_held;
  const on = floor.microphones ?? [];
  const list = $('[data-bind="mic-list"]');
  if (!on.length) {
    list.replaceChildren(el("li", { class: "muted", text: t("all_mics_off") }));
    return;
  }
  list.replaceChildren(...on.map((m) => el("li", { "data-microphone": m.microphone },
    el("span", { class: "mic-on", text: "\u25cf" }),
    el("span", { class: "mic-name", text: micName(m.microphone) }),
    el("span", { class: "mic-since", text: formatClock(Date.parse(m.since)) }),
    el("button", { type: "button", text: t("switch_off"), "aria-label": `${t("switch_off")}: ${micName(m.microphone)}`,
      onclick: () => act(`/microphones/${encodeURIComponent(m.microphone)}`, { on: false }, "PUT") }))));
}

function renderFactionTime(floor) {
  const rows = floor.faction_time ?? [];
  $('[data-bind="faction-time"]').hidden = !rows.length;
  $('[data-bind="faction-rows"]').replaceChildren(...rows.map((f) => el("tr", { class: f.remaining_seconds < 0 ? "overrun" : "" },
    el("td", { text: f.faction }),
    el("td", { text: `${formatCountdown(f.spoken_seconds)} / ${formatCountdown(f.budget_seconds)}` }),
    el("td", { text: formatCountdown(f.remaining_seconds) }))));
}

function renderSpeakerChoices() {
  const select = $("#speaker-form").deputy_id;
  const deputies = [...roster.values()].filter((d) => d.active)
    .sort((a, b) => a.full_name.localeCompare(b.full_name, "uk"));
  const key = deputies.map((d) => `${d.id}:${d.full_name}`).join("|");
  if (select.dataset.for === key) return; // keep the chosen one
  select.dataset.for = key;
  const chosen = select.value;
  select.replaceChildren(...deputies.map((d) => el("option", { value: d.id,
    text: `${d.full_name}${d.faction ? ` (${d.faction})` : ""}` })));
  if (chosen) select.value = chosen;
}

function renderFloor() {
  const floor = state.floor;
  const panel = $(".floor-panel");
  panel.hidden = !floor;
  if (!floor) return;
  const list = $('[data-bind="list-state"]');
  list.textContent = floor.closed ? t("list_closed") : t("list_open");
  list.classList.toggle("list-closed", floor.closed);
  renderSpeech(floor);
  $("#grant-next").disabled = !floor.queue.length;
  const toggle = $("#list-toggle");
  toggle.textContent = floor.closed ? t("reopen_list") : t("close_list");
  $("#readd-last").textContent = floor.last_speaker ? `${t("readd_last")}: ${floor.last_speaker}` : t("readd_last");
  $("#readd-last").disabled = !floor.last_speaker;
  bind(root, "floor-counts", countsText(floor));
  const queue = $('[data-bind="floor-queue"]');
  const key = JSON.stringify(floor.queue);
  if (queue.dataset.for !== key || queue.childElementCount !== floor.queue.length) {
    queue.dataset.for = key; // unchanged: left alone (a drag in progress is not broken)
    queue.replaceChildren(...floor.queue.map(staffQueueEntry));
  }
  renderMicrophones(floor);
  renderFactionTime(floor);
  renderSpeakerChoices();
}

async function grantNext() {
  if (!state?.sitting || !state.floor) return;
  if (!state.floor.queue.length) { fail({ code: "no_one_waiting" }); return; }
  await act(`/sittings/${state.sitting.id}/floor/grant`);
}

async function pauseOrResume() {
  const speech = state?.floor?.speech;
  if (speech) await act(`/speeches/${speech.id}/${speech.state === "paused" ? "resume" : "pause"}`);
}

async function endSpeech() {
  const speech = state?.floor?.speech;
  if (speech) await act(`/speeches/${speech.id}/end`);
}

async function addMinute() {
  const speech = state?.floor?.speech;
  if (speech) await act(`/speeches/${speech.id}/time`, { seconds: 60 });
}

async function toggleList() {
  if (state?.sitting && state.floor) {
    await act(`/sittings/${state.sitting.id}/floor/close`, { closed: !state.floor.closed });
  }
}

function render() {
  if (!state) return;
  bind(root, "council", state.council.name);
  const sitting = state.sitting;
  $("#no-sitting").hidden = Boolean(sitting);
  $("#sitting-desk").hidden = !sitting;
  bind(root, "sitting", sitting ? sittingHeading(sitting) : t("no_sitting"));
  if (!sitting) { showSittings(); return; }
  renderRegistration();
  renderAgenda();
  renderDetails();
  renderVote();
  renderManualList();
  renderFloor();
  renderPlan($('[data-bind="plan"]'), roster, state, true);
  renderRoster();
  root.dataset.seq = String(state.seq);
}

// --- the seat consoles: who answers on the bus, alarms the secretary settles, refused frames ---

let consoles = [];
const trouble = [];
let consolesTimer = null;

async function loadConsoles() {
  consolesTimer = null;
  const answer = await api("/consoles", { token }).catch(() => null);
  if (answer) { consoles = answer.seats; renderConsoles(); }
}

function consolesChanged() {
  if (consolesTimer === null) consolesTimer = setTimeout(loadConsoles, 150);
}

function renderConsoles() {
  $("#consoles-panel").hidden = consoles.length === 0;
  if (!consoles.length) return;
  const online = consoles.filter((c) => c.online).length;
  bind(root, "consoles-summary", `${online} / ${consoles.length} ${t("consoles_answer")}`);
  const offline = consoles.filter((c) => !c.online).map((c) => c.seat);
  bind(root, "consoles-offline", offline.length ? `${t("consoles_offline")} ${offline.join(", ")}` : "");
  const alarms = new Map(); // deputy -> their seats
  for (const c of consoles.filter((c) => c.alarm && c.deputy_id !== null)) {
    alarms.set(c.deputy_id, [...(alarms.get(c.deputy_id) ?? []), c.seat]);
  }
  $('[data-bind="consoles-alarms"]').replaceChildren(...[...alarms].map(([deputy, seats]) =>
    el("li", { class: "console-alarm", role: "alert" },
      el("strong", { text: `${t("console_alarm")}: ${name(deputy)} (${seats.join(", ")})` }),
      ...seats.map((seat) => el("button", {
        type: "button", text: `${t("keep_card_in_seat")} ${seat}`,
        onclick: () => act(`/consoles/${seat}/resolve`).then(loadConsoles),
      })))));
  $('[data-bind="consoles-trouble"]').replaceChildren(...trouble.slice(-5).reverse().map((e) =>
    el("li", { text: `${formatClock(e.at)} · ${t("bus_trouble")}: ${e.payload.reason}`
      + (e.payload.address ? ` (${e.payload.address})` : "") + (e.payload.count ? ` ×${e.payload.count}` : "") })));
}

/** The latest entries of the journal up to `seq` (the snapshot's), so that a reloaded control
 * screen shows what just happened; entries pushed meanwhile are kept, each once. */
async function loadEvents(seq) {
  if (!seq) return;
  const answer = await api(`/journal?after=${Math.max(0, seq - EVENTS_SHOWN)}`, { token }).catch(() => null);
  if (!answer) return;
  const known = new Set(events.map((e) => e.seq));
  const earlier = answer.entries.filter((e) => e.seq <= seq && !known.has(e.seq))
    .map((e) => ({ seq: e.seq, kind: e.kind, payload: e.payload, at: Date.parse(e.at) }));
  events = [...earlier, ...events].sort((a, b) => a.seq - b.seq);
  renderEvents();
}

function renderEvents() {
  // Who an event is about, where it says (a request, a speech): "надано слово: <name>".
  const about = (e) => (typeof e.payload?.name === "string" ? `: ${e.payload.name}` : "");
  $('[data-bind="events"]').replaceChildren(...events.slice(-EVENTS_SHOWN).reverse().map((e) =>
    el("li", { value: e.seq, text: `${formatClock(e.at)} · ${eventText(e.kind)}${about(e)}` })));
}

function defaults() {
  const form = $("#vote-form");
  form.stage.value = "as_a_whole";
  form.kind.value = "roll_call";
  form.rule.value = state?.council.default_rule ?? "majority_of_total";
  form.time_limit_seconds.value = String(state?.council.default_time_limit_seconds ?? 0);
}

async function startVote() {
  if (!state?.sitting || state.vote?.state === "open") return;
  if (!state.current_item) { fail(t("no_item")); return; }  // I puts the next item up first
  const form = $("#vote-form");
  await act(`/sittings/${state.sitting.id}/votes`, {
    item_id: state.current_item.id, stage: form.stage.value, kind: form.kind.value,
    rule: form.rule.value, time_limit_seconds: Number(form.time_limit_seconds.value || 0),
  });
}

async function closeVote() {
  const vote = state?.vote;
  if (vote?.state !== "open") return;
  const waiting = (vote.not_yet_voted ?? []).length;
  if (waiting && !confirm(`${t("confirm_close_vote")} ${plural("not_voted_count", waiting)}`)) return;
  await act(`/votes/${vote.vote_id}/close`);
}

async function announce() {
  const vote = state?.vote;
  if (vote?.state === "closed" && !vote.announced_at) await act(`/votes/${vote.vote_id}/announce`);
}

async function toggleRegistration() {
  const sitting = state?.sitting;
  if (!sitting || state.vote?.state === "open") return;
  if (sitting.registration_open) {
    if (confirm(t("confirm_close_registration"))) await act(`/sittings/${sitting.id}/registration/close`);
  } else if (!sitting.registered
      || confirm(`${t("confirm_new_round")} ${plural("deputies", sitting.registered)}`)) {
    await act(`/sittings/${sitting.id}/registration/open`);  // everyone registers again
  }
}

async function nextItem() {
  if (!state?.agenda || state.vote?.state === "open") return;
  const next = state.agenda.find((item) => item.status === "pending");
  if (next) await act(`/agenda-items/${next.id}/status`, { status: "under_consideration" }, "PUT");
}

function wire() {
  $("#vote-form").addEventListener("submit", (e) => { e.preventDefault(); startVote(); });
  $("#close-vote").addEventListener("click", closeVote);
  $("#announce").addEventListener("click", announce);
  $("#registration-toggle").addEventListener("click", toggleRegistration);
  $("#revote").addEventListener("click", async () => {
    if (state?.vote && confirm(t("confirm_revote"))) await act(`/votes/${state.vote.vote_id}/revote`, {});
  });
  const annulVote = async () => {
    if (!state?.vote) return;
    const reason = prompt(t("confirm_annul"));
    if (reason && reason.trim()) await act(`/votes/${state.vote.vote_id}/annul`, { reason: reason.trim() });
  };
  $("#annul").addEventListener("click", annulVote);
  $("#vote-annul-interrupted").addEventListener("click", annulVote);
  $("#vote-continue").addEventListener("click", async () => {
    if (state?.vote?.interrupted_at) await act(`/votes/${state.vote.vote_id}/continue`);
  });
  $("#registration-continue").addEventListener("click", async () => {
    if (state?.sitting?.registration_interrupted_at) await act(`/sittings/${state.sitting.id}/registration/continue`);
  });
  $("#close-sitting").addEventListener("click", async () => {
    if (state?.sitting && confirm(t("confirm_close_sitting"))) await act(`/sittings/${state.sitting.id}/close`);
  });
  $("#item-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const form = e.currentTarget;
    const body = { title: form.title.value.trim() };
    if (form.draft_number.value.trim()) body.draft_number = form.draft_number.value.trim();
    if (form.rapporteur.value.trim()) body.rapporteur = form.rapporteur.value.trim();
    if (await act(`/sittings/${state.sitting.id}/agenda`, body)) form.reset();
  });
  $("#deputy-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const form = e.currentTarget;
    const body = { full_name: form.full_name.value.trim() };
    if (form.faction.value.trim()) body.faction = form.faction.value.trim();
    if (form.seat_number.value) body.seat_number = Number(form.seat_number.value);
    if (form.card_uid.value.trim()) body.card_uid = form.card_uid.value.trim();
    const added = await act("/deputies", body);
    if (added && form.pin.value) {
      await act(`/deputies/${added.id}`, { pin: form.pin.value }, "PATCH");
    }
    if (added) form.reset();
  });
  const manual = $("#manual-form");
  manual.kind.addEventListener("change", () => {
    const secret = manual.kind.value === "secret";
    $('[data-bind="manual-counts"]').hidden = !secret;
    $('[data-bind="manual-choices"]').hidden = secret;
  });
  manual.addEventListener("submit", async (e) => {
    e.preventDefault();
    if (!state?.current_item) { fail(t("no_item")); return; }
    const body = { item_id: state.current_item.id, kind: manual.kind.value };
    if (manual.kind.value === "secret") {
      body.counts = { for: Number(manual.count_for.value), against: Number(manual.count_against.value),
        abstain: Number(manual.count_abstain.value) };
    } else {
      body.choices = {};
      for (const select of manual.querySelectorAll("select[data-deputy]")) {
        if (select.value) body.choices[select.dataset.deputy] = select.value;
      }
    }
    if (manual.note.value.trim()) body.note = manual.note.value.trim();
    const counted = body.counts ?? Object.values(body.choices).reduce(
      (sum, c) => ({ ...sum, [c]: sum[c] + 1 }), { for: 0, against: 0, abstain: 0 });
    if (!confirm(`${t("confirm_manual")} ${t("for")}: ${counted.for}, ${t("against")}: ${counted.against}, ${t("abstain")}: ${counted.abstain}`)) return;
    if (state.vote && state.vote.item_id === state.current_item.id && state.vote.state !== "open") {
      body.previous_vote_id = state.vote.vote_id;
    }
    if (await act(`/sittings/${state.sitting.id}/manual-results`, body)) {
      $("#manual").open = false;
    }
  });
  document.addEventListener("keydown", (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey || e.repeat) return;
    // Letters typed into a text field are text; Esc leaves the field, so the keys work again.
    // In a list, a number or a check box (the vote form's) they are the keys: V starts the vote
    // right after the kind or the time limit was chosen.
    if (e.target.closest("textarea, input:not([type=number], [type=radio], [type=checkbox])")) {
      if (e.key === "Escape") e.target.blur();
      return;
    }
    // By the key's place, not its letter: the same keys work in the Ukrainian layout.
    // N gives the floor to the next speaker; I puts the next item under consideration.
    const action = { KeyV: startVote, KeyC: closeVote, KeyA: announce, KeyG: toggleRegistration,
      KeyI: nextItem, KeyN: grantNext, KeyP: pauseOrResume, KeyE: endSpeech, KeyL: toggleList,
      Equal: addMinute, NumpadAdd: addMinute }[e.code];
    if (action && !$("#desk").hidden) { e.preventDefault(); action(); }
  });
  $("#sign-out").addEventListener("click", signOut);
  wireFloor();
}

function wireFloor() {
  $("#grant-next").addEventListener("click", grantNext);
  $("#speech-pause").addEventListener("click", pauseOrResume);
  $("#speech-end").addEventListener("click", endSpeech);
  $("#speech-time").addEventListener("click", addMinute);
  $("#list-toggle").addEventListener("click", toggleList);
  $("#readd-last").addEventListener("click", () => {
    if (state?.sitting) act(`/sittings/${state.sitting.id}/floor/readd-last`);
  });
  const form = $("#speaker-form");
  const who = () => form.querySelector('input[name="who"]:checked').value;
  for (const radio of form.querySelectorAll('input[name="who"]')) {
    radio.addEventListener("change", () => {
      for (const field of form.querySelectorAll("[data-who]")) field.hidden = field.dataset.who !== who();
      form.invited_name.required = who() === "invited";
      form.type.value = who() === "invited" ? "invited" : "speech";
    });
  }
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    if (!state?.sitting) return;
    const body = { type: form.type.value };
    if (who() === "invited") {
      body.invited_name = form.invited_name.value.trim();
      if (form.invited_position.value.trim()) body.invited_position = form.invited_position.value.trim();
    } else {
      body.deputy_id = Number(form.deputy_id.value);
    }
    if (await act(`/sittings/${state.sitting.id}/floor/requests`, body)) {
      form.invited_name.value = "";
      form.invited_position.value = "";
    }
  });
  $("#chair-hold").addEventListener("click", () => act("/microphones/chair-priority", { mode: "hold" }));
  $("#chair-release").addEventListener("click", () => act("/microphones/chair-priority", { mode: "release" }));
  $("#chair-mute").addEventListener("click", () => act("/microphones/chair-priority", { mode: "mute_all" }));
  $("#extend-faction-time").addEventListener("click", () => {
    if (state?.sitting) act(`/sittings/${state.sitting.id}/floor/faction-time`);
  });
}

function signOut() {
  // A sign-in token is revoked; a token that came in the page's link is only forgotten here.
  if (token && !sessionStorage.getItem(LINKED)) {
    api("/logout", { method: "POST", token }).catch(() => {});
  }
  sessionStorage.removeItem(KEY);
  sessionStorage.removeItem(LINKED);
  token = null;
  location.reload();
}

async function start() {
  $("#login").hidden = true;
  $("#desk").hidden = false;
  who = await api("/me", { token }).catch(() => null);
  if (!who || (who.role !== "secretary" && who.role !== "chair")) {
    sessionStorage.removeItem(KEY);
    $("#login").hidden = false;
    $("#desk").hidden = true;
    bind(root, "login-error", `${t("sign_in_failed")}: ${t("staff_only")}`);
    return;
  }
  bind(root, "who", t(`role_${who.role}`));
  roster = await loadRoster();
  loadConsoles();
  startClock(root);
  let first = true;
  connectLive({
    token,
    onSnapshot(snapshot) {
      const wasOpen = state?.vote?.state === "open";
      state = { ...snapshot.state, seq: snapshot.seq };
      // The form starts from the council's defaults, and again after each vote (a secret
      // ballot's kind must not carry over to the next question by accident).
      if (first) loadEvents(snapshot.seq);
      if (first || (wasOpen && state.vote?.state !== "open")) { defaults(); first = false; }
      render();
    },
    onEvent(event) {
      events.push({ ...event, at: Date.now() });
      renderEvents();
      if (event.kind === "console_bus_trouble") { trouble.push({ ...event, at: Date.now() }); renderConsoles(); }
      if (event.kind.startsWith("console_") || event.kind === "deputy_registered") consolesChanged();
      if (event.kind.startsWith("deputy_") && event.kind !== "deputy_registered" && event.kind !== "deputy_left") {
        loadRoster().then((r) => { roster = r; render(); });
      }
    },
    onStatus(status, error) {
      bind(root, "connection", t(status));
      if (isRefusedToken(error)) signOut(); // expired or revoked: sign in again
    },
  });
  setInterval(() => {
    if (state?.vote?.state === "open") renderVote();
    if (state?.floor?.speech) updateClocks($('[data-bind="speech-now"]'), state.floor); // the server's second
  }, 250);
}

$("#login-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const form = e.currentTarget;
  bind(root, "login-error", "");
  try {
    const answer = await api("/login", { method: "POST", body: {
      username: form.username.value.trim(), password: form.password.value } });
    if (answer.role !== "secretary" && answer.role !== "chair") {
      throw new Error(t("staff_only"));
    }
    token = answer.token;
    sessionStorage.setItem(KEY, token);
    sessionStorage.removeItem(LINKED);
    form.password.value = "";
    start();
  } catch (error) {
    bind(root, "login-error", `${t("sign_in_failed")}: ${errorText(error)}`);
  }
});

wire();
const fromHash = /(?:^#|&)token=([^&]+)/.exec(location.hash);
if (fromHash) {
  history.replaceState(null, "", location.pathname + location.search);
  sessionStorage.setItem(LINKED, "1");
}
token = fromHash ? decodeURIComponent(fromHash[1]) : sessionStorage.getItem(KEY);
if (token) { sessionStorage.setItem(KEY, token); start(); }
