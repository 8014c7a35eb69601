// The hall display's board: the seat map, the roll-call by faction and the factions' totals, laid
// out in pages that fit the board at a size readable from the back of the hall, turning by
// themselves ("page N of M"). Nothing is cut: a page holds as many whole entries as fit, and the
// entries' width comes from the longest one measured in the page's own font.
import { el, t } from "./common.js";

/** The choice (or presence) by a symbol as well as by colour: never by colour alone. */
export const SYMBOLS = {
  for: "\u2713", against: "\u2717", abstain: "\u25cb", not_voted: "\u2013", absent: "\u2205",
  registered: "\u25cf", head: "\u2605",
};

/** How long a page stays: ?page_seconds=N on the display's address (2-120), else 8 s. */
const PAGE_MS = (() => {
  const asked = Number(new URLSearchParams(window.location.search).get("page_seconds"));
  return (Number.isFinite(asked) && asked >= 2 && asked <= 120 ? asked : 8) * 1000;
})();

/** "Прізвище І. П." → "Прізвище": the family name, for a tile with no room for the initials. */
function surname(name) {
  return name.split(/\s+/)[0] || name;
}

function seatTile(d, { registered, choice }) {
  const state = choice ?? (registered ? "registered" : "absent");
  const label = `${d.is_head ? t("head") : `${t("seat")} ${d.seat_number ?? "—"}`}, ${d.full_name}: `
    + `${choice ? t(choice) : registered ? t("registered") : t("absent")}`;
  const name = d.short_name ?? d.full_name;
  const classes = ["seat", registered ? "registered" : "absent"];
  if (choice) classes.push(`choice-${choice}`);
  if (d.is_head) classes.push("head");
  const tile = el("div", { class: classes.join(" "), role: "img", title: label, "aria-label": label, "data-deputy": d.id },
    el("span", { class: "seat-number", text: d.is_head ? SYMBOLS.head : String(d.seat_number ?? "") }),
    el("span", { class: "seat-mark", "aria-hidden": "true", text: SYMBOLS[state] }),
    el("span", { class: "seat-name", text: surname(name) }));
  tile.dataset.full = name;
  tile.dataset.seat = String(d.seat_number ?? "");
  return tile;
}

/** The roll-call's groups: the head first, then the factions by name, then those in none. */
export function groupsOf(deputies) {
  const groups = new Map();
  for (const d of deputies) {
    const rank = d.is_head ? 0 : d.faction ? 1 : 2;
    const key = `${rank}:${rank === 1 ? d.faction : ""}`;
    if (!groups.has(key)) {
      groups.set(key, { rank, name: d.is_head ? t("head") : d.faction ?? t("no_faction"), members: [] });
    }
    groups.get(key).members.push(d);
  }
  return [...groups.values()].sort((a, b) => a.rank - b.rank || a.name.localeCompare(b.name, "uk"));
}

export const COUNTED = ["for", "against", "abstain", "not_voted", "absent"];
/** The legend's words for each symbol (the plural forms, as beside a count). */
const LEGEND = {
  for: "count_for", against: "count_against", abstain: "count_abstain", not_voted: "count_not_voted",
  absent: "count_absent", registered: "count_registered", head: "head",
};

/** A sheet: a kind of content whose entries are laid out in pages. */
function sheet(kind, title, entries, { flow = "row", legend = [], head = null } = {}) {
  return { kind, title, entries, flow, legend, head };
}

export class Board {
  /** `box` holds the board; `plan` and `rollCall` are the sections the sheets' pages go in. */
  constructor(box) {
    this.box = box;
    this.title = box.querySelector('[data-bind="board-title"]');
    this.legend = box.querySelector('[data-bind="legend"]');
    this.pager = box.querySelector('[data-bind="pager"]');
    this.area = box.querySelector('[data-bind="board-pages"]');
    this.pages = [];
    this.current = 0;
    this.story = null;
    this.timer = setInterval(() => this.turn(), PAGE_MS);
    // The hall's rows from config.toml ([hall_plan]); none: the seats in number order.
    this.hallRows = JSON.parse(box.dataset.plan || "[]");
  }

