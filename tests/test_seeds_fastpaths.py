"""The reader's shortcuts against the plain code they stand in for.

The scan reads every seed of a cold build, so seeds.py takes shortcuts for the common case (a
plain UTF-8 file directly in the seeds folder). parse_seed and skim_seed share them, so
test_skim cannot see a shortcut that goes wrong: each one is checked here against the code it
replaced, kept verbatim below, on inputs made to reach both sides of every shortcut.
"""

from __future__ import annotations

import hashlib

from hypothesis import HealthCheck, given, settings as hsettings, strategies as st

import feedpub.seeds as seeds

ANY = hsettings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# --- the plain versions ------------------------------------------------------------------------


def plain_fingerprint(text: str) -> str:
    if " \n" in text or "\t\n" in text:
        text = "\n".join(line.rstrip(" \t") for line in text.split("\n"))
    return "text:" + hashlib.sha256(text.strip().encode("utf-8", "surrogatepass")).hexdigest()[:32]


def plain_may_hold_xml_illegal(data: bytes, controls: int) -> bool:
    return controls > 0 or b"\x0c" in data or b"\xc2" in data or b"\xef\xbf" in data


# --- inputs that reach both sides of each shortcut ---------------------------------------------

LINE_ENDS = st.lists(st.sampled_from([" ", "\t", "\n", " \n", "\t\n", "\n\n", "a", "é", "\u3000", "\ud800", "\r"]), max_size=30)
BYTES = st.lists(st.sampled_from([b"\xef", b"\xbf", b"\xbe", b"\xef\xbf", b"\xc2", b"\x80", b"\x0c", b"\x01", b"a", b"\n"]), max_size=20)


@ANY
@given(text=LINE_ENDS.map("".join) | st.text())
def test_the_fingerprint_is_the_plain_one(text):
    assert seeds.text_fingerprint(text) == plain_fingerprint(text)


@ANY
@given(data=BYTES.map(b"".join) | st.binary())
def test_the_xml_illegal_guess_is_the_plain_one(data):
    controls = seeds._count_control_bytes(data)
    assert seeds._may_hold_xml_illegal(data, controls) == plain_may_hold_xml_illegal(data, controls)
