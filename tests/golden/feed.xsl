<?xml version="1.0" encoding="UTF-8"?>
<!--
  feedpub's browser view of its RSS 2.0 and Atom feeds (XSLT 1.0).

  Feed readers ignore this file; a browser that opens flash.xml applies it and shows a page
  instead of raw XML. Browsers are retiring XSLT, so this is a courtesy, not the site: the
  durable human view is index.html.

  Safety, because feed text comes from scraped seeds:
  - every value goes through xsl:value-of or an attribute value template, which escape;
    output escaping is never disabled, so markup in a title or summary shows as text;
  - summaries (plain text) are shown, never the HTML content;
  - a link is made only for http(s) URLs; anything else (javascript:, data:) is not linked;
  - no script, no external resources, nothing fetched.
-->
<xsl:stylesheet version="1.0"
    xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
    xmlns:atom="http://www.w3.org/2005/Atom"
    xmlns:dc="http://purl.org/dc/elements/1.1/"
    exclude-result-prefixes="atom dc">

  <xsl:output method="html" encoding="UTF-8" indent="yes" doctype-system="about:legacy-compat"/>

  <xsl:template match="/">
    <html lang="{normalize-space(rss/channel/language | atom:feed/@xml:lang)}">
      <head>
        <meta name="viewport" content="width=device-width, initial-scale=1"/>
        <title><xsl:value-of select="rss/channel/title | atom:feed/atom:title"/></title>
        <style>
          body{font:1.05rem/1.55 system-ui,sans-serif;max-width:42rem;margin:0 auto;padding:1rem;color:#222}
          h1{font-size:1.6rem;line-height:1.25}h2{font-size:1.15rem;margin:0 0 .2rem}
          .subscribe{background:#eef4ff;border:1px solid #b8cdf5;border-radius:.4rem;padding:.6rem .9rem}
          .subscribe code{display:block;overflow-wrap:anywhere;background:#fff;padding:.3rem;margin-top:.3rem}
          article{border-top:1px solid #ddd;padding:.8rem 0}.meta{color:#555;font-size:.95rem;margin:0}
          a{color:#0645ad}
        </style>
      </head>
      <body>
        <xsl:choose>
          <xsl:when test="rss/channel"><xsl:apply-templates select="rss/channel"/></xsl:when>
          <xsl:when test="atom:feed"><xsl:apply-templates select="atom:feed"/></xsl:when>
          <xsl:otherwise><p>This file is not an RSS 2.0 or Atom feed.</p></xsl:otherwise>
        </xsl:choose>
      </body>
    </html>
  </xsl:template>

  <!-- RSS 2.0 -->
  <xsl:template match="channel">
    <xsl:call-template name="header">
      <xsl:with-param name="title" select="title"/>
      <xsl:with-param name="description" select="description"/>
      <xsl:with-param name="self" select="atom:link[@rel='self']/@href"/>
      <xsl:with-param name="site" select="link"/>
    </xsl:call-template>
    <main>
      <xsl:for-each select="item">
        <xsl:call-template name="item">
          <xsl:with-param name="title" select="title"/>
          <xsl:with-param name="link" select="link"/>
          <xsl:with-param name="date" select="pubDate"/>
          <xsl:with-param name="credit" select="dc:creator"/>
          <xsl:with-param name="via" select="dc:contributor"/>
          <xsl:with-param name="summary">
            <!-- RSS readers take <description> as HTML, so it arrives entity-escaped -->
            <xsl:call-template name="unescape">
              <xsl:with-param name="text" select="description"/>
            </xsl:call-template>
          </xsl:with-param>
        </xsl:call-template>
      </xsl:for-each>
    </main>
  </xsl:template>

  <!-- Atom 1.0 -->
  <xsl:template match="atom:feed">
    <xsl:call-template name="header">
      <xsl:with-param name="title" select="atom:title"/>
      <xsl:with-param name="description" select="atom:subtitle"/>
      <xsl:with-param name="self" select="atom:link[@rel='self']/@href"/>
      <xsl:with-param name="site" select="atom:link[@rel='alternate' or not(@rel)]/@href"/>
    </xsl:call-template>
    <main>
      <xsl:for-each select="atom:entry">
        <xsl:call-template name="item">
          <xsl:with-param name="title" select="atom:title"/>
          <xsl:with-param name="link" select="atom:link[@rel='alternate' or not(@rel)]/@href"/>
          <!-- RFC 3339 to "2025-01-17 06:45 UTC" or "... UTC+08:00", as the site's pages show
               dates: readable without date arithmetic in XSLT 1.0, and the offset kept -->
          <xsl:with-param name="date">
            <xsl:variable name="stamp" select="string((atom:published | atom:updated)[1])"/>
            <xsl:variable name="zone" select="substring($stamp, string-length($stamp) - 5)"/>
            <xsl:value-of select="translate(substring($stamp, 1, 16), 'T', ' ')"/>
            <xsl:text> UTC</xsl:text>
            <xsl:if test="$zone != '+00:00' and $zone != '-00:00' and substring($stamp, string-length($stamp)) != 'Z'">
              <xsl:value-of select="$zone"/>
            </xsl:if>
          </xsl:with-param>
          <xsl:with-param name="credit">
            <xsl:choose>
              <xsl:when test="atom:author"><xsl:value-of select="atom:author/atom:name"/></xsl:when>
              <xsl:otherwise><xsl:value-of select="../atom:author/atom:name"/></xsl:otherwise>
            </xsl:choose>
          </xsl:with-param>
          <xsl:with-param name="via" select="atom:contributor/atom:name"/>
          <xsl:with-param name="summary" select="atom:summary"/>
        </xsl:call-template>
      </xsl:for-each>
    </main>
  </xsl:template>

  <xsl:template name="header">
    <xsl:param name="title"/>
    <xsl:param name="description"/>
    <xsl:param name="self"/>
    <xsl:param name="site"/>
    <header>
      <h1><xsl:value-of select="$title"/></h1>
      <xsl:if test="normalize-space($description)">
        <p><xsl:value-of select="$description"/></p>
      </xsl:if>
      <div class="subscribe">
        <strong>This is a news feed.</strong>
        Copy its address into your feed reader to subscribe:
        <code><xsl:value-of select="$self"/></code>
      </div>
      <p>
        <xsl:call-template name="link">
          <xsl:with-param name="href" select="$site"/>
          <xsl:with-param name="text">All feeds and the latest headlines</xsl:with-param>
        </xsl:call-template>
      </p>
    </header>
  </xsl:template>

  <xsl:template name="item">
    <xsl:param name="title"/>
    <xsl:param name="link"/>
    <xsl:param name="date"/>
    <xsl:param name="credit"/>
    <xsl:param name="via"/>
    <xsl:param name="summary"/>
    <article>
      <h2>
        <xsl:call-template name="link">
          <xsl:with-param name="href" select="$link"/>
          <xsl:with-param name="text" select="$title"/>
        </xsl:call-template>
      </h2>
      <p class="meta">
        <xsl:value-of select="$date"/>
        <xsl:if test="normalize-space($credit)">
          <xsl:text> · </xsl:text>
          <span class="credit">
            <xsl:value-of select="$credit"/>
            <xsl:if test="normalize-space($via)">, via <xsl:value-of select="$via"/></xsl:if>
          </span>
        </xsl:if>
      </p>
      <xsl:if test="normalize-space($summary)">
        <p><xsl:value-of select="$summary"/></p>
      </xsl:if>
    </article>
  </xsl:template>

  <!--
    Undo the five escapes of an HTML-escaped plain text (&lt; &gt; &quot; &#x27; then &amp;).
    The result is still text: xsl:value-of escapes it again on output, so a "<script>" in a
    summary shows as the characters, never as an element. Markup beyond that stays visible.
  -->
  <xsl:template name="unescape">
    <xsl:param name="text"/>
    <xsl:call-template name="replace">
      <xsl:with-param name="from" select="'&amp;amp;'"/>
      <xsl:with-param name="to" select="'&amp;'"/>
      <xsl:with-param name="text">
        <xsl:call-template name="replace">
          <xsl:with-param name="from" select="'&amp;#x27;'"/>
          <xsl:with-param name="to">'</xsl:with-param>
          <xsl:with-param name="text">
            <xsl:call-template name="replace">
              <xsl:with-param name="from" select="'&amp;quot;'"/>
              <xsl:with-param name="to" select="'&quot;'"/>
              <xsl:with-param name="text">
                <xsl:call-template name="replace">
                  <xsl:with-param name="from" select="'&amp;gt;'"/>
                  <xsl:with-param name="to" select="'&gt;'"/>
                  <xsl:with-param name="text">
                    <xsl:call-template name="replace">
                      <xsl:with-param name="from" select="'&amp;lt;'"/>
                      <xsl:with-param name="to" select="'&lt;'"/>
                      <xsl:with-param name="text" select="$text"/>
                    </xsl:call-template>
                  </xsl:with-param>
                </xsl:call-template>
              </xsl:with-param>
            </xsl:call-template>
          </xsl:with-param>
        </xsl:call-template>
      </xsl:with-param>
    </xsl:call-template>
  </xsl:template>

  <xsl:template name="replace">
    <xsl:param name="text"/>
    <xsl:param name="from"/>
    <xsl:param name="to"/>
    <xsl:choose>
      <xsl:when test="contains($text, $from)">
        <xsl:value-of select="substring-before($text, $from)"/>
        <xsl:value-of select="$to"/>
        <xsl:call-template name="replace">
          <xsl:with-param name="text" select="substring-after($text, $from)"/>
          <xsl:with-param name="from" select="$from"/>
          <xsl:with-param name="to" select="$to"/>
        </xsl:call-template>
      </xsl:when>
      <xsl:otherwise><xsl:value-of select="$text"/></xsl:otherwise>
    </xsl:choose>
  </xsl:template>

  <!-- A link only to http(s): a hostile feed cannot smuggle javascript: into an href. -->
  <xsl:template name="link">
    <xsl:param name="href"/>
    <xsl:param name="text"/>
    <xsl:variable name="url" select="normalize-space($href)"/>
    <xsl:choose>
      <xsl:when test="starts-with($url, 'https://') or starts-with($url, 'http://')">
        <a href="{$url}"><xsl:value-of select="$text"/></a>
      </xsl:when>
      <xsl:otherwise><xsl:value-of select="$text"/></xsl:otherwise>
    </xsl:choose>
  </xsl:template>
</xsl:stylesheet>