  /** The sheets for what the hall should see now, laid out again; the page shown is kept unless
   * the story changed (another vote, or its close), which starts from the first page. */
  update(roster, state, vote, { rollCall }) {
    const sitting = state.sitting;
    if (!sitting) {
      this.key = null;
      this.show([], "none");
      return;
    }
    const registered = new Set(sitting.registered_ids);
    // The seat map shows the choices once a roll-call vote has closed; the roll-call's own sheets
    // come first then, unless the speaker has the main area.
    const outcomes = vote?.state === "closed" && vote.outcomes ? vote.outcomes : null;
    const story = `${vote?.vote_id ?? ""}:${outcomes ? "choices" : "plan"}:${rollCall}`;
    // Laid out again only when something on it changed (not at every cast of an open vote).
    const key = JSON.stringify([story, sitting.registered_ids, sitting.participant_ids, outcomes,
      vote?.title, this.area.clientWidth, this.area.clientHeight, roster.size]);
    if (key === this.key) return;
    this.key = key;
    const people = sitting.participant_ids.map((id) => roster.get(id)).filter(Boolean);
    const seats = [...people].sort((a, b) => (b.is_head - a.is_head)
      || (a.seat_number ?? 1e9) - (b.seat_number ?? 1e9));
    const tiles = seats.map((d) => seatTile(d, { registered: registered.has(d.id), choice: outcomes?.[d.id] }));
    const planLegend = outcomes ? COUNTED : ["registered", "absent"];
    const withHead = seats.some((d) => d.is_head) ? ["head"] : [];
    const plan = sheet("plan", t("hall_plan"), tiles, { legend: [...planLegend, ...withHead] });
    const sheets = [];
    if (outcomes && rollCall) {
      const voted = [...roster.values()].filter((d) => outcomes[d.id] !== undefined);
      const groups = groupsOf(voted).map((g) => ({
        head: el("li", { class: "faction-head", text: `${g.name} (${g.members.length})` }),
        members: g.members.map((d) => el("li", { class: `outcome-${outcomes[d.id]}`, "data-deputy": d.id },
          el("span", { class: "mark", "aria-hidden": "true", text: SYMBOLS[outcomes[d.id]] }),
          el("span", { class: "name", text: d.short_name ?? d.full_name }),
          el("span", { class: "outcome", text: t(outcomes[d.id]) }))),
        counts: COUNTED.map((c) => g.members.filter((d) => outcomes[d.id] === c).length),
        name: g.name,
      }));
      sheets.push(sheet("roll-call", t("roll_call_results"), groups, { flow: "groups", legend: COUNTED }));
      const totals = groups.map((g) => el("tr", {}, el("th", { scope: "row", text: g.name }),
        COUNTED.map((c, i) => el("td", { "data-choice": c, text: String(g.counts[i]) }))));
      const head = el("tr", {}, el("th", { scope: "col", text: t("faction") }),
        COUNTED.map((c) => el("th", { scope: "col", title: t(`count_${c}`), text: SYMBOLS[c] })));
      sheets.push(sheet("factions", t("by_faction"), totals, { flow: "table", legend: COUNTED, head }));
    }
    sheets.push(plan);
    this.show(sheets, story);
  }

  show(sheets, story) {
    const keep = story === this.story ? this.pages[this.current] : null;
    this.story = story;
    this.area.replaceChildren();
    this.box.hidden = false; // measured in place: a hidden board has no size
    this.pages = sheets.flatMap((s) => this.paginate(s));
    const same = keep ? this.pages.findIndex((p) => p.sheet.kind === keep.sheet.kind && p.index === keep.index) : -1;
    this.current = same >= 0 ? same : 0;
    this.box.hidden = this.pages.length === 0;
    this.area.append(...this.pages.map((p) => p.node));
    this.reveal();
  }

  turn() {
    if (this.pages.length < 2) return;
    this.current = (this.current + 1) % this.pages.length;
    this.reveal();
  }

  reveal() {
    this.pages.forEach((p, i) => { p.node.hidden = i !== this.current; });
    const page = this.pages[this.current];
    this.box.dataset.sheet = page ? page.sheet.kind : "";
    if (!page) return;
    if (this.title.textContent !== page.sheet.title) this.title.textContent = page.sheet.title;
    this.legend.replaceChildren(...page.sheet.legend.map((key) => el("li", { class: `key-${key}` },
      el("span", { class: "mark", "aria-hidden": "true", text: SYMBOLS[key] }),
      el("span", { text: t(LEGEND[key]) }))));
    const text = this.pages.length > 1
      ? t("page_of").replace("{n}", String(page.number)).replace("{m}", String(page.of)) : "";
    this.pager.textContent = text;
    this.pager.hidden = !text;
  }

