"""How the reader sees a seed, for `feedpub inspect`: the way to find out why a story looks wrong."""

from __future__ import annotations

import textwrap
from pathlib import Path

from feedpub.config import Settings
from feedpub.model import SeedSkipped
from feedpub.seeds import read_seed, seed_key


def describe(path: Path, settings: Settings) -> dict:
    """One JSON-ready object per file; a file that would be skipped gets `skipped` with the reason."""
    key, _ = seed_key(path.name)
    try:
        seed = read_seed(path, root=path.parent, agencies=settings.agencies)
    except SeedSkipped as e:
        return {"path": str(path), "key": key, "skipped": e.reason}
    result = {
        "path": str(path),
        "key": seed.key,
        "category": seed.category,
        "title": seed.title,
        "agency": seed.agency,
        "publisher": seed.publisher,
        "date": seed.date.isoformat() if seed.date else None,
        "paragraphs": list(seed.paragraphs),
        "summary": seed.summary,
    }
    if seed.warnings:
        result["warnings"] = list(seed.warnings)
    return result


def format_text(result: dict) -> str:
    """A readable block per seed."""
    if "skipped" in result:
        return f"{result['path']}\n  skipped: {result['skipped']}"
    lines = [
        result["path"],
        f"  key:        {result['key']}",
        f"  category:   {result['category'] or '-'}",
        f"  title:      {result['title']}",
        f"  agency:     {result['agency'] or '-'}",
        f"  publisher:  {result['publisher'] or '-'}",
        f"  date:       {result['date'] or '- (none stated: first-seen time is used)'}",
        f"  paragraphs: {len(result['paragraphs'])}",
    ]
    lines += [f"  warning:    {w}" for w in result.get("warnings", [])]
    for number, text in enumerate(result["paragraphs"], start=1):
        wrapped = textwrap.shorten(text, width=100, placeholder=" …")
        lines.append(f"    {number:>2}. {wrapped}")
    return "\n".join(lines)
