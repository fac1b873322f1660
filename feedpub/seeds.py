"""The seed reader: one plain-text seed file -> one `Seed`, or `SeedSkipped` with a short reason.

A seed is a scraped news article (see shared/SEED_FORMAT.md):

    Flash News                          section header -> category "flash"
    Reuters: Putin wants ceasefire ...  headline; a known agency prefix is the agency credit
    Reuters: Putin wants ceasefire ...  0-2 repeats of the headline: scrape debris
    Date: 2024-05-24 10:15 UTC          optional date line
    Body paragraphs ...                 blank-line separated, maybe hard-wrapped
    ... serious negotiations./VOA       "/NAME" on the last paragraph: the publisher credit
    Latest news                         site chrome: dropped with everything after it

Scraped text is messy, so the reader is forgiving about layout but strict about what it lets
through: every string it returns is plain text that XML 1.0 can carry. Any file content either
becomes a Seed or raises SeedSkipped; nothing else escapes.
"""

from __future__ import annotations

import errno
import hashlib
import itertools
import os
import re
import stat
import warnings
from collections.abc import Iterable
from datetime import datetime, timedelta, timezone, tzinfo
from functools import lru_cache
from pathlib import Path

from feedpub.model import Seed, SeedFacts, SeedSkipped

# The one list of news organisations whose name, as a headline prefix ("Reuters: ...") or in a
# dateline ("LIMA (Reuters) -"), is an agency credit. Anything else before a colon ("Analysis:",
# "Kenya:") is part of the title. Very short ambiguous names (PA, CP, AA) are left out on purpose:
# "PA: ..." is more often Pennsylvania than PA Media. Configuration can extend the list.
KNOWN_AGENCIES: tuple[str, ...] = (
    "Reuters", "Thomson Reuters",
    "AP", "Associated Press", "The Associated Press",
    "AFP", "Agence France-Presse", "Agence France Presse",
    "Xinhua", "Xinhua News Agency",
    "Bloomberg", "Dow Jones",
    "UPI", "United Press International",
    "dpa", "Deutsche Presse-Agentur",
    "ANSA", "EFE", "Europa Press", "Lusa",
    "Kyodo", "Kyodo News", "Jiji", "Jiji Press",
    "Yonhap", "TASS", "RIA Novosti", "Interfax",
    "PTI", "Press Trust of India", "IANS", "ANI",
    "AAP", "Australian Associated Press", "The Canadian Press", "PA Media",
    "ANP", "APA", "Belga", "Anadolu", "Anadolu Agency", "Bernama", "Antara",
    "IRNA", "MENA", "WAFA", "KUNA",
    "NTB", "Ritzau", "PAP", "MTI", "Agerpres", "BTA", "HINA", "Tanjug", "Keystone-SDA",
)

MAX_SEED_BYTES: int = 2 * 1024 * 1024
MAX_LINE_CHARS: int = 100_000
SEED_SUFFIXES = (".txt", ".md")
# ...in any case (`NOTES.TXT` from a Windows tool is a seed too), all lower case first: most
# names match at the first try.
ANY_CASE_SUFFIXES = tuple(
    "".join(chars)
    for suffix in SEED_SUFFIXES
    for chars in itertools.product(*((c, c.upper()) if c.isalpha() else (c,) for c in suffix))
)
SUMMARY_CHARS = 300
SKIM_CHARS = 2000  # how much of a seed the scan looks at (see skim_seed); the rest is only hashed

# --- reasons (short phrases; SeedSkipped formats "<path>: <reason>, skipped") -----------------
TOO_LARGE = "larger than 2 MiB"
EMPTY = "empty file"
ONLY_WHITESPACE = "only whitespace"
BINARY = "binary data, not text"
UTF16 = "UTF-16 or UTF-32 text (a byte order mark says so); save it as UTF-8"
UNDECODABLE = "not UTF-8 or Windows-1252 text"
HTML_PAGE = "looks like an HTML page, not a plain-text seed"
LONG_LINE = f"a line longer than {MAX_LINE_CHARS:,} characters"
HEADER_ONLY = "header only, no headline"
NO_BODY = "no body paragraphs"
OUTSIDE_ROOT = "links outside the seeds folder"
DANGLING = "dangling symlink"
NOT_A_FILE = "not a regular file"
CANNOT_READ = "cannot read"  # the start of every reason a file could not be read for
PERMISSION_DENIED = f"{CANNOT_READ}: permission denied"  # EACCES or EPERM: a chmod away
CP1252_WARNING = "not UTF-8, read as Windows-1252"