  /** The sheet's entries in as many pages as it takes: their size measured in place, then as
   * many columns and rows as the board holds. */
  paginate(s) {
    const width = this.area.clientWidth;
    const height = this.area.clientHeight;
    const chunks = s.flow === "table" ? this.tablePages(s, height)
      : s.flow === "groups" ? this.groupPages(s, width, height)
        : this.tilePages(s, width, height);
    return chunks.map((node, index) => {
      node.dataset.page = String(index + 1);
      return { sheet: s, index, number: index + 1, of: chunks.length, node };
    });
  }

  /** Entries put on an invisible page at their natural size; their widest and tallest. */
  measure(kind, entries, extra = "") {
    const probe = el("div", { class: `board-page page-${kind} measuring ${extra}` }, entries);
    this.area.append(probe);
    const gap = parseFloat(getComputedStyle(probe).rowGap) || 0;
    const w = Math.max(1, ...entries.map((e) => e.offsetWidth));
    const h = Math.max(1, ...entries.map((e) => e.offsetHeight));
    return { probe, gap, w, h };
  }

  grid(kind, nodes, cols, cell, h, extra = "") {
    const node = el(kind === "roll-call" ? "ol" : "div",
      { class: `board-page page-${kind}${kind === "roll-call" ? " roll-call" : ""} ${extra}` }, nodes);
    node.style.gridTemplateColumns = `repeat(${cols}, ${cell}px)`;
    node.style.gridAutoRows = `${h}px`;
    return node;
  }

  /** The seat map: tiles in seat order, row by row. A tile shows the family name; where its
   * column has room, the whole short name with the initials. */
  tilePages(s, width, height) {
    const tiles = s.entries;
    const full = this.names(tiles, "full");
    this.names(tiles, "surname");
    let { probe, gap, w, h } = this.measure(s.kind, tiles);
    probe.remove();
    // The hall's shape first: when its longest row does not fit a line of named tiles, the
    // tiles show the seat and the mark alone (the name stays in the tile's label), if then it
    // fits; else the rows go on to the next line.
    const longest = Math.max(0, ...this.hallRows.map((row) => row.reduce((n, b) => n + b.length, row.length - 1)));
    const fits = (width0) => Math.floor((width + gap) / (width0 + gap)) >= longest;
    tiles.forEach((tile) => tile.classList.remove("numbers-only"));
    if (longest && !fits(w)) {
      tiles.forEach((tile) => tile.classList.add("numbers-only"));
      const compact = this.measure(s.kind, tiles);
      compact.probe.remove();
      if (fits(compact.w)) ({ w, h } = compact);
      else tiles.forEach((tile) => tile.classList.remove("numbers-only"));
    }
    const cols = Math.max(1, Math.floor((width + gap) / (w + gap)));
    const rows = Math.max(1, Math.floor((height + gap) / (h + gap)));
    const cell = Math.max(w, Math.floor((width - gap * (cols - 1)) / cols));
    tiles.forEach((tile, i) => {
      if (full[i] <= cell) tile.querySelector(".seat-name").textContent = tile.dataset.full;
    });
    const pages = [];
    if (!this.hallRows.length) {
      for (let start = 0; start < tiles.length; start += cols * rows) {
        pages.push(this.grid(s.kind, tiles.slice(start, start + cols * rows), cols, cell, h));
      }
      return pages;
    }
    const lines = this.hallLines(tiles, cols);
    for (let start = 0; start < lines.length; start += rows) {
      pages.push(this.grid(s.kind, lines.slice(start, start + rows).flat(), cols, cell, h));
    }
    return pages;
  }

