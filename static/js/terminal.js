// The deputy terminal (tablet 1280×800 or phone): sign in, register, vote, ask for the floor.
// The choice shown is the one the server acknowledged after committing it, never the button
// pressed; for a secret ballot the terminal shows only that the ballot is recorded. The place
// in the speaker list is the server's too: the list as pushed, or the answer to the request.
import {
  api, bind, connectLive, el, errorText, isRefusedToken, plural, secondsLeft, sittingHeading,
  startClock, t,
} from "./common.js";
import { formatWait, typeLabel, updateClocks } from "./floor.js";
import { ruleText } from "./hall.js";

const root = document.getElementById("terminal");
const KEY = "voting.terminal.token";
const SEAT = "voting.terminal.seat"; // set when the token came with the seat's link
const ANSWER_MS = 8000; // no answer by then: say so and ask the server what it recorded
let token = null;
let socket = null;
let state = null;
let me = null;
let busy = false;
let floorBusy = false; // a request for the floor (or its withdrawal) waits for the server
// The answer to this terminal's last request, shown until the pushed list has it.
let pending = null;
const PENDING_MS = 3000;
// On a phone a long title is cut to three lines, the keys staying on the first screen; the
// deputy may open it whole ("Full title"), until the next vote.
let titleOpenFor = null;
let titleShownFor = null; // the vote whose title is up (null: none)