# --- module-level patterns: compiled once, each applied to a whole text or one short line -----
# XML 1.0 forbids C0 controls except tab/LF/CR, surrogates and U+FFFE/U+FFFF; DEL and the C1
# controls are legal but never meant in news text (they are mis-decoded bytes), so they go too.
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]+")
# Control bytes a text file does not contain; a lot of them means the file is not text at all.
_CONTROL_BYTES = bytes(range(0, 9)) + b"\x0b" + bytes(range(0x0E, 0x20)) + b"\x7f"
_BINARY_SHARE = 0.10
_INVISIBLE = re.compile("[\u200b\u2060\ufeff]+")
_UTF8_BOM = b"\xef\xbb\xbf"
_HTML_START = re.compile(r"\s*<(?:!doctype\s+html|html|head|body)\b", re.IGNORECASE)
_SEQ_KEY = re.compile(r"(\d+)_(.+)")
_AGENCY_PREFIX = re.compile(r"([^:]{1,40}?)\s*:\s+(?=\S)")
_CHROME_LINES = frozenset({"latest news", "read more", "related articles", "share this"})
_CHROME_TRAIL = " \t:»›>→…"  # "Share this:", "Read more »", "Related articles:" are the same lines
_CLOSING = "\"'”’»)]"  # what may follow a sentence's full stop
# Han, kana and CJK punctuation (fullwidth forms too) on both sides of a line break. Not Hangul:
# Korean puts spaces between words.
_CJK = "\u3000-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef"
_CJK_LINE_BREAK = re.compile(f"(?<=[{_CJK}])[ \\t]*\\n[ \\t]*(?=[{_CJK}0-9])|(?<=[0-9])[ \\t]*\\n[ \\t]*(?=[{_CJK}])")
# Section names a first block may be without " News" (which marks any name as one), casefolded.
_SECTIONS = frozenset({
    "africa", "americas", "arts", "asia", "breaking", "business", "climate", "culture", "economy",
    "education", "energy", "entertainment", "environment", "europe", "finance", "flash", "health",
    "international", "latest", "lifestyle", "local", "markets", "media", "middle east", "money",
    "national", "opinion", "politics", "science", "sport", "sports", "tech", "technology",
    "top stories", "travel", "weather", "world",
})
_CREDIT_SEPARATORS = re.compile(r"\s*(?:,|/|\band\b|&)\s*")
_ABBREVIATION_END = re.compile(r"(?:\b(?:[A-Z]\.){2,}|\b(?:Inc|Jr|Sr|Co|Corp|Ltd|St)\.)$")
_LONGEST_CHROME_LINE = 40  # a longer single-line block cannot be a chrome line
_HEADER_FORBIDDEN = re.compile(r"[:.!?;,\"“”«»()\[\]/|]")
# "/VOA" after the last sentence's punctuation (glued or after one space): not "50/50." or "AC/DC".
_PUBLISHER_CREDIT = re.compile(r"(?<=[.!?…\"'”’»)\]]) ?/([A-Z]{2,6})$")
_LONE_CREDIT = re.compile(r"/([A-Z]{2,6})")
# A label, then the date: after a colon whatever follows is meant as a date; without one
# ("Published 24/05/2024", "Posted on March 9") only a date makes the line a date line.
_LABELLED_DATE = re.compile(r"(?:dated|date|published|posted)\b(?:\s+on\b)?\s*(:?)\s*(\S.*)", re.IGNORECASE)
_BARE_DATE = re.compile(r"[\w ,.:/+\-]{6,60}")
_HAS_YEAR = re.compile(r"(?<!\d)(?:1[89]|2\d)\d\d(?!\d)")
_DAY_FIRST_NUMERIC = re.compile(r"(?<!\d)\d{1,2}[/.]\d{1,2}[/.]\d{2,4}\b")  # not year first: 2024/05/06
_UTC_SUFFIX = re.compile(r"\s*(?:UTC|GMT|Z)$")
# "GMT+3" means three hours ahead of GMT, but dateutil reads it the POSIX way (three behind).
_GMT_OFFSET = re.compile(r"(?<![A-Za-z])(?:GMT|UTC)\s*([+-])(\d{1,2})(?::?(\d\d))?\b", re.IGNORECASE)
# A weekday says nothing a complete date does not, and dateutil would move "Friday, March 2025"
# to a Friday of its choosing: the date would look complete.
_WEEKDAY = re.compile(r"\b(?:mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun)(?:day|nesday|sday|urday)?\b\.?,?", re.IGNORECASE)
# "LIMA, Aug 14 (Reuters) - ", "GENEVA, March 3, 2025 (AFP) -", "NEW YORK (AP) -"
_DATELINE = re.compile(
    r"(?P<place>[^\W\d_][^,()\n]{0,40}?)(?:,\s*(?P<when>[^()\n]{3,30}?))?\s*"
    r"(?:\((?P<agency>[^()\n]{2,40})\))?\s*[-–—]{1,2}\s"
)