  /** The seat map as the hall stands (config.toml [hall_plan]): the mayor's place in front,
   * then each row of the hall on lines of its own (a row longer than a line goes on to the
   * next), an aisle between its blocks, a blank where a seat has nobody; seats the plan does
   * not name come last. Each line is `cols` cells. */
  hallLines(tiles, cols) {
    const listed = new Set(this.hallRows.flat(2).map(String));
    const bySeat = new Map(tiles.map((tile) => [tile.dataset.seat, tile]));
    const blank = (kind) => el("div", { class: `seat-${kind}`, "aria-hidden": "true" });
    const lines = [];
    let line = [];
    const end = () => {
      if (!line.length) return;
      while (line.length < cols) line.push(blank("blank"));
      lines.push(line);
      line = [];
    };
    const put = (cell) => {
      if (line.length === cols) end();
      line.push(cell);
    };
    // The mayor in front, unless the plan gives the mayor's own seat.
    const head = tiles.filter((tile) => tile.classList.contains("head") && !listed.has(tile.dataset.seat));
    head.forEach(put);
    end();
    for (const row of this.hallRows) {
      row.forEach((block, b) => {
        if (b > 0 && line.length > 0 && line.length < cols) put(blank("aisle"));
        for (const seat of block) {
          const tile = bySeat.get(String(seat));
          bySeat.delete(String(seat));
          put(tile ?? blank("empty"));
        }
      });
      end();
    }
    for (const tile of tiles) { // not in the plan: after it, so no one is left out
      if (!head.includes(tile) && bySeat.get(tile.dataset.seat) === tile) put(tile);
    }
    end();
    return lines;
  }

  /** The roll-call: each faction under its heading (repeated on the next page when it goes on),
   * its members row by row. With the choice in words where it all fits one page; else by the
   * symbols alone (the legend says what they mean), which takes fewer pages. */
  groupPages(s, width, height) {
    const lay = (extra) => {
      const entries = s.entries.flatMap((g) => [g.head, ...g.members]);
      const { probe, gap, w, h } = this.measure(s.kind, entries.filter((e) => !e.classList.contains("faction-head")), extra);
      probe.remove();
      const cols = Math.max(1, Math.floor((width + gap) / (w + gap)));
      const rows = Math.max(2, Math.floor((height + gap) / (h + gap)));
      const cell = Math.max(w, Math.floor((width - gap * (cols - 1)) / cols));
      const pages = [];
      let page = [];
      let used = 0;
      const turn = () => { pages.push(page); page = []; used = 0; };
      for (const g of s.entries) {
        if (used + 2 > rows && used > 0) turn(); // a heading never ends a page
        page.push(g.head);
        used += 1;
        for (let start = 0; start < g.members.length; start += cols) {
          if (used >= rows) {
            turn();
            page.push(g.head.cloneNode(true)); // the faction goes on: its heading again
            used += 1;
          }
          page.push(...g.members.slice(start, start + cols));
          used += 1;
        }
      }
      if (page.length) turn();
      return pages.map((nodes) => this.grid(s.kind, nodes, cols, cell, h, extra));
    };
    const worded = lay("");
    return worded.length > 1 ? lay("compact") : worded;
  }

  /** The factions' totals: a table, as many rows a page as fit under its heading. */
  tablePages(s, height) {
    const make = (rows) => el("table", { class: `board-page page-${s.kind}` },
      el("thead", {}, s.head.cloneNode(true)), el("tbody", {}, rows));
    const probe = make(s.entries);
    probe.classList.add("measuring");
    this.area.append(probe);
    const room = height - probe.tHead.offsetHeight;
    const heights = s.entries.map((r) => r.offsetHeight); // a long faction name may take two lines
    probe.remove();
    const pages = [];
    let rows = [];
    let used = 0;
    s.entries.forEach((row, i) => {
      if (rows.length && used + heights[i] > room) {
        pages.push(make(rows));
        rows = [];
        used = 0;
      }
      rows.push(row);
      used += heights[i];
    });
    if (rows.length) pages.push(make(rows));
    return pages;
  }

  /** Every tile's name set to its whole short name or its family name; their widths (one
   * layout for all of them). */
  names(tiles, which) {
    for (const tile of tiles) {
      tile.querySelector(".seat-name").textContent = which === "full" ? tile.dataset.full : surname(tile.dataset.full);
    }
    const probe = this.measure("plan", tiles).probe;
    const widths = tiles.map((tile) => tile.offsetWidth);
    probe.remove();
    return widths;
  }
}
