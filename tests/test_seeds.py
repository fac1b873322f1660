"""Tests for the seed reader (feedpub/seeds.py): examples, the user's sample, bad input, properties."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from feedpub.model import Seed, SeedSkipped
from feedpub.seeds import (
    KNOWN_AGENCIES,
    MAX_SEED_BYTES,
    SEED_SUFFIXES,
    parse_seed,
    read_seed,
    seed_key,
    skim_seed,
    summarize,
)

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(__file__).resolve().parents[2] / "shared"
EXAMPLES = SHARED / "examples"
MAKE_SEEDS = SHARED / "bench" / "make_seeds.py"
needs_shared = pytest.mark.skipif(
    not (EXAMPLES / "expected.json").is_file(),
    reason=f"shared examples not found at {SHARED} (CI keeps shared/ beside the clone)",
)

UTC = timezone.utc
XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")

SAMPLE_BODY = (
    "First paragraph of the story, with enough words to read.\n\n"
    "Second paragraph closes the story./VOA\n"
)


def parse_text(text: str, name: str = "001_abc.txt", **kwargs) -> Seed:
    return parse_seed(text.encode("utf-8"), path=Path(name), **kwargs)


def as_record(seed: Seed) -> dict:
    """A Seed in the shape of expected.json (see shared/examples/README.md)."""
    return {
        "category": seed.category,
        "title": seed.title,
        "agency": seed.agency,
        "publisher": seed.publisher,
        "date": seed.date,
        "paragraphs": len(seed.paragraphs),
        "first_words": " ".join(seed.paragraphs[0].split()[:6]),
        "last_words": " ".join(seed.paragraphs[-1].split()[-6:]),
    }


def expected_record(expected: dict) -> dict:
    record = {key: value for key, value in expected.items() if key != "note"}
    # Dates compare as instants: "Z" and "+00:00" are the same.
    record["date"] = datetime.fromisoformat(record["date"]) if record["date"] else None
    record["title"] = " ".join(record["title"].split())
    return record


def skip_reason(path: Path, **kwargs) -> str:
    with pytest.raises(SeedSkipped) as caught:
        read_seed(path, **kwargs)
    assert caught.value.path == path
    return str(caught.value)


# --- the shared examples and the user's sample -------------------------------------------------


def example_names() -> list[str]:
    if not (EXAMPLES / "expected.json").is_file():
        return []
    return sorted(json.loads((EXAMPLES / "expected.json").read_text(encoding="utf-8")))


@needs_shared
def test_all_eight_examples_are_listed():
    assert len(example_names()) == 8


@needs_shared
@pytest.mark.parametrize("name", example_names() or ["(shared missing)"])
def test_example_reads_as_expected(name):
    expected = json.loads((EXAMPLES / "expected.json").read_text(encoding="utf-8"))[name]
    seed = read_seed(EXAMPLES / "seeds" / name, root=EXAMPLES / "seeds")
    assert as_record(seed) == expected_record(expected)
    assert seed.key == name[4:-4]
    assert seed.seq == int(name[:3])


def test_user_sample():
    path = REPO / "seeds" / "000_ff3a66dc08c7f601.txt"
    seed = read_seed(path, root=REPO / "seeds")
    assert seed.key == "ff3a66dc08c7f601"
    assert seed.seq == 0
    assert seed.category == "flash"
    assert seed.title == "Putin wants ceasefire with Ukraine along current front lines"
    assert seed.agency == "Reuters"
    assert seed.publisher == "VOA"
    assert seed.date is None
    assert len(seed.paragraphs) == 13
    assert seed.paragraphs[-1].endswith("interested in serious negotiations.")
    assert seed.paragraphs[0].startswith("Russian President Vladimir Putin is ready")
    assert seed.summary == seed.paragraphs[0]
    assert not any("Latest news" in p for p in seed.paragraphs)
    assert seed.warnings == ()


# --- bad input: one clear reason each -----------------------------------------------------------


@pytest.fixture
def seeds_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "seeds"
    folder.mkdir()
    return folder


@pytest.mark.parametrize(
    "content, reason",
    [
        (b"", "empty file"),
        (b"  \n\t\r\n   \n", "only whitespace"),
        (b"\xef\xbb\xbf\n\n", "only whitespace"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "binary data, not text"),
        (b"\x01\x02\x03\x04 text \x05\x06\x07\x08\x0e\x0f", "binary data, not text"),
        (b"World\n\nHeadline here\n\nBody with \x81 and \xff bytes.\n", "not UTF-8 or Windows-1252 text"),
        (b"Flash News\n\n\n", "header only, no headline"),
        (b"Flash News\n\nReuters: A headline with no story under it\n", "no body paragraphs"),
        (b"World\n\nHeadline\n\nLatest news\nSome link\n", "no body paragraphs"),
        (b"<!DOCTYPE html>\n<html><body><p>Story</p></body></html>\n", "looks like an HTML page, not a plain-text seed"),
        (b"\n  <html lang='en'>\n<head><title>x</title></head>\n", "looks like an HTML page, not a plain-text seed"),
    ],
)
def test_bad_content_is_skipped_with_its_reason(seeds_dir, content, reason):
    path = seeds_dir / "001_bad.txt"
    path.write_bytes(content)
    assert skip_reason(path, root=seeds_dir) == f"{path}: {reason}, skipped"


def test_five_megabyte_single_line_is_skipped_quickly(seeds_dir):
    path = seeds_dir / "002_huge.txt"
    path.write_bytes(b"Flash News\n\nHeadline\n\n" + b"word " * 1_000_000)
    message = skip_reason(path, root=seeds_dir)
    assert message == f"{path}: larger than 2 MiB, skipped"


def test_long_line_within_the_size_limit_is_skipped(seeds_dir):
    path = seeds_dir / "003_longline.txt"
    path.write_bytes(b"Flash News\n\nHeadline\n\n" + b"x" * 150_000 + b"\n\nEnd.\n")
    assert skip_reason(path, root=seeds_dir) == f"{path}: a line longer than 100,000 characters, skipped"


def test_too_large_file_is_skipped_without_parsing(seeds_dir):
    path = seeds_dir / "004_large.txt"
    paragraph = b"A sentence of ordinary news text that goes on. " * 20 + b"\n\n"
    path.write_bytes(b"World\n\nHeadline\n\n" + paragraph * (MAX_SEED_BYTES // len(paragraph) + 1))
    assert skip_reason(path, root=seeds_dir) == f"{path}: larger than 2 MiB, skipped"


def test_parse_seed_refuses_oversized_bytes_too():
    with pytest.raises(SeedSkipped, match=r"^big\.txt: larger than 2 MiB, skipped$"):
        parse_seed(b"a" * (MAX_SEED_BYTES + 1), path=Path("big.txt"))


def test_symlink_out_of_the_folder_is_skipped(tmp_path, seeds_dir):
    outside = tmp_path / "secret.txt"
    outside.write_text("World\n\nHeadline\n\n" + SAMPLE_BODY, encoding="utf-8")
    link = seeds_dir / "005_link.txt"
    link.symlink_to(outside)
    assert skip_reason(link, root=seeds_dir) == f"{link}: links outside the seeds folder, skipped"


def test_symlink_inside_the_folder_is_read(seeds_dir):
    target = seeds_dir / "real.md"
    target.write_text("World\n\nHeadline\n\n" + SAMPLE_BODY, encoding="utf-8")
    link = seeds_dir / "006_link.txt"
    link.symlink_to(target)
    assert read_seed(link, root=seeds_dir).title == "Headline"


def test_dangling_symlink_is_skipped(seeds_dir):
    link = seeds_dir / "007_dangling.txt"
    link.symlink_to(seeds_dir / "gone.txt")
    assert skip_reason(link, root=seeds_dir) == f"{link}: dangling symlink, skipped"


def test_directory_named_like_a_seed_is_skipped(seeds_dir):
    folder = seeds_dir / "008_folder.txt"
    folder.mkdir()
    assert skip_reason(folder, root=seeds_dir) == f"{folder}: not a regular file, skipped"


def test_missing_file_is_skipped(seeds_dir):
    path = seeds_dir / "009_missing.txt"
    assert skip_reason(path) == f"{path}: cannot read: no such file, skipped"


# --- decoding and cleaning ----------------------------------------------------------------------


def test_windows_1252_is_decoded_with_a_warning():
    text = "World\n\nCaf\u00e9 owners \u201cwait\u201d\n\nPrices rose \u20ac5 \u2013 again\u2026\n"
    seed = parse_seed(text.encode("cp1252"), path=Path("x.txt"))
    assert seed.title == "Caf\u00e9 owners \u201cwait\u201d"
    assert seed.paragraphs == ("Prices rose \u20ac5 \u2013 again\u2026",)
    assert seed.warnings == ("not UTF-8, read as Windows-1252",)


def test_utf8_has_no_warning():
    assert parse_text("World\n\nCaf\u00e9\n\nBody \u2013 text.\n").warnings == ()


def test_crlf_and_bom_and_lone_cr():
    text = "Breaking News\r\n\r\nAP: Storm hits\r\n\r\nLine one\r\nline two.\r\n\r\nLast./BBC\r\n"
    crlf = parse_seed(b"\xef\xbb\xbf" + text.encode("utf-8"), path=Path("x.txt"))
    lone_cr = parse_seed(text.replace("\r\n", "\r").encode("utf-8"), path=Path("x.txt"))
    for seed in (crlf, lone_cr):
        assert seed.category == "breaking"
        assert seed.title == "Storm hits"
        assert seed.agency == "AP"
        assert seed.publisher == "BBC"
        assert seed.paragraphs == ("Line one line two.", "Last.")


def test_xml_illegal_characters_become_spaces():
    text = "World\n\nTitle\x0bwith\ufffftab\n\nA \x1bword and\x7f\x85 C1\x00.\n"
    seed = parse_seed(text.encode("utf-8").replace(b"\x00", b"\x01"), path=Path("x.txt"))
    assert seed.title == "Title with tab"
    assert seed.paragraphs == ("A word and C1 .",)
    assert "removed characters that XML does not allow" in seed.warnings


def test_markup_stays_literal_text():
    seed = parse_text("World\n\n<b>Bold</b> & \"quoted\" title\n\nBody <i>x</i> & y.\n")
    assert seed.title == "<b>Bold</b> & \"quoted\" title"
    assert seed.paragraphs == ("Body <i>x</i> & y.",)


# --- structure, credits and chrome --------------------------------------------------------------


@pytest.mark.parametrize(
    "headline, title, agency",
    [
        ("Analysis: why talks stall", "Analysis: why talks stall", None),
        ("Kenya: floods close the main highway", "Kenya: floods close the main highway", None),
        ("Reuters: Analysis: Why talks stall", "Analysis: Why talks stall", "Reuters"),
        ("reuters: lower-case credit", "lower-case credit", "reuters"),
        ("Agence France-Presse: Paris   wakes  up", "Paris wakes up", "Agence France-Presse"),
        ("AP: Weather: cold snap", "Weather: cold snap", "AP"),
    ],
)
def test_agency_prefix_only_for_known_agencies(headline, title, agency):
    seed = parse_text(f"World\n\n{headline}\n\n{SAMPLE_BODY}")
    assert (seed.title, seed.agency) == (title, agency)


def test_agency_list_can_be_extended():
    seed = parse_text(f"World\n\nKenya: floods\n\n{SAMPLE_BODY}", agencies=KNOWN_AGENCIES + ("Kenya",))
    assert (seed.title, seed.agency) == ("floods", "Kenya")


def test_known_agency_list_holds_the_main_organisations():
    for name in ("Reuters", "AP", "AFP", "Xinhua", "Agence France-Presse", "Associated Press",
                 "Bloomberg", "UPI", "dpa", "ANSA", "EFE", "Kyodo", "Yonhap", "TASS", "PTI"):
        assert name in KNOWN_AGENCIES


def test_headline_copies_with_or_without_prefix_are_dropped():
    text = ("Flash News\n\nReuters: Big news today\n\nBig news today\n\n"
            "REUTERS: Big news today\n\nThe body.\n")
    seed = parse_text(text)
    assert seed.paragraphs == ("The body.",)
    assert seed.title == "Big news today"


def test_short_headline_without_header_is_not_taken_for_a_header():
    seed = parse_text("Markets rally\n\nMarkets rally\n\nStocks rose.\n\nMore.\n")
    assert (seed.category, seed.title, seed.paragraphs) == (None, "Markets rally", ("Stocks rose.", "More."))


@pytest.mark.parametrize(
    "text, category, title, paragraphs",
    [
        # No header: a short headline over a short lead sentence.
        ("Earthquake hits Japan\n\nA strong quake struck northern Japan on Tuesday.\n\nNo tsunami warning.\n",
         None, "Earthquake hits Japan", ("A strong quake struck northern Japan on Tuesday.", "No tsunami warning.")),
        ("Markets tumble\n\nStocks fell sharply on Monday.\n\nInvestors fled.\n",
         None, "Markets tumble", ("Stocks fell sharply on Monday.", "Investors fled.")),
        # A header over a headline that ends like a sentence: short, or an abbreviation, or marked by
        # the date line or the copy under it however long it is.
        ("Business\n\nTalks stall, says U.S.\n\nNegotiators left.\n", "business", "Talks stall, says U.S.", ("Negotiators left.",)),
        ("Business\n\nTrade talks stall again as China hits back at sweeping new tariffs imposed by the U.S. and E.U.\n\n"
         "Date: 2025-02-04 11:00 UTC\n\nNegotiators left Geneva without a deal.\n",
         "business", "Trade talks stall again as China hits back at sweeping new tariffs imposed by the U.S. and E.U.",
         ("Negotiators left Geneva without a deal.",)),
        (f"Flash News\n\nReuters: {'Long ' * 70}headline.\n\nReuters: {'Long ' * 70}headline.\n\nThe body.\n",
         "flash", f"{'Long ' * 70}headline.", ("The body.",)),
        # Under a known section name a headline may end like a sentence, marked or not.
        ("World\n\nCeasefire holds in Gaza as talks resume.\n\nBody sentence one here.\n\nMore body.\n",
         "world", "Ceasefire holds in Gaza as talks resume.", ("Body sentence one here.", "More body.")),
        ("Business\n\nApple agrees to pay $500 mln to settle a long-running suit over batteries in the courts.\n\nThe body.\n",
         "business", "Apple agrees to pay $500 mln to settle a long-running suit over batteries in the courts.", ("The body.",)),
        ("Markets\n\nDow closes at record high.\n\nNEW YORK, May 6 (Reuters) - Stocks rose.\n",
         "markets", "Dow closes at record high.", ("NEW YORK, May 6 (Reuters) - Stocks rose.",)),
        # The copy below marks a headline with or without its agency prefix.
        ("Trade\n\nReuters: Talks collapse as rebels walk out.\n\nTalks collapse as rebels walk out.\n\nBody.\n\nMore.\n",
         "trade", "Talks collapse as rebels walk out.", ("Body.", "More.")),
    ],
)
def test_header_or_headline_when_the_block_below_reads_like_a_sentence(text, category, title, paragraphs):
    seed = parse_text(text)
    assert (seed.category, seed.title, seed.paragraphs) == (category, title, paragraphs)
    facts = skim_seed(text.encode("utf-8"), path="001_abc.txt")
    assert (facts.category, facts.date) == (seed.category, seed.date)


def test_hard_wrapped_chinese_and_japanese_lines_join_without_a_space():
    text = ("World\n\n東京で大規模な地震が発生し、\n交通機関が停止した\n\n輸出の増加を受けて\n今年の売上は過去最高を\n記録した。\n\n"
            "中国的出口在2024年\n5月继续增长。\n\n한국 수출이\n증가했다.\n")
    seed = parse_text(text)
    assert seed.title == "東京で大規模な地震が発生し、交通機関が停止した"
    assert seed.paragraphs == ("輸出の増加を受けて今年の売上は過去最高を記録した。", "中国的出口在2024年5月继续增长。", "한국 수출이 증가했다.")


def test_long_first_line_is_a_headline_not_a_header():
    seed = parse_text("Putin wants ceasefire now\n\nBody one.\n\nBody two.\n")
    assert seed.category is None
    assert seed.title == "Putin wants ceasefire now"


def test_fifty_fifty_is_not_a_publisher_credit():
    seed = parse_text("World\n\nOdds even\n\nExperts put the chances at 50/50.\n")
    assert seed.publisher is None
    assert seed.paragraphs == ("Experts put the chances at 50/50.",)


@pytest.mark.parametrize(
    "ending, publisher, last",
    [
        ("talks./VOA", "VOA", "talks."),
        ("talks. /BBC", "BBC", "talks."),
        ('"Years, not months."/VOA', "VOA", '"Years, not months."'),
        ("the AC/DC", None, "the AC/DC"),
        ("talks./Voa", None, "talks./Voa"),
    ],
)
def test_publisher_credit(ending, publisher, last):
    seed = parse_text(f"World\n\nHeadline\n\nFirst.\n\nSaid {ending}\n")
    assert seed.publisher == publisher
    assert seed.paragraphs[-1] == f"Said {last}"


def test_chrome_and_everything_after_it_is_dropped():
    text = ("World\n\nHeadline\n\nBody one.\n\nBody two./AFP\n\n\nRelated articles\n"
            "Link one\n\nLink two\n\nShare this:\n")
    seed = parse_text(text)
    assert seed.paragraphs == ("Body one.", "Body two.")
    assert seed.publisher == "AFP"


def test_chrome_words_inside_a_sentence_are_body():
    text = ("World\n\nHeadline\n\nRead more about it in the Latest news section.\n\n"
            "Share this: the final paragraph.\n")
    seed = parse_text(text)
    assert seed.paragraphs == ("Read more about it in the Latest news section.",
                               "Share this: the final paragraph.")


def test_hard_wrapped_lines_are_joined():
    seed = parse_text("World\n\nHeadline\n\nOne line\n  wrapped here\nand here.\n")
    assert seed.paragraphs == ("One line wrapped here and here.",)


def test_lone_publisher_block_is_a_credit():
    seed = parse_text("World\n\nHeadline\n\nBody text.\n\n/VOA\n")
    assert (seed.publisher, seed.paragraphs) == ("VOA", ("Body text.",))


# --- dates --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "line, expected",
    [
        ("Date: 2024-05-24 10:15 UTC", datetime(2024, 5, 24, 10, 15, tzinfo=UTC)),
        ("Date: 2024-10-07T09:00:00+09:00",
         datetime(2024, 10, 7, 9, 0, tzinfo=timezone(timedelta(hours=9)))),
        ("Date: Fri, 24 May 2024 13:15:00 +0300",
         datetime(2024, 5, 24, 13, 15, tzinfo=timezone(timedelta(hours=3)))),
        ("Published 19/06/2024 16:05", datetime(2024, 6, 19, 16, 5, tzinfo=UTC)),
        ("Published 05/06/2024 16:05", datetime(2024, 6, 5, 16, 5, tzinfo=UTC)),
        ("March 9, 2025", datetime(2025, 3, 9, tzinfo=UTC)),
        ("2024-10-07", datetime(2024, 10, 7, tzinfo=UTC)),
        ("Posted on March 9, 2025", datetime(2025, 3, 9, tzinfo=UTC)),
        # "GMT+3" is three hours ahead of GMT (dateutil alone reads it the POSIX way, behind)
        ("Date: March 9, 2025 10:00 GMT+3", datetime(2025, 3, 9, 10, 0, tzinfo=timezone(timedelta(hours=3)))),
        ("Published 09/03/2025 10:00 UTC-5", datetime(2025, 3, 9, 10, 0, tzinfo=timezone(timedelta(hours=-5)))),
        ("Date: March 9, 2025 10:00gmt+3", datetime(2025, 3, 9, 10, 0, tzinfo=timezone(timedelta(hours=3)))),
        # US zones without saying whether daylight saving is on: the date says it (the system's tz database)
        ("Published May 24, 2024 9:30 a.m. ET", datetime(2024, 5, 24, 9, 30, tzinfo=timezone(timedelta(hours=-4)))),
        ("Published January 24, 2024 9:30 a.m. ET", datetime(2024, 1, 24, 9, 30, tzinfo=timezone(timedelta(hours=-5)))),
        ("Date: March 9, 2025 10:00 PT", datetime(2025, 3, 9, 10, 0, tzinfo=timezone(timedelta(hours=-7)))),
        ("Date: 9 March 2025 10:00 GMT+05:30", datetime(2025, 3, 9, 10, 0, tzinfo=timezone(timedelta(hours=5, minutes=30)))),
        # an offset with seconds cannot be written in a feed: the same instant in UTC
        ("Date: 2025-03-09T10:00:00+05:30:15", datetime(2025, 3, 9, 4, 29, 45, tzinfo=UTC)),
    ],
)
def test_date_lines(line, expected):
    seed = parse_text(f"World\n\nHeadline\n\n{line}\n\nBody.\n")
    assert seed.date == expected
    assert seed.date.utcoffset() == expected.utcoffset()
    assert seed.paragraphs == ("Body.",)


def test_date_line_directly_under_the_headline():
    seed = parse_text("World\n\nAP: Headline\nDate: 2024-05-24 10:15 UTC\n\nBody.\n")
    assert seed.title == "Headline"
    assert seed.date == datetime(2024, 5, 24, 10, 15, tzinfo=UTC)
    assert seed.paragraphs == ("Body.",)


@pytest.mark.parametrize(
    "first",
    [
        "Published figures showed on Monday that 12 banks made record profits.",
        "Posted prices for 2025 rose by a third.",
        "Date growers in Egypt expect a 2025 harvest",
        "Dates from 2024 were sold out.",
        "Dated\nwrapped lines from 1999 still read as one paragraph.",
    ],
)
def test_a_sentence_that_starts_like_a_date_label_stays_in_the_body(first):
    seed = parse_text(f"World\n\nHeadline\n\n{first}\n\nThe regulator said more.\n")
    assert seed.date is None and not seed.warnings
    assert seed.paragraphs == (" ".join(first.split()), "The regulator said more.")


def test_incomplete_date_line_is_no_date():
    seed = parse_text("World\n\nHeadline\n\nDate: May 2025\n\nBody.\n")
    assert seed.date is None
    assert seed.paragraphs == ("Body.",)


def test_dateline_with_year_dates_the_document_and_stays_in_the_text():
    first = "GENEVA, March 3, 2025 (AFP) - Talks resumed."
    seed = parse_text(f"World\n\nHeadline\n\n{first}\n\nMore.\n")
    assert seed.date == datetime(2025, 3, 3, tzinfo=UTC)
    assert seed.agency == "AFP"
    assert seed.paragraphs[0] == first


def test_dateline_without_year_gives_agency_but_no_date():
    seed = parse_text("Headline\n\nLIMA, Aug 14 (Reuters) - Copper moved.\n\nMore.\n")
    assert (seed.agency, seed.date) == ("Reuters", None)


def test_dateline_with_unknown_organisation_is_no_agency():
    seed = parse_text("Headline\n\nLIMA, Aug 14 (Daily Bugle) - Copper moved.\n")
    assert seed.agency is None


def test_dates_in_the_body_are_not_the_date():
    text = ("World\n\nHeadline\n\nThe law passed on March 9, 2025 after a vote.\n\n"
            "Date: 2024-05-24 10:15 UTC\n\nMarch 9, 2025\n")
    seed = parse_text(text)
    assert seed.date is None
    assert len(seed.paragraphs) == 3


# --- names and summary --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, key",
    [
        ("017_ab12.txt", ("ab12", 17)),
        ("000_ff3a66dc08c7f601.txt", ("ff3a66dc08c7f601", 0)),
        ("notes.md", ("notes", None)),
        ("2024_report_final.txt", ("report_final", 2024)),
        ("_x.txt", ("_x", None)),
    ],
)
def test_seed_key(name, key):
    assert seed_key(name) == key


def test_seed_suffixes():
    assert SEED_SUFFIXES == (".txt", ".md")


def test_summary_is_cut_at_a_word_boundary():
    paragraph = " ".join(f"word{i}" for i in range(200))
    summary = summarize(paragraph)
    assert summary.endswith("…")
    assert len(summary) <= 301
    assert paragraph.startswith(summary[:-1])
    assert paragraph[len(summary) - 1] == " "


def test_summary_of_text_without_spaces_is_cut_at_a_character():
    paragraph = "京都" * 400
    assert summarize(paragraph) == paragraph[:300] + "…"


def test_short_summary_is_the_whole_paragraph():
    assert parse_text(f"World\n\nHeadline\n\n{SAMPLE_BODY}").summary == (
        "First paragraph of the story, with enough words to read.")


# --- properties ---------------------------------------------------------------------------------


def assert_plain_xml_text(seed: Seed) -> None:
    strings = [seed.key, seed.category, seed.title, seed.agency, seed.publisher, seed.summary,
               *seed.paragraphs, *seed.warnings]
    for value in strings:
        if value is not None:
            assert not XML_ILLEGAL.search(value), repr(value)
    assert seed.title.strip()
    assert all(p.strip() for p in seed.paragraphs)


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=2000))
def test_any_bytes_give_a_seed_or_a_skip(data):
    try:
        seed = parse_seed(data, path=Path("001_prop.txt"))
    except SeedSkipped as skipped:
        assert str(skipped).startswith("001_prop.txt: ")
        return
    assert_plain_xml_text(seed)


seed_lines = st.one_of(
    st.text(max_size=60),
    st.sampled_from(["", "", "Flash News", "Reuters: Title", "Latest news", "Date: 2024-05-24 10:15 UTC",
                     "Published 19/06/2024 16:05", "March 9, 2025", "Body./VOA", "/BBC",
                     "LIMA, Aug 14 (Reuters) - x", "GENEVA, March 3, 2025 (AFP) - y", "\x1b\ufffe\x85",
                     "Date: 99999999999999999999", "Date: 31/02/2024", "Date: 10:00 +9999", "\r", "\u2028"]),
)


@settings(max_examples=400, deadline=None)
@given(st.lists(seed_lines, max_size=14), st.sampled_from(["utf-8", "utf-16-le", "cp1252"]))
def test_seed_shaped_text_gives_a_seed_or_a_skip(lines, encoding):
    data = "\n".join(lines).encode(encoding, errors="replace")
    try:
        seed = parse_seed(data, path=Path("x.txt"))
    except SeedSkipped:
        return
    assert_plain_xml_text(seed)
    if seed.date is not None:
        assert seed.date.utcoffset() is not None


# --- scale: the bench generator's documents -----------------------------------------------------


@pytest.mark.skipif(not MAKE_SEEDS.is_file(), reason=f"{MAKE_SEEDS} not found (shared/ missing)")
def test_generated_seeds_match_their_manifest(tmp_path):
    folder, manifest_path = tmp_path / "seeds", tmp_path / "manifest.json"
    subprocess.run(
        [sys.executable, os.fspath(MAKE_SEEDS), os.fspath(folder), "--count", "300", "--seed", "7",
         "--jobs", "1", "--quiet", "--manifest", os.fspath(manifest_path)],
        check=True,
    )
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    assert len(manifest) == 300
    got = {name: as_record(read_seed(folder / name, root=folder)) for name in manifest}
    mismatches = {name: got[name] for name in manifest if got[name] != expected_record(manifest[name])}
    assert mismatches == {}


# --- messy scrapes (found by a review of the reader) ------------------------------------------------

BODY_TWO = "A strong earthquake struck the coast on Tuesday, officials said.\n\nNo damage was reported./VOA\n"
PARAGRAPHS_TWO = ("A strong earthquake struck the coast on Tuesday, officials said.", "No damage was reported.")


@pytest.mark.parametrize(
    "text, category, title, agency, publisher",
    [
        # invisible characters hide nothing: a zero-width space after the header, a second BOM, a
        # line of zero-width spaces between blocks, zero-width spaces after the credit and the chrome
        ("Flash News\u200b\n\nReuters: Quake hits coast\n\n" + BODY_TWO, "flash", "Quake hits coast", "Reuters", "VOA"),
        ("\ufeff\ufeffFlash News\n\nReuters: Quake hits coast\n\n" + BODY_TWO, "flash", "Quake hits coast", "Reuters", "VOA"),
        ("World\n\u200b\nReuters: Quake hits coast\n\u200b\n" + BODY_TWO, "world", "Quake hits coast", "Reuters", "VOA"),
        ("World\n\nReuters: Quake hits coast\n\n" + BODY_TWO.replace("VOA\n", "VOA\u200b\n\nRead more\u200b\n\nOther story\n"),
         "world", "Quake hits coast", "Reuters", "VOA"),
        # a share bar under the headline is not the end of the article
        ("World\n\nReuters: Quake hits coast\n\nShare this:\n\n" + BODY_TWO, "world", "Quake hits coast", "Reuters", "VOA"),
        # chrome lines however they end: "Share this", "Read more »", "Related articles:"
        ("World\n\nReuters: Quake hits coast\n\n" + BODY_TWO + "\nShare this\n\nFacebook\n\nTwitter\n",
         "world", "Quake hits coast", "Reuters", "VOA"),
        ("World\n\nReuters: Quake hits coast\n\n" + BODY_TWO + "\nRead more \u00bb\n\nOther story\n",
         "world", "Quake hits coast", "Reuters", "VOA"),
        ("World\n\nReuters: Quake hits coast\n\n" + BODY_TWO + "\nRelated articles:\nOne\nTwo\n",
         "world", "Quake hits coast", "Reuters", "VOA"),
        # a date line under a short first block: that block is the headline, not a section header
        ("Quake hits coast\n\nDate: 2024-05-24 10:15 UTC\n\n" + BODY_TWO, None, "Quake hits coast", None, "VOA"),
    ],
)
def test_messy_scrapes_read_as_the_article(text, category, title, agency, publisher):
    seed = parse_text(text)
    assert (seed.category, seed.title, seed.agency, seed.publisher) == (category, title, agency, publisher)
    assert seed.paragraphs == PARAGRAPHS_TWO
    facts = skim_seed(text.encode("utf-8"), path="001_abc.txt")
    assert (facts.category, facts.date, facts.warnings) == (seed.category, seed.date, seed.warnings)


def test_a_long_first_paragraph_ending_in_a_quote_is_no_headline():
    first = ('Pope Francis, the first Latin American pontiff, died on Monday at the age of 88, the '
             'Vatican said: "He returned to the house of the Father."')
    seed = parse_text(f"Pope Francis dies\n\n{first}\n\nMourners gathered in St Peter's Square.\n")
    assert (seed.category, seed.title, seed.paragraphs[0]) == (None, "Pope Francis dies", first)


@pytest.mark.parametrize(
    "line, expected",
    [
        ("Published 24/05/2024 09:30 | Updated 24/05/2024 11:00", datetime(2024, 5, 24, 9, 30, tzinfo=UTC)),
        ("May 24, 2024 | 9:30 AM", datetime(2024, 5, 24, 9, 30, tzinfo=UTC)),
        ("Published 09:30, 03/04/2025", datetime(2025, 4, 3, 9, 30, tzinfo=UTC)),  # day first wherever it stands
        ("Published Thu 03/04/2025 09:30", datetime(2025, 4, 3, 9, 30, tzinfo=UTC)),
        ("Date: Friday, March 2025", None),  # no day: not one made up from the weekday
        ("Date: 2024/05/06 10:00", datetime(2024, 5, 6, 10, 0, tzinfo=UTC)),  # year first: never year-day-month
        ("Published 2024.05.06", datetime(2024, 5, 6, tzinfo=UTC)),
    ],
)
def test_messy_date_lines(line, expected):
    seed = parse_text(f"World\n\nReuters: Quake hits coast\n\n{line}\n\n{BODY_TWO}")
    assert (seed.date, seed.paragraphs) == (expected, PARAGRAPHS_TWO)


@pytest.mark.parametrize(
    "credit, agency",
    [("(Reuters, AFP, AP)", "Reuters, AFP, AP"), ("(AFP and AP)", "AFP, AP"), ("(Reuters/Staff)", "Reuters"), ("(Staff)", None)],
)
def test_a_dateline_crediting_several_agencies_credits_the_known_ones(credit, agency):
    seed = parse_text(f"World\n\nStorm hits\n\nGENEVA, March 3, 2025 {credit} - A storm hit on Monday.\n\nMore.\n")
    assert (seed.agency, seed.date) == (agency, datetime(2025, 3, 3, tzinfo=UTC))


@pytest.mark.parametrize("dateline", ["KYIV, Ukraine, March 3, 2025 (AP) \u2014", "SPRINGFIELD, Ill., March 3, 2025 (AP) -"])
def test_a_dateline_naming_the_state_or_country_before_the_date_dates_the_document(dateline):
    seed = parse_text(f"World\n\nStorm hits\n\n{dateline} A storm hit on Monday.\n\nMore.\n")
    assert (seed.agency, seed.date) == ("AP", datetime(2025, 3, 3, tzinfo=UTC))