# Zone abbreviations dateutil does not know by itself; unknown names count as "no zone" (UTC)
# rather than the machine's local zone, so a build never depends on where it runs.
_ZONE_HOURS = {
    "EST": -5, "EDT": -4, "CST": -6, "CDT": -5, "MST": -7, "MDT": -6, "PST": -8, "PDT": -7,
    "BST": 1, "CET": 1, "CEST": 2, "EET": 2, "EEST": 3, "MSK": 3, "JST": 9, "KST": 9,
    "HKT": 8, "SGT": 8, "AEST": 10, "AEDT": 11,
}
# "9:30 a.m. ET": US news states the zone without saying whether daylight saving is on; the
# date says it.
_US_ZONES = {"ET": "America/New_York", "CT": "America/Chicago", "MT": "America/Denver", "PT": "America/Los_Angeles"}
# Two different fallbacks: a field the text does not state comes out different in the two
# parses, which is how an incomplete date ("Aug 14", "May 2025") is recognised.
_DEFAULT_A = datetime(2000, 1, 1)
_DEFAULT_B = datetime(2004, 2, 2)

# O_NONBLOCK: a FIFO dropped into seeds/ must not hang the build; it fails the S_ISREG test.
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)  # 0 where the system has none (Windows)


def seed_key(name: str) -> tuple[str, int | None]:
    """The key and sequence number a file name carries.

    "017_ab12.txt" -> ("ab12", 17); "notes.md" -> ("notes", None).
    """
    stem = name
    for suffix in SEED_SUFFIXES:
        if name.lower().endswith(suffix):
            stem = name[: -len(suffix)]
            break
    match = _SEQ_KEY.fullmatch(stem)
    if match:
        return match.group(2), int(match.group(1))
    return stem, None


def read_seed(
    path: Path, *, root: Path | None = None, agencies: Iterable[str] = KNOWN_AGENCIES
) -> Seed:
    """Read one seed file into a Seed.

    `root` is the seeds folder: a file or link that resolves outside it is skipped. At most
    MAX_SEED_BYTES + 1 bytes are read. Raises SeedSkipped(path, reason) for any file that cannot
    become an entry (unreadable, outside root, empty, binary, ...); never anything else.
    """
    path = _as_path(path)
    if root is not None:
        _require_inside(path, root)
    data, _ = _read_file(path, MAX_SEED_BYTES + 1)
    return parse_seed(data, path=path, agencies=agencies)


def parse_seed(data: bytes, *, path: Path, agencies: Iterable[str] = KNOWN_AGENCIES) -> Seed:
    """Turn the bytes of a seed file into a Seed (the pure part of read_seed).

    Raises SeedSkipped(path, reason) for any input that is not a usable seed, never any other
    exception, whatever the bytes.
    """
    path = _as_path(path)
    notes: list[str] = []
    text = _text(data, path, notes)
    return _parse_text(text, path, _agency_names(tuple(agencies)), notes)


def read_seed_bytes(path: str, *, root: str) -> tuple[bytes, os.stat_result]:
    """A seed file's bytes and the fstat of the file read: the scan's first half, `skim_seed`
    the second. SeedSkipped, with read_seed's reasons, for what is skipped before parsing (a
    link out of the folder, not a regular file, too large, unreadable)."""
    return _read_inside(path, root, MAX_SEED_BYTES + 1)


def read_seed_at(folder: int, name: str) -> tuple[bytes, os.stat_result] | None:
    """`read_seed_bytes` the short way, for a plain regular file directly in the folder open as
    `folder`: one open relative to it (refusing a symlink), one fstat, one read. None for
    anything else (a link, not a regular file, too large, an error, a file that changed size
    while read): `read_seed_bytes` then decides, and words the reason. Needs READ_AT."""
    try:
        fd = os.open(name, _OPEN_FLAGS | _NOFOLLOW, dir_fd=folder)
    except (OSError, ValueError):
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_SEED_BYTES:
            return None
        data = os.read(fd, info.st_size + 1)
    except OSError:
        return None
    finally:
        os.close(fd)
    return (data, info) if len(data) == info.st_size else None


# Where the system can open a name relative to a folder without following a symlink.
READ_AT = bool(_NOFOLLOW) and os.open in os.supports_dir_fd


def skim_seed(data: bytes, *, path: Path | str, agencies: Iterable[str] = KNOWN_AGENCIES) -> SeedFacts:
    """The facts parse_seed would find that decide where a seed goes (key, category, date, skip
    reason, warnings) and its fingerprint, without reading the whole body.

    The header, headline area and first paragraphs settle all of them; the rest of the text is
    only decoded and hashed. A seed whose leading blocks do not settle them is parsed in full.
    Raises SeedSkipped exactly when parse_seed does, with the same reason.
    """
    notes: list[str] = []
    text = _text(data, path, notes)
    known = _agency_names(tuple(agencies))
    key, seq = seed_key(os.path.basename(path))
    skimmed = _skim_text(text, path, known, list(notes))
    if skimmed is None:
        seed = _parse_text(text, path, known, notes)
        return SeedFacts(key, seq, seed.category, seed.date, seed.fingerprint, seed.warnings)
    category, date, skim_notes = skimmed
    return SeedFacts(key, seq, category, date, text_fingerprint(text), tuple(skim_notes))