function fromHash() {
  const match = /(?:^#|&)token=([^&]+)/.exec(location.hash);
  if (!match) return null;
  history.replaceState(null, "", location.pathname + location.search); // keep it off the screen
  sessionStorage.setItem(SEAT, "1");
  return decodeURIComponent(match[1]);
}

function showError(where, error) {
  bind(root, where, error ? `${t("error")}: ${errorText(error)}` : "");
}

function render() {
  if (!state || !me) return;
  bind(root, "me-name", me.full_name);
  bind(root, "me-seat", me.seat_number ? `${t("seat")} ${me.seat_number}` : "");
  const sitting = state.sitting;
  bind(root, "sitting", sitting ? sittingHeading(sitting) : t("no_sitting"));
  // The terminal's audience gets no per-deputy lists: its own registration comes with `me`.
  const registered = Boolean(sitting && me.registered
    && me.registration_round === sitting.registration_round);
  const registerButton = root.querySelector("#register");
  registerButton.hidden = !(sitting && sitting.registration_open && !registered);
  registerButton.disabled = busy;
  bind(root, "registration", !sitting ? "" : registered ? t("registered_ok")
    : sitting.registration_open ? "" : t("registration_closed"));

  const vote = state.vote;
  const open = vote && vote.state === "open";
  const itemTitle = state.current_item ? state.current_item.title : "";
  // After the close the vote stays up with its result until the next item comes up.
  const counted = vote && vote.state === "closed" && vote.result
    && (!state.current_item || vote.item_id === null || vote.item_id === state.current_item.id);
  const shown = open || counted;
  bind(root, "item-title", shown && vote.title === itemTitle ? "" : itemTitle);
  bind(root, "vote-title", shown ? vote.title : t("waiting_vote"));
  fitTitle(shown ? vote.vote_id : null);
  bind(root, "vote-stage", shown ? t(`stage_${vote.stage}`) : "");
  bind(root, "vote-rule", shown ? ruleText(vote) : "");
  const r = counted ? vote.result : null;
  const result = root.querySelector('[data-bind="vote-result"]');
  result.className = `vote-result ${r ? r.result : ""}`;
  result.textContent = r ? `${t(r.result)} · ${t("count_for")} ${r.for} · ${t("count_against")} ${r.against}`
    + ` · ${t("count_abstain")} ${r.abstain}` : "";
  const banner = root.querySelector('[data-bind="secret-banner"]');
  banner.hidden = !(open && vote.kind === "secret");
  banner.textContent = t("secret_notice");
  const left = open ? secondsLeft(vote) : null;
  const stopped = open && Boolean(vote.interrupted_at);  // waits for the secretary
  bind(root, "time-left", !open ? "" : stopped ? t("vote_interrupted_wait")
    : left === null ? t("no_limit") : `${t("time_left")}: ${plural("seconds", left)}`);
  const mine = (open || counted) && me.vote_id === vote.vote_id;
  const voted = mine && me.voted; // after the close too: the deputy's own recorded choice
  const online = Boolean(socket?.connected);  // offline, nothing is pressed: it would be lost
  const canPress = open && online && !stopped && !busy && (!voted || vote.allow_change) && left !== 0;
  // Once counted, nothing is left to press: the result and the own choice take the keys' place.
  root.querySelector(".choices").hidden = Boolean(counted) && !open;
  for (const button of root.querySelectorAll("button.choice")) {
    button.disabled = !canPress;
    const chosen = open && voted && me.choice === button.dataset.choice;
    button.setAttribute("aria-pressed", chosen ? "true" : "false");
  }
  let recorded = "";
  if (open && !online) recorded = t("offline_wait");
  else if (busy) recorded = t("sending");
  else if (voted) recorded = me.choice ? `${t("your_choice")} ${t(me.choice)}` : t("ballot_recorded");
  bind(root, "recorded", recorded);
  root.dataset.voteState = vote ? vote.state : "none";
  root.dataset.ballot = shown ? "shown" : "none"; // an open vote or its result comes first
  renderFloor();
}

/** The vote's title, cut to three lines on a phone (CSS) unless opened for this vote; the
 * "Full title" button shows only where something is cut. */
function fitTitle(voteId) {
  const title = root.querySelector('[data-bind="vote-title"]');
  const more = root.querySelector('[data-bind="title-more"]');
  titleShownFor = voteId;
  const open = voteId !== null && titleOpenFor === voteId;
  title.classList.toggle("open", open);
  more.setAttribute("aria-expanded", open ? "true" : "false");
  more.textContent = open ? t("title_less") : t("title_more");
  more.hidden = voteId === null || (!open && title.scrollHeight <= title.clientHeight + 1);
}

/** This deputy's waiting requests: from the pushed list, else the server's last answer. */
function myRequests(floor) {
  const mine = (floor?.queue ?? []).filter((entry) => entry.deputy_id === me.deputy_id);
  if (pending && !mine.some((entry) => entry.id === pending.request_id)) {
    if (Date.now() - pending.at < PENDING_MS) {
      mine.push({ id: pending.request_id, type: pending.type, place: pending.place, wait_seconds: pending.wait_seconds });
    } else {
      pending = null;
    }
  } else {
    pending = null;
  }
  return mine;
}

/** "You have the floor" with this deputy's own countdown; the request buttons; the place in
 * the list and the estimated wait of each waiting request, each with its withdraw button. */
function renderFloor() {
  const floor = state.floor;
  const box = root.querySelector('[data-bind="floor-box"]');
  box.hidden = !floor;
  const speech = floor?.speech;
  const speaking = Boolean(speech && speech.deputy_id === me.deputy_id);
  const banner = root.querySelector('[data-bind="floor-me"]');
  banner.hidden = !speaking;
  root.dataset.floor = speaking ? "speaking" : "none";
  if (speaking) {
    root.querySelector('[data-bind="floor-me-paused"]').hidden = speech.state !== "paused";
    updateClocks(banner, floor);
  }
  if (!floor) return;
  root.querySelector('[data-bind="floor-closed"]').hidden = !floor.closed;
  const mine = myRequests(floor);
  const waitingTypes = new Set(mine.map((entry) => entry.type));
  for (const button of root.querySelectorAll("button.request")) {
    const type = button.dataset.type;
    // A closed list still takes a point of order where the council allows it.
    const late = type === "point_of_order" && floor.late_points_of_order;
    button.disabled = floorBusy || waitingTypes.has(type) || (floor.closed && !late);
    button.setAttribute("aria-pressed", waitingTypes.has(type) ? "true" : "false");
  }
  const list = root.querySelector('[data-bind="my-requests"]');
  const key = JSON.stringify([floorBusy, mine]);
  if (list.dataset.for === key) return; // unchanged: its buttons stay as they are
  list.dataset.for = key;
  list.replaceChildren(...mine.map((entry) => el("li", { "data-request": entry.id, "data-place": entry.place },
    el("span", { class: "request-type", text: typeLabel(entry.type) }),
    el("span", { class: "request-place", text: `${t("your_place")}: ${entry.place}` }),
    el("span", { class: "request-wait", text: `${t("estimated_wait")}: ${formatWait(entry.wait_seconds)}` }),
    el("button", { type: "button", class: "danger", disabled: floorBusy, text: t("withdraw_request"),
      "aria-label": `${t("withdraw_request")}: ${typeLabel(entry.type)}`,
      onclick: () => withdraw(entry.id) }))));
}

function personal(snapshot) {
  if (snapshot.me) me = snapshot.me;
  state = snapshot.state;
  render();
}

/** The server's answer, or after ANSWER_MS a "no answer" error (the connection dropped). */
function answered(handle, done = () => { busy = false; }) {
  return (error, answer) => {
    done();
    handle(error ? { ok: false, error: { code: "no_answer", message: t("no_answer") } } : answer);
    if (error) socket.ask(); // show what the server actually recorded
  };
}

const floorDone = () => { floorBusy = false; };

function requestFloor(type) {
  if (!state?.sitting || !state.floor || floorBusy) return;
  if (!socket.connected) { showError("floor-error", t("reconnecting")); return; } // never queued
  floorBusy = true;
  showError("floor-error", null);
  render();
  socket.timeout(ANSWER_MS).emit("request_floor", { sitting_id: state.sitting.id, type }, answered((answer) => {
    if (answer.ok) {
      pending = { ...answer, at: Date.now() };
    } else {
      showError("floor-error", answer.error);
    }
    render();
  }, floorDone));
}

function withdraw(requestId) {
  if (floorBusy) return;
  if (!socket.connected) { showError("floor-error", t("reconnecting")); return; }
  floorBusy = true;
  showError("floor-error", null);
  render();
  socket.timeout(ANSWER_MS).emit("withdraw_request", { request_id: requestId }, answered((answer) => {
    if (answer.ok) {
      if (pending?.request_id === requestId) pending = null;
      if (state.floor) {  // gone from here at once; the next push says the same
        state = { ...state, floor: { ...state.floor, queue: state.floor.queue.filter((e) => e.id !== requestId) } };
      }
    } else {
      showError("floor-error", answer.error);
    }
    render();
  }, floorDone));
}

function start() {
  root.querySelector("#sign-in").hidden = true;
  root.querySelector("#seat").hidden = false;
  startClock(root);
  socket = connectLive({
    token,
    onSnapshot(snapshot) {
      const next = snapshot.state;
      // A push may overtake the snapshot read at the connection (the connection is in its
      // rooms before that read), and the screen keeps only the newer: ask for this deputy's
      // own line until one has come.
      if (!me && !snapshot.me) setTimeout(() => socket.ask(), 0);
      if (next?.vote && next.vote.vote_id !== state?.vote?.vote_id) {
        showError("error", null);  // a refusal of the last vote is not this one's
      }
      if (me && next?.vote && !snapshot.me && next.vote.vote_id !== me.vote_id) {
        // A new vote: nobody has voted in it from here yet. (Voting from another device shows
        // at the first press: "already recorded", and the terminal then asks.) Not asking the
        // server here spares it 450 questions at the moment every vote opens.
        me = { ...me, vote_id: next.vote.vote_id, voted: false, choice: null };
      }
      const newRound = me && next?.sitting && !snapshot.me
        && next.sitting.registration_round !== me.registration_round;
      personal(snapshot);
      if (newRound) {
        // A new registration round: this deputy's own line (spread over a moment, as every
        // terminal asks).
        setTimeout(() => socket.ask(), Math.random() * 300);
      }
    },
    onStatus(status, error) {
      bind(root, "connection", t(status));
      root.dataset.connection = status;
      if (status === "reconnecting" && (busy || floorBusy)) { busy = false; floorBusy = false; }
      render();  // the buttons follow the connection
      if (isRefusedToken(error)) forget(); // revoked or expired: sign in again
    },
  });
  setInterval(() => {
    if (state?.vote?.state === "open") render();
    else if (state?.floor?.speech) updateClocks(root, state.floor); // the same second everywhere
  }, 250);
}

function forget() {
  sessionStorage.removeItem(KEY);
  sessionStorage.removeItem(SEAT);
  token = null;
  if (socket) socket.disconnect();
  location.reload();
}

function signOut() {
  // A sign-in token is revoked; a seat's link keeps working (only this page forgets it).
  if (token && !sessionStorage.getItem(SEAT)) {
    api("/logout", { method: "POST", token }).catch(() => {});
  }
  forget();
}

root.querySelector("#card-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  showError("sign-in-error", null);
  try {
    const answer = await api("/login/card", { method: "POST", body: {
      card_uid: form.card_uid.value.trim(), pin: form.pin.value } });
    token = answer.token;
    sessionStorage.setItem(KEY, token);
    sessionStorage.removeItem(SEAT); // a sign-in token: "Sign out" revokes it
    form.pin.value = "";
    start();
  } catch (error) {
    bind(root, "sign-in-error", `${t("sign_in_failed")}: ${errorText(error)}`);
  }
});

