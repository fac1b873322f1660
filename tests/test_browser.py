"""What a person sees: headless Chromium opens the served index page and a feed (rendered by the
stylesheet) and must show the headline and credit as text, and a hostile seed's markup as text."""

from __future__ import annotations

import shutil
import subprocess

import lxml.html
import pytest

from fixtures_entries import HOSTILE_TITLE, build_site, served

CHROMIUM = shutil.which("chromium")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)")

PROBE_XML = b'<?xml version="1.0"?>\n<?xml-stylesheet type="text/xsl" href="probe.xsl"?>\n<probe/>\n'
PROBE_XSL = b"""<?xml version="1.0"?>
<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">
<xsl:output method="html"/>
<xsl:template match="/"><html><body><p id="xslt">applied</p></body></html></xsl:template>
</xsl:stylesheet>
"""


def dump_dom(url: str, profile) -> lxml.html.HtmlElement:
    """The DOM Chromium built for `url`, after parsing, stylesheets and layout."""
    command = [
        CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        f"--user-data-dir={profile}", "--dump-dom", url,
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, timeout=120, check=True)
    return lxml.html.document_fromstring(done.stdout)


def assert_no_active_content(doc) -> None:
    assert doc.xpath("//script | //img | //iframe | //object | //embed") == []
    assert [a for a in doc.xpath("//@*") if a.attrname.lower().startswith("on")] == []
    assert [u for u in doc.xpath("//@href | //@src") if u.strip().lower().startswith("javascript:")] == []


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = tmp_path_factory.mktemp("browser")
    (root / "feeds").mkdir()
    with served(root / "feeds") as base_url:
        # The base URL must be the served one so the stylesheet's same-origin href resolves.
        build_site(root, base_url=base_url)
        yield base_url, root


def test_index_page_shows_headlines_and_credits_as_text(site):
    base_url, root = site
    doc = dump_dom(base_url + "index.html", root / "profile")
    headlines = [a.text_content() for a in doc.xpath("//ol[@class='headlines']/li/a")]
    # Floods states a date after the build clock; the other two were first seen at the clock and
    # tie, so the higher sequence number comes first.
    assert headlines == ["Floods close the main highway", "Putin wants ceasefire along front lines", HOSTILE_TITLE]
    credits = [s.text_content() for s in doc.xpath("//span[@class='credit']")]
    assert credits == ["AP", "Reuters, via VOA", "Reuters, via VOA"]
    assert HOSTILE_TITLE in doc.text_content()
    assert_no_active_content(doc)


def test_feed_opens_as_a_readable_page(site):
    base_url, root = site
    (root / "feeds" / "probe.xml").write_bytes(PROBE_XML)
    (root / "feeds" / "probe.xsl").write_bytes(PROBE_XSL)
    probe = dump_dom(base_url + "probe.xml", root / "profile")
    if probe.xpath("//p[@id='xslt']/text()") != ["applied"]:
        pytest.skip("this Chromium no longer applies XSLT stylesheets; index.html is the human view")
    doc = dump_dom(base_url + "flash.xml", root / "profile")
    assert doc.xpath("//h1/text()") == ["Flash news"]
    assert doc.xpath("//div[@class='subscribe']/code/text()") == [base_url + "flash.xml"]
    titles = [a.text_content() for a in doc.xpath("//article/h2/a")]
    assert titles == ["Putin wants ceasefire along front lines", HOSTILE_TITLE]
    credits = [s.text_content().strip() for s in doc.xpath("//article//span[@class='credit']")]
    assert credits == ["Reuters, via VOA", "Reuters, via VOA"]
    assert_no_active_content(doc)