def text_fingerprint(text: str) -> str:
    """A digest of a seed's text as read (decoded, LF line ends, XML-illegal characters gone, spaces
    and tabs at line ends and blank space around it trimmed): a file saved again unchanged, in
    another encoding, with other line ends or by an editor that trims lines keeps its
    fingerprint; any change to what it says moves it."""
    # A two-character search steps through the whole text; a missing tab is one memchr.
    if " \n" in text or ("\t" in text and "\t\n" in text):  # most seeds have no such line
        text = "\n".join(line.rstrip(" \t") for line in text.split("\n"))
    return "text:" + hashlib.sha256(text.strip().encode("utf-8", "surrogatepass")).hexdigest()[:32]


def _text(data: bytes, path: Path | str, notes: list[str]) -> str:
    text, scrub = _decode(data, path, notes)
    return _clean_text(text, path, notes, scrub=scrub)


def _parse_text(text: str, path: Path | str, known: frozenset[str], notes: list[str]) -> Seed:
    key, seq = seed_key(os.path.basename(path))
    blocks = _split_blocks(_visible(text))
    category, rest = _take_header(blocks, path, known)
    headline, date, body_blocks = _take_headline_area(rest, known, notes)
    agency, title = _split_agency(headline, known)
    paragraphs, _ = _body_paragraphs(body_blocks)
    publisher, paragraphs = _take_publisher(paragraphs)
    if not paragraphs:
        raise SeedSkipped(path, NO_BODY)
    dateline_agency, dateline_date = _read_dateline(paragraphs[0], known)
    return Seed(
        path=_as_path(path),
        key=key,
        seq=seq,
        category=category,
        title=title,
        agency=agency or dateline_agency,
        publisher=publisher,
        date=date or dateline_date,
        paragraphs=tuple(paragraphs),
        summary=summarize(paragraphs[0]),
        warnings=tuple(notes),
        fingerprint=text_fingerprint(text),
    )


def _skim_text(
    text: str, path: Path | str, known: frozenset[str], notes: list[str]
) -> tuple[str | None, datetime | None, list[str]] | None:
    """(category, date, notes) from the leading blocks alone, as _parse_text would find them; None
    when they do not settle it (a long header area, a first paragraph that may also be the last)."""
    blocks, complete = _leading_blocks(_visible(text))
    if not complete and len(blocks) < 3:
        return None  # _take_header tells one, two and more blocks apart
    category, rest = _take_header(blocks, path, known)
    _, date, body_blocks = _take_headline_area(rest, known, notes)
    # Two paragraphs are enough: the first is then final (the publisher credit comes off the last).
    paragraphs, stopped = _body_paragraphs(body_blocks, limit=2)
    if stopped or (complete and len(paragraphs) < 2):
        # The whole body is in view: exactly what _parse_text does.
        _, paragraphs = _take_publisher(paragraphs)
        if not paragraphs:
            raise SeedSkipped(path, NO_BODY)
    elif len(paragraphs) < 2:
        return None  # the prefix ends inside the headline area or after one paragraph
    _, dateline_date = _read_dateline(paragraphs[0], known)
    return category, date or dateline_date, notes


def _leading_blocks(text: str) -> tuple[list[str], bool]:
    """The complete blocks in the first SKIM_CHARS characters, and whether that is all of them."""
    if len(text) <= SKIM_CHARS:
        return _split_blocks(text), True
    cut = text.rfind("\n", 0, SKIM_CHARS)
    # The last block of the prefix may go on past the cut: leave it out.
    return _split_blocks(text[:cut])[:-1] if cut > 0 else [], False


def summarize(paragraph: str, limit: int = SUMMARY_CHARS) -> str:
    """The paragraph, or its start cut at a word boundary near `limit` characters plus "…".

    Text without spaces (Chinese, Japanese) is cut at a character boundary instead.
    """
    if len(paragraph) <= limit:
        return paragraph
    cut = paragraph[:limit]
    space = cut.rfind(" ")
    if space >= limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:-–—") + "…"


# --- reading the file ----------------------------------------------------------------------


def _as_path(path: Path | str) -> Path:
    # Path(path) costs microseconds even for a Path; this runs once per seed.
    return path if isinstance(path, Path) else Path(path)


def _require_inside(path: Path, root: Path | str) -> None:
    """Skip a path (usually a symlink) whose real location is not inside the seeds folder."""
    plain_root, real_root = _root_forms(os.fspath(root))
    if os.path.dirname(os.path.abspath(path)) == plain_root and not os.path.islink(path):
        # The common case, a plain file directly in the folder: no need to resolve every component.
        return
    real = os.path.realpath(path)
    if real != real_root and not real.startswith(real_root.rstrip(os.sep) + os.sep):
        raise SeedSkipped(path, OUTSIDE_ROOT)


@lru_cache(maxsize=8)
def _root_forms(root: str) -> tuple[str, str]:
    # Computed once per folder: 100,000 seeds share one root.
    return os.path.abspath(root), os.path.realpath(root)


