// The deputy terminal (tablet 1280×800 or phone): sign in, register, vote.
// The choice shown is the one the server acknowledged after committing it, never the button
// pressed; for a secret ballot the terminal shows only that the ballot is recorded.
import {
  api, bind, connectLive, errorText, isRefusedToken, plural, secondsLeft, startClock, t,
} from "./common.js";

const root = document.getElementById("terminal");
const KEY = "voting.terminal.token";
const SEAT = "voting.terminal.seat"; // set when the token came with the seat's link
const ANSWER_MS = 8000; // no answer by then: say so and ask the server what it recorded
let token = null;
let socket = null;
let state = null;
let me = null;
let busy = false;

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
  bind(root, "sitting", sitting ? sitting.title : t("no_sitting"));
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
  bind(root, "item-title", open && vote.title === itemTitle ? "" : itemTitle);
  bind(root, "vote-title", open ? vote.title : t("waiting_vote"));
  const banner = root.querySelector('[data-bind="secret-banner"]');
  banner.hidden = !(open && vote.kind === "secret");
  banner.textContent = t("secret_notice");
  const left = open ? secondsLeft(vote) : null;
  bind(root, "time-left", !open ? "" : left === null ? t("no_limit") : `${t("time_left")}: ${plural("seconds", left)}`);
  const mine = open && me.vote_id === vote.vote_id;
  const voted = mine && me.voted;
  const canPress = open && !busy && (!voted || vote.allow_change) && left !== 0;
  for (const button of root.querySelectorAll("button.choice")) {
    button.disabled = !canPress;
    const chosen = voted && me.choice === button.dataset.choice;
    button.setAttribute("aria-pressed", chosen ? "true" : "false");
  }
  let recorded = "";
  if (busy) recorded = t("sending");
  else if (voted) recorded = me.choice ? `${t("your_choice")} ${t(me.choice)}` : t("ballot_recorded");
  bind(root, "recorded", recorded);
  root.dataset.voteState = vote ? vote.state : "none";
}

function personal(snapshot) {
  if (snapshot.me) me = snapshot.me;
  state = snapshot.state;
  render();
}

/** The server's answer, or after ANSWER_MS a "no answer" error (the connection dropped). */
function answered(handle) {
  return (error, answer) => {
    busy = false;
    handle(error ? { ok: false, error: { code: "no_answer", message: t("no_answer") } } : answer);
    if (error) socket.ask(); // show what the server actually recorded
  };
}

function start() {
  root.querySelector("#sign-in").hidden = true;
  root.querySelector("#seat").hidden = false;
  startClock(root);
  socket = connectLive({
    token,
    onSnapshot(snapshot) {
      const next = snapshot.state;
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
      if (status === "reconnecting" && busy) { busy = false; render(); }
      if (isRefusedToken(error)) forget(); // revoked or expired: sign in again
    },
  });
  setInterval(() => { if (state?.vote?.state === "open") render(); }, 250);
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

root.querySelector("#sign-out").addEventListener("click", signOut);

token = fromHash() ?? sessionStorage.getItem(KEY);
if (token) {
  sessionStorage.setItem(KEY, token);
  start();
}
