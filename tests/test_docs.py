"""The README's first screen is a newcomer's, and every link in the docs leads somewhere."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from tests.helpers import REPO

DOCS = sorted((REPO / "docs").glob("*.md"))
PICTURE = REPO / "docs" / "telegram.png"
#: what fits on a screen above the fold, beside the picture
FIRST_SCREEN_LINES = 60


def _headings(path: Path) -> set[str]:
    """GitHub's anchors for the headings of `path` (code blocks skipped)."""
    anchors, fence = set(), False
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            fence = not fence
        found = None if fence else re.match(r"#+ (.*)", line)
        if found:
            title = re.sub(r"[^\w\- ]", "", found.group(1).strip().lower())
            anchors.add(title.replace(" ", "-"))
    return anchors


@pytest.mark.parametrize("path", [REPO / "README.md", *DOCS], ids=lambda p: p.name)
def test_every_relative_link_leads_to_a_file_and_heading(path: Path) -> None:
    text = re.sub(r"```.*?```", "", path.read_text(encoding="utf-8"), flags=re.S)
    links = re.findall(r"\]\(([^)\s]+)\)", text) + re.findall(r'<img src="([^"]+)"', text)
    for link in links:
        if re.match(r"[a-z]+:", link):
            continue
        target, _, anchor = link.partition("#")
        file = (path.parent / target).resolve() if target else path
        assert file.exists(), f"{path.name}: {link} leads nowhere"
        if anchor and file.suffix == ".md" and file.parent.name != "bench":
            assert anchor in _headings(file), f"{path.name}: no heading #{anchor} in {target}"


def test_the_readme_links_every_doc() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for doc in DOCS:
        assert f"](docs/{doc.name})" in readme, f"README.md does not link docs/{doc.name}"


def test_the_first_screen_goes_from_what_it_is_to_a_running_container() -> None:
    first = "\n".join(
        (REPO / "README.md").read_text(encoding="utf-8").splitlines()[:FIRST_SCREEN_LINES]
    )
    assert '<img src="docs/telegram.png"' in first
    assert "woo-bridge demo" in first  # the quick start's two commands
    assert ".venv/bin/pytest" in first
    assert "docker run" in first
    assert "docker compose up" in first
    assert "at least once" in first  # the delivery guarantee


def test_the_picture_is_small_and_drawn_from_the_bridges_own_rendering() -> None:
    assert PICTURE.stat().st_size < 200_000
    sys.path.insert(0, str(REPO / "tools"))
    try:
        import screenshot
    finally:
        sys.path.remove(str(REPO / "tools"))
    page = screenshot.page(screenshot.bubbles())
    # the real Renderer's words for the sample order, product and status change
    for shown in ("New order #727", "Product updated", "Processing → Completed", "Open in admin"):
        assert shown in page
