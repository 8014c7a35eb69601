"use strict";
(function () {
  const hall = document.getElementById("hall");
  const statusLine = document.getElementById("status");
  const link = document.getElementById("link");
  const otherUid = document.getElementById("other-uid");
  const template = document.getElementById("tile");
  const KEY_WORDS = { for: "За", against: "Проти", abstain: "Утримався", speak: "Слово" };
  const LAMP_WORDS = {
    session: "Сесія", REGISTERED: "Зареєстровано", VOTE_OPEN: "Голосування відкрите",
    LOCKED: "Заблоковано",
  };
  let tiles = new Map();        // address → {root, parts…, state}
  let order = "";               // the addresses shown, joined
  const heldHere = new Set();   // "address:key" pressed from this page and not yet released
  let chain = Promise.resolve();

  function say(text) { statusLine.textContent = text; }

  async function post(body) {
    try {
      const response = await fetch("/action", {
        method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body),
      });
      const answer = await response.json();
      if (!answer.ok) { say("Відмовлено: " + answer.error); return false; }
      say("");
      return true;
    } catch (error) {
      say("Немає зв'язку з симулятором");
      return false;
    }
  }

  // Actions go out one after another: a release never overtakes its press.
  function act(body) {
    const done = chain.then(() => post(body));
    chain = done.catch(() => false);
    return done;
  }

  function press(address, key) {
    const id = address + ":" + key;
    if (heldHere.has(id)) return;
    heldHere.add(id);
    markHeld(address, key, true);
    act({ address: address, action: "press", key: key });
  }

  function release(address, key) {
    const id = address + ":" + key;
    if (!heldHere.has(id)) return;
    heldHere.delete(id);
    markHeld(address, key, false);
    act({ address: address, action: "release", key: key });
  }

  function markHeld(address, key, held) {
    const tile = tiles.get(address);
    if (tile) tile.keys[key].setAttribute("aria-pressed", held ? "true" : "false");
  }

  function wireKey(button, address, key) {
    button.addEventListener("pointerdown", (event) => {
      if (event.pointerType === "mouse" && event.button !== 0) return;
      event.preventDefault();
      button.focus({ preventScroll: true });
      press(address, key);
    });
    for (const type of ["pointerup", "pointerleave", "pointercancel"]) {
      button.addEventListener(type, () => release(address, key));
    }
    button.addEventListener("keydown", (event) => {
      if (event.key !== "Enter" && event.key !== " ") return;
      event.preventDefault();
      if (!event.repeat) press(address, key);
    });
    button.addEventListener("keyup", (event) => {
      if (event.key !== "Enter" && event.key !== " ") return;
      event.preventDefault();
      release(address, key);
    });
    button.addEventListener("blur", () => release(address, key));
    button.addEventListener("contextmenu", (event) => event.preventDefault());
  }

  function build(consoles) {
    hall.replaceChildren();
    tiles = new Map();
    for (const c of consoles) {
      const root = template.content.firstElementChild.cloneNode(true);
      const tile = {
        root: root,
        seat: root.querySelector(".seat"),
        name: root.querySelector(".name"),
        beep: root.querySelector(".beep"),
        beeps: root.querySelector(".beeps"),
        lcd: root.querySelector(".lcd"),
        lamps: Array.from(root.querySelectorAll(".lamp")),
        keys: {},
        card: root.querySelector(".card"),
        cable: root.querySelector(".cable"),
        state: null,
      };
      root.dataset.address = String(c.address);
      for (const button of root.querySelectorAll(".key")) {
        tile.keys[button.dataset.key] = button;
        wireKey(button, c.address, button.dataset.key);
      }
      tile.card.addEventListener("click", () => cardClicked(c.address));
      tile.cable.addEventListener("click", () => {
        const plugged = tile.cable.getAttribute("aria-pressed") === "true";
        act({ address: c.address, action: plugged ? "unplug" : "plug" }).then(refresh);
      });
      tiles.set(c.address, tile);
      hall.appendChild(root);
    }
  }

  function cardClicked(address) {
    const tile = tiles.get(address);
    if (tile.state && tile.state.card) {
      act({ address: address, action: "remove" }).then(refresh);
      return;
    }
    const typed = otherUid.value.trim();
    const body = { address: address, action: "insert" };
    if (typed) body.uid = typed;
    act(body).then((ok) => { if (ok && typed) otherUid.value = ""; refresh(); });
  }

  function update(tile, c) {
    const before = tile.state;
    tile.state = c;
    const lights = new Set(c.lights);
    tile.seat.textContent = String(c.address);
    tile.name.textContent = c.name || "—";
    tile.root.setAttribute("aria-label", "Пульт " + c.address + (c.name ? ", " + c.name : ""));
    tile.root.classList.toggle("vote-open", lights.has("VOTE_OPEN"));
    tile.root.classList.toggle("unplugged", !c.answering);
    tile.lcd.textContent = c.text;
    tile.beeps.textContent = String(c.beeps);
    if (before && before.beeps !== c.beeps) {
      tile.beep.classList.remove("flash");
      void tile.beep.offsetWidth;  // restarts the animation
      tile.beep.classList.add("flash");
    }
    for (const lamp of tile.lamps) {
      const which = lamp.dataset.lamp || lamp.dataset.light;
      const on = which === "session" ? c.session : lights.has(which);
      lamp.classList.toggle("on", on);
      lamp.setAttribute("aria-label", LAMP_WORDS[which] + (on ? ": так" : ": ні"));
    }
    const heldThere = new Set(c.held);
    for (const [key, button] of Object.entries(tile.keys)) {
      const lit = lights.has(button.dataset.light);
      button.classList.toggle("lit", lit);
      const held = heldHere.has(c.address + ":" + key) || heldThere.has(key);
      button.setAttribute("aria-pressed", held ? "true" : "false");
      let label = KEY_WORDS[key] + (lit ? " — світиться" : "");
      if (key === "speak") {
        const mic = lights.has("MICROPHONE");
        button.classList.toggle("mic-on", mic);
        label += mic ? ", мікрофон увімкнено" : "";
      }
      button.setAttribute("aria-label", label);
    }
    tile.card.classList.toggle("in", Boolean(c.card));
    tile.card.lastChild.textContent = c.card ? "вийняти" : "вставити";
    tile.card.title = c.card
      ? "Remove the card " + c.card.toUpperCase()
      : "Insert " + (c.seat_card ? "the card " + c.seat_card.toUpperCase() : "a card (type its UID above)");
    tile.card.setAttribute("aria-label", c.card ? "Вийняти картку" : "Вставити картку");
    tile.cable.setAttribute("aria-pressed", c.answering ? "true" : "false");
    tile.cable.lastChild.textContent = c.answering ? "✓ є" : "✗ нема";
    tile.cable.setAttribute("aria-label", "Кабель: " + (c.answering ? "підключено" : "від'єднано"));
  }

  function render(state) {
    const consoles = state.consoles || [];
    const shown = consoles.map((c) => c.address).join(",");
    if (shown !== order) { build(consoles); order = shown; }
    for (const c of consoles) update(tiles.get(c.address), c);
  }

  async function refresh() {
    try {
      const response = await fetch("/state", { cache: "no-store" });
      render(await response.json());
      link.textContent = "На зв'язку";
      link.classList.remove("lost");
      return true;
    } catch (error) {
      link.textContent = "Немає зв'язку";
      link.classList.add("lost");
      return false;
    }
  }

  async function poll() {
    await refresh();
    setTimeout(poll, 200);
  }
  poll();
})();