root.querySelector("#register").addEventListener("click", () => {
  if (!state?.sitting || busy) return;
  busy = true;
  render();
  socket.timeout(ANSWER_MS).emit("register", { sitting_id: state.sitting.id }, answered((answer) => {
    showError("error", answer.ok ? null : answer.error);
    if (answer.ok) {
      me = { ...me, registered: true, registration_round: state.sitting.registration_round };
    }
    render();
  }));
});

for (const button of root.querySelectorAll("button.choice")) {
  button.addEventListener("click", () => {
    const vote = state?.vote;
    if (!vote || vote.state !== "open" || busy) return;
    if (!socket.connected) { showError("error", t("reconnecting")); return; } // never queued
    busy = true;
    showError("error", null);
    render();
    const choice = button.dataset.choice;
    // Every cast the same size on the wire ("for" + 4 spaces = "against" = "abstain").
    const pad = " ".repeat(7 - choice.length);
    socket.timeout(ANSWER_MS).emit("cast", { vote_id: vote.vote_id, choice, pad }, answered((answer) => {
      if (answer.ok) {
        me = { ...me, vote_id: answer.vote_id, voted: true, choice: answer.secret ? null : answer.choice };
      } else {
        showError("error", answer.error);
        if (answer.error.code === "already_voted") socket.ask(); // recorded from another device
      }
      render();
    }));
  });
}

for (const button of root.querySelectorAll("button.request")) {
  button.addEventListener("click", () => requestFloor(button.dataset.type));
}

root.querySelector("#sign-out").addEventListener("click", signOut);
root.querySelector('[data-bind="title-more"]').addEventListener("click", () => {
  titleOpenFor = titleOpenFor === titleShownFor ? null : titleShownFor;
  fitTitle(titleShownFor);
});
window.addEventListener("resize", () => fitTitle(titleShownFor));

token = fromHash() ?? sessionStorage.getItem(KEY);
if (token) {
  sessionStorage.setItem(KEY, token);
  start();
}
