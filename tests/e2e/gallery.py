"""The gallery of the screens: every screenshot the browser tests took, on one page.

After a run of the browser tests, `test-artifacts/screens/index.md` lists every screenshot of
that run, screen by screen (tests/e2e/conftest.py writes it when the run ends; CI keeps the
folder). `python tests/e2e/gallery.py --docs` copies the chosen ones, made smaller, to
docs/screens/ for docs/screens.md, so a reviewer sees the whole product at once.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs" / "screens"

#: The screens in the order a reviewer meets them: the file name's first word, and its title.
SCREENS = {
    "hall": "Hall display by the size of the hall (30, 55, 121, 451 seats; 1920×1080, 1280×720)",
    "display": "Hall display",
    "overlay": "Broadcast overlay",
    "public": "Public live page",
    "terminal": "Deputy's terminal",
    "control": "Control screen",
}

#: What docs/screens.md shows, with captions (the file names the browser tests write).
CHOSEN = {
    "hall-30-closed-1920x1080": "30 seats: a roll-call result, the roll-call by faction",
    "hall-121-vote-open-1920x1080": "121 seats: a vote open, the rule and the votes needed",
    "hall-121-closed-1920x1080": "121 seats: the result, the roll-call paging by itself",
    "hall-121-announced-1280x720": "121 seats at 1280×720: the result announced",
    "hall-121-speaker-1920x1080": "121 seats: a speech, the seat map with the choices",
    "hall-451-registration-1920x1080": "451 seats: registration in progress, the seat map",
    "hall-451-closed-1920x1080": "451 seats: the result, the roll-call in symbols",
    "display-floor-beside-a-vote": "A speech goes on beside an open vote",
    "overlay-result": "The broadcast's lower third: a result",
    "overlay-floor-speaker": "The broadcast's lower third: a speaker",
    "public-result": "Public page: the result, the hall plan, the roll-call by faction",
    "public-votes-so-far": "Public page on a phone: the votes of the sitting so far",
    "public-no-javascript-390": "Public page without JavaScript, on a phone",
    "public-floor": "Public page: the speaker and the list",
    "terminal-360-vote-open": "Terminal on a 360 px phone: a vote open",
    "terminal-360-vote-closed": "Terminal on a 360 px phone: the result and the own choice",
    "terminal-360-long-secret": "Terminal on a 360 px phone: a long title cut, a secret ballot",
    "terminal-vote-open": "Terminal on a tablet: a vote open",
    "terminal-secret-recorded": "Terminal: a secret ballot recorded",
    "terminal-floor-speaking": "Terminal: the deputy has the floor",
    "control-vote-open": "Control screen: a vote open",
    "control-result": "Control screen: the result",
    "control-floor-speaking": "Control screen: the floor",
    "control-vote-interrupted": "Control screen: a vote the servers' stop interrupted",
    "control-agenda-and-roster": "Control screen: the agenda and the roster",
}


def write_index(folder: Path) -> Path | None:
    """index.md in `folder`: every screenshot there, screen by screen (None: there are none)."""
    shots = sorted(folder.glob("*.png"))
    if not shots:
        return None
    lines = ["# Screens of this test run", ""]
    for prefix, title in SCREENS.items():
        mine = [s for s in shots if s.stem.split("-")[0] == prefix]
        if not mine:
            continue
        lines += [f"## {title}", ""]
        lines += [f"### {s.stem}\n\n![{s.stem}]({s.name})\n" for s in mine]
    others = [s for s in shots if s.stem.split("-")[0] not in SCREENS]
    if others:
        lines += ["## Other", ""] + [f"### {s.stem}\n\n![{s.stem}]({s.name})\n" for s in others]
    index = folder / "index.md"
    index.write_text("\n".join(lines), encoding="utf-8")
    return index


def refresh_docs(folder: Path) -> list[str]:
    """The chosen screenshots of the last run, 960 px wide JPEGs, into docs/screens/; the ones
    that run did not take."""
    from PIL import Image  # Pillow comes with ReportLab

    DOCS.mkdir(parents=True, exist_ok=True)
    missing = []
    for name in CHOSEN:
        source = folder / f"{name}.png"
        if not source.is_file():
            missing.append(name)
            continue
        with Image.open(source) as image:
            small = image.convert("RGB")
            if small.width > 960:
                small = small.resize((960, round(small.height * 960 / small.width)))
            small.save(DOCS / f"{name}.jpg", quality=80, optimize=True)
    return missing


if __name__ == "__main__":
    sys.path[:0] = [str(Path(__file__).parent), str(Path(__file__).parents[1])]
    from chromium import ARTIFACTS

    index = write_index(ARTIFACTS)
    print(f"gallery: {index}" if index else f"no screenshots in {ARTIFACTS}: run the tests")
    if "--docs" in sys.argv[1:]:
        lost = refresh_docs(ARTIFACTS)
        print(f"docs/screens/ refreshed; not taken by the last run: {lost}" if lost else "ok")