def _read_inside(path: str, root: str, limit: int) -> tuple[bytes, os.stat_result]:
    """_require_inside, then _read_file; a plain file directly in the folder (nearly every seed)
    is opened with O_NOFOLLOW instead, which refuses a symlink without an lstat first."""
    if _NOFOLLOW and os.path.dirname(os.path.abspath(path)) == _root_forms(os.fspath(root))[0]:
        try:
            fd = os.open(path, _OPEN_FLAGS | _NOFOLLOW)
        except (OSError, ValueError):
            pass  # a symlink, or not there at all: the general way below decides and words it
        else:
            return _read_open(path, fd, limit)
    _require_inside(path, root)
    return _read_file(path, limit)


def _read_file(path: Path | str, limit: int) -> tuple[bytes, os.stat_result]:
    """Up to `limit` bytes of a regular file and its fstat; OS errors become SeedSkipped."""
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except FileNotFoundError:
        raise SeedSkipped(path, DANGLING if os.path.islink(path) else f"{CANNOT_READ}: no such file") from None
    except OSError as error:
        raise SeedSkipped(path, _os_reason(error)) from None
    return _read_open(path, fd, limit)


def _read_open(path: Path | str, fd: int, limit: int) -> tuple[bytes, os.stat_result]:
    """Up to `limit` bytes of the file open as `fd` if it is a regular one, and its fstat; closes `fd`."""
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise SeedSkipped(path, NOT_A_FILE)
        if info.st_size >= limit:
            raise SeedSkipped(path, TOO_LARGE)
        # Ask for the size fstat gave (plus one, to see a file that grew): asking for `limit`
        # makes every read allocate 2 MiB, which costs more than reading a typical seed.
        chunks, total, want = [], 0, info.st_size + 1
        while total < limit:
            chunk = os.read(fd, min(limit - total, want - total if want > total else 65536))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
        return b"".join(chunks), info  # one chunk: join hands back that very object
    except OSError as error:
        raise SeedSkipped(path, _os_reason(error)) from None
    finally:
        os.close(fd)


def _os_reason(error: OSError) -> str:
    if error.errno in (errno.EACCES, errno.EPERM):
        return PERMISSION_DENIED
    return f"{CANNOT_READ}: {(error.strerror or type(error).__name__).lower()}"


# --- bytes -> clean text ---------------------------------------------------------------------


def _decode(data: bytes, path: Path, notes: list[str]) -> tuple[str, bool]:
    """The text (UTF-8 with or without BOM, else Windows-1252 with a warning), and whether it may
    hold XML-illegal characters; rejects what is not text at all."""
    if len(data) > MAX_SEED_BYTES:
        raise SeedSkipped(path, TOO_LARGE)
    if not data:
        raise SeedSkipped(path, EMPTY)
    if data.startswith((b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff")):  # UTF-16 either way, UTF-32 BE
        raise SeedSkipped(path, UTF16)  # every other byte a NUL: "binary" would say too little
    controls = _count_control_bytes(data)
    if b"\x00" in data or controls > len(data) * _BINARY_SHARE:
        raise SeedSkipped(path, BINARY)
    # Not the "utf-8-sig" codec: it is written in Python and twice as slow.
    body = data[3:] if data.startswith(_UTF8_BOM) else data
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        try:
            text = body.decode("cp1252")
        except UnicodeDecodeError:
            raise SeedSkipped(path, UNDECODABLE) from None
        notes.append(CP1252_WARNING)
    if not text or text.isspace():
        raise SeedSkipped(path, ONLY_WHITESPACE)
    if _HTML_START.match(text, 0, 200):
        raise SeedSkipped(path, HTML_PAGE)
    return text, _may_hold_xml_illegal(data, controls)


def _count_control_bytes(data: bytes) -> int:
    return len(data) - len(data.translate(None, _CONTROL_BYTES))


def _may_hold_xml_illegal(data: bytes, controls: int) -> bool:
    """False when the bytes cannot decode to an XML-illegal character, to skip a costly scan.

    Such a character comes only from a control byte, a UTF-8 C1 control (C2 80-9F) or a UTF-8
    U+FFFE/U+FFFF (EF BF BE/BF); Windows-1252 maps 0x80-0x9F to printable characters.
    """
    # One-byte searches are a memchr; a two-byte one steps through the data: look for EF first.
    return controls > 0 or b"\x0c" in data or b"\xc2" in data or (b"\xef" in data and b"\xef\xbf" in data)


def _clean_text(text: str, path: Path, notes: list[str], *, scrub: bool = True) -> str:
    """LF line endings, no XML-illegal characters (when `scrub`), no absurdly long line."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if len(text) > MAX_LINE_CHARS and _longest_line(text) > MAX_LINE_CHARS:
        raise SeedSkipped(path, LONG_LINE)
    if not scrub:
        return text
    cleaned, count = _XML_ILLEGAL.subn(" ", text)
    if count:
        # A space, not nothing: a control character between two words must not glue them.
        notes.append("removed characters that XML does not allow")
    return cleaned


def _visible(text: str) -> str:
    """The text without the invisible characters scrapers leave (zero-width space, word joiner,
    a BOM past the first), which would hide a blank line, a header or a credit. Only the reading
    of the structure uses this: the fingerprint is of the text as read."""
    if text.isascii() or not ("\u200b" in text or "\ufeff" in text or "\u2060" in text):
        return text
    return _INVISIBLE.sub("", text)


def _longest_line(text: str) -> int:
    return max(map(len, text.split("\n")))


def _split_blocks(text: str) -> list[str]:
    """The text's blocks (runs of non-blank lines), each with its line breaks kept."""
    # A plain loop over lines: a seed has a few dozen, and a regex split costs more per character.
    blocks: list[str] = []
    lines: list[str] = []
    for line in text.split("\n"):
        if line and not line.isspace():
            lines.append(line)
        elif lines:
            blocks.append("\n".join(lines))
            lines = []
    if lines:
        blocks.append("\n".join(lines))
    return blocks


def _squash(text: str) -> str:
    """Whitespace collapsed to single spaces: how hard-wrapped lines are joined (with no space
    between two Chinese or Japanese characters, which have none between words)."""
    if _is_squashed(text):
        return text
    if "\n" in text and not text.isascii():
        text = _CJK_LINE_BREAK.sub("", text)
    return " ".join(text.split())


def _is_squashed(text: str) -> bool:
    # Most paragraphs are one clean ASCII line; splitting them into words is the reader's
    # biggest cost, so look for a reason to first (each test is a fast C scan).
    return (
        text.isascii()
        and "  " not in text
        and "\n" not in text
        and "\t" not in text
        and text[:1] != " "
        and text[-1:] != " "
    )


# --- structure -------------------------------------------------------------------------------


def _take_header(
    blocks: list[str], path: Path, known: frozenset[str]
) -> tuple[str | None, list[str]]:
    """The category from a section-header block, and the blocks after it."""
    if not blocks:
        raise SeedSkipped(path, ONLY_WHITESPACE)
    first = blocks[0]
    if not _looks_like_header(first):
        return None, blocks
    if len(blocks) == 1:
        raise SeedSkipped(path, HEADER_ONLY)
    name = _squash(first)
    # A short first block is the headline, not a header, when it is repeated below, when a date
    # line or body text (_looks_like_paragraph) follows it, or when taking it as a header would
    # leave no body (unless it says "News" or an agency headline follows: then the file really
    # is a header and a headline, and is skipped for no body).
    second = _squash(blocks[1])
    if second.casefold() == name.casefold() or _date_line(second, [])[0]:
        return None, blocks  # a date line follows a headline, not a section header
    lowered = name.lower()
    news = lowered.endswith(" news")
    if news:
        lowered = lowered[: -len(" news")]
    body_below = _looks_like_paragraph(second, under_a_section=news or lowered in _SECTIONS)
    if body_below and not _marked_as_headline(second, blocks[2:3], known):
        return None, blocks
    if len(blocks) == 2 and not (name.casefold().endswith("news") or _split_agency(second, known)[0]):
        return None, blocks
    return lowered, blocks[1:]


def _marked_as_headline(block: str, after: list[str], known: frozenset[str]) -> bool:
    """Whether the block after `block` marks it as a headline, however long: its copy, with or
    without the agency prefix (the scrape repeats headlines), or a date line."""
    if not after:
        return False
    title = _split_agency(block, known)[1].casefold()
    return _is_headline_copy(after[0], title, known) or _date_line(_squash(after[0]), [])[0]


def _looks_like_paragraph(text: str, *, under_a_section: bool) -> bool:
    """Whether the block under a header-like first block is body text, so that the first block
    is the headline. A long block or a dateline is body. Headlines seldom end with a full stop
    (but may end with "U.S." or "Inc."): a sentence of four words or more is body too, unless it
    sits under a known section name ("World", "Business", "... News"), where headlines that end
    like sentences are more likely than stories without a header."""
    if len(text) > 300 or _dateline(text) is not None:
        return True
    if under_a_section:
        return False
    sentence = text.rstrip(_CLOSING)
    if not sentence.endswith(".") or _ABBREVIATION_END.search(sentence):
        return False
    return len(text) > 80 or sentence.count(" ") >= 3


def _looks_like_header(block: str) -> bool:
    """A section name: one short line of at most 3 words, no sentence punctuation or date."""
    if "\n" in block:
        return False
    line = block.strip()
    words = line.split()
    if not 1 <= len(words) <= 3 or len(line) > 40:
        return False
    if _HEADER_FORBIDDEN.search(line) or line[0].islower() or line[0].isdigit():
        return False
    return not _HAS_YEAR.search(line)


def _take_headline_area(
    blocks: list[str], known: frozenset[str], notes: list[str]
) -> tuple[str, datetime | None, list[str]]:
    """The headline, the stated date and the body blocks; headline copies and date line dropped."""
    lines = [line.strip() for line in blocks[0].split("\n") if line.strip()]
    headline = lines[0]
    date: datetime | None = None
    seen_date_line = False
    if len(lines) > 1:
        title = _split_agency(headline, known)[1].casefold()
        for line in lines[1:]:
            # Under the headline in the same block: its date line, a copy, or a hard-wrapped rest.
            is_date_line, found = (False, None) if seen_date_line else _date_line(line, notes)
            if is_date_line:
                seen_date_line, date = True, found
            elif _squash(_split_agency(line, known)[1]).casefold() != title:
                headline = f"{headline}\n{line}"  # joined by _squash (no space between CJK characters)
    headline = _squash(headline)
    title = _split_agency(headline, known)[1].casefold()
    index = 1
    while index < len(blocks):
        block = blocks[index]
        if _is_headline_copy(block, title, known):
            index += 1
            continue
        if seen_date_line:
            break
        # A block's lines are not blank, so its first line, stripped, is where it starts.
        first, _, rest = block.partition("\n")
        is_date_line, date = _date_line(first.strip(), notes)
        if not is_date_line:
            break
        seen_date_line = True
        if rest.strip():
            # A date line glued to the first paragraph: the rest is body.
            blocks = blocks[:index] + [rest.rstrip()] + blocks[index + 1 :]
            continue
        index += 1
    return headline, date, blocks[index:]


def _is_headline_copy(block: str, title: str, known: frozenset[str]) -> bool:
    # The length test spares folding every long first paragraph just to find it is no copy.
    if len(block) > 2 * len(title) + 60:
        return False
    return _squash(_split_agency(_squash(block), known)[1]).casefold() == title


def _split_agency(headline: str, known: frozenset[str]) -> tuple[str | None, str]:
    """("Reuters", "Putin wants ...") from "Reuters: Putin wants ..."; only known agencies count."""
    if headline.find(":", 0, 42) < 0:
        return None, headline
    match = _AGENCY_PREFIX.match(headline)
    if match:
        name = match.group(1).strip()
        if name.casefold() in known:
            return name, headline[match.end() :]
    return None, headline


@lru_cache(maxsize=16)
def _agency_names(agencies: tuple[str, ...]) -> frozenset[str]:
    return frozenset(name.strip().casefold() for name in agencies if name.strip())


def _body_paragraphs(blocks: list[str], limit: int | None = None) -> tuple[list[str], bool]:
    """Blocks up to the first chrome line (or the first `limit` paragraphs), each joined into one
    line; and whether chrome ended them."""
    paragraphs: list[str] = []
    for block in blocks:
        if len(paragraphs) == limit:
            break
        if "\n" in block or len(block) <= _LONGEST_CHROME_LINE:
            kept = _before_chrome(block)
            if kept is not None:
                if not paragraphs and "\n" not in block:
                    continue  # a share bar under the headline: the article is still to come
                if kept:
                    paragraphs.append(_squash(kept))
                return paragraphs, True
        paragraphs.append(_squash(block))
    return paragraphs, False


def _before_chrome(block: str) -> str | None:
    """The block's text before its first chrome line, or None when it has no chrome line."""
    lines = block.split("\n")
    for number, line in enumerate(lines):
        if line.strip().casefold().rstrip(_CHROME_TRAIL) in _CHROME_LINES:
            return "\n".join(lines[:number])
    return None


def _take_publisher(paragraphs: list[str]) -> tuple[str | None, list[str]]:
    """The "/NAME" credit at the very end of the body, and the body without it."""
    if not paragraphs:
        return None, paragraphs
    last = paragraphs[-1]
    lone = _LONE_CREDIT.fullmatch(last)
    if lone:
        return lone.group(1), paragraphs[:-1]
    match = _PUBLISHER_CREDIT.search(last)
    if not match:
        return None, paragraphs
    return match.group(1), paragraphs[:-1] + [last[: match.start()].rstrip()]


def _read_dateline(paragraph: str, known: frozenset[str]) -> tuple[str | None, datetime | None]:
    """Agency and (only when it has a year) date from "GENEVA, March 3, 2025 (AFP) - ..."."""
    match = _dateline(paragraph)
    if not match:
        return None, None
    agency = match.group("agency")
    if agency:
        # "(Reuters)", or several: "(Reuters, AFP)", "(Reuters/AP)", "(AFP and AP)": the known ones.
        names = [name.strip() for name in _CREDIT_SEPARATORS.split(agency)]
        agency = ", ".join(name for name in names if name.casefold() in known) or None
    when = match.group("when")
    date = None
    if when and _HAS_YEAR.search(when):
        # A state or country may come before the date ("KYIV, Ukraine, March 3, 2025 (AP) -").
        parts = when.split(",")
        for start in range(len(parts)):
            date = _parse_date(",".join(parts[start:]))
            if date is not None:
                break
    return agency, date


def _dateline(paragraph: str) -> re.Match[str] | None:
    """The dateline opening a paragraph ("LIMA, Aug 14 (Reuters) - "), if any."""
    # Datelines shout the place ("LIMA", "NEW YORK"): a cheap test before the regex.
    start = paragraph[:2]
    if not (start.isalpha() and start.isupper()):
        return None
    # Nor without its dash; the regex would try dozens of places and dates to find that out.
    head = paragraph[:120]
    if "-" not in head and "–" not in head and "—" not in head:
        return None
    match = _DATELINE.match(paragraph, 0, 120)
    if match and match.group("place").upper() == match.group("place"):
        return match
    # "US officials, he said - ..." is a sentence, not a dateline.
    return None


# --- dates -----------------------------------------------------------------------------------


def _date_line(line: str, notes: list[str]) -> tuple[bool, datetime | None]:
    """Whether a headline-area line is a date line ("Date: ...", "Published ...", "March 9, 2025"),
    and the full date it states (None for an incomplete or unreadable one)."""
    if "|" in line:
        # "May 24, 2024 | 9:30 AM", "Published 24/05/2024 09:30 | Updated 24/05/2024 11:00"
        first, _, rest = (part.strip() for part in line.partition("|"))
        second = rest.partition("|")[0].strip()
        joined = _date_line(f"{first} {second}", [])
        return joined if joined[1] is not None else _date_line(first, notes)
    labelled = _LABELLED_DATE.fullmatch(line)
    if labelled and any(map(str.isdigit, line)):
        colon, stated = labelled.groups()
        date = _parse_date(stated)
        if date is None:
            if not colon and not _reads_as_a_date(stated):
                return False, None  # "Published figures show 12 banks ...": a sentence
            notes.append(f"date not understood: {line[:80]!r}")
        return True, date
    if len(line) <= 60 and _BARE_DATE.fullmatch(line) and _HAS_YEAR.search(line):
        date = _parse_date(line)
        return date is not None, date
    return False, None


def _parse_date(text: str) -> datetime | None:
    """An aware datetime for a complete date (offset kept; no zone: UTC), else None."""
    text = text.strip()
    date = _parse_iso(text) or _parse_loose(text)
    if date is None or not 1900 <= date.year <= 2200:
        return None
    return _with_fixed_zone(date)


def _parse_iso(text: str) -> datetime | None:
    if len(text) < 8 or not text[:4].isdigit():
        return None
    try:
        return datetime.fromisoformat(_UTC_SUFFIX.sub("+00:00", text))
    except ValueError:
        return None


def _reads_as_a_date(text: str) -> bool:
    """Whether dateutil reads `text` as a date at all, however incomplete ("March 9")."""
    from dateutil import parser as dateparser

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            dateparser.parse(text, default=_DEFAULT_A, tzinfos=_zone)
    except (ValueError, OverflowError, TypeError, IndexError):
        return False
    return True


def _parse_loose(text: str) -> datetime | None:
    """python-dateutil, day first only for numeric DD/MM/YYYY; None unless year, month, day stated."""
    # Imported here: most seeds state ISO dates or none, and a build that reads no seed (nothing
    # changed) should not pay for loading dateutil's parser.
    from dateutil import parser as dateparser

    text = _WEEKDAY.sub(" ", _GMT_OFFSET.sub(_as_offset, text))
    dayfirst = bool(_DAY_FIRST_NUMERIC.search(text))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            first = dateparser.parse(text, dayfirst=dayfirst, default=_DEFAULT_A, tzinfos=_zone)
            second = dateparser.parse(text, dayfirst=dayfirst, default=_DEFAULT_B, tzinfos=_zone)
    except (ValueError, OverflowError, TypeError, IndexError):
        return None
    if first.date() != second.date():
        return None
    return first


def _as_offset(match: re.Match[str]) -> str:
    sign, hours, minutes = match.groups()
    return f"{sign}{int(hours):02d}:{minutes or '00'}"


def _zone(name: str | None, offset: int | None) -> tzinfo | None:
    if offset is not None:
        return timezone(timedelta(seconds=offset))
    name = (name or "").upper()
    hours = _ZONE_HOURS.get(name)
    if hours is not None:
        return timezone(timedelta(hours=hours))
    return _named_zone(_US_ZONES[name]) if name in _US_ZONES else None


@lru_cache(maxsize=8)
def _named_zone(key: str) -> tzinfo | None:
    """An IANA zone from the system's database, else the tzdata package (None without either: UTC)."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(key)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None


def _with_fixed_zone(date: datetime) -> datetime | None:
    """The same instant with a plain fixed-offset zone; a date stated without zone is UTC."""
    try:
        offset = date.utcoffset()
    except (ValueError, OverflowError):
        return None
    if offset is None:
        return date.replace(tzinfo=timezone.utc)
    if abs(offset) >= timedelta(hours=24):
        return None
    if offset % timedelta(minutes=1):
        # Feeds state offsets in whole minutes (RFC 3339, RFC 822): the same instant in UTC.
        return date.astimezone(timezone.utc)
    if date.tzinfo is timezone.utc:
        return date  # as it comes from an ISO date in UTC; replace() would only copy it
    return date.replace(tzinfo=timezone.utc if not offset else timezone(offset))
