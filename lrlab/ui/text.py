"""Plain text inside Streamlit Markdown: :func:`plain` makes user text and error messages show literally.

Every ``st.error`` / ``st.warning`` / ``st.info`` / ``st.success`` / ``st.markdown`` / ``st.caption``
body is Markdown, so a message that quotes what a visitor typed (``__import__``, ``().__class__``,
``x*2*y``, ``$5``) would lose characters to it: ``__import__`` turns into a bold "import". What
Streamlit 1.67's Markdown interprets (read in its frontend, ``StreamlitMarkdown``):

- CommonMark + GFM: emphasis ``* _``, code ````` ``, strike-through ``~``, tables ``|``, links and
  images ``[…](…)``, raw HTML and autolinks ``<…>`` (HTML is dropped), entities ``&…;``, autolinked
  ``www.`` / ``https://`` / ``a@b.c``; at the start of a line headings ``#``, quotes ``>``, lists
  ``- + *`` and ``1.`` / ``1)``, setext underlines ``= -``, and indented code (4 spaces);
- math: ``$…$`` and ``$$…$$`` (KaTeX);
- directives ``:name``, ``:name[…]`` (``:red[…]``, ``:blue-badge[…]``, ``:small[…]``, ``:help[…]``;
  an unknown one loses its ``[…]``), ``:material/icon:`` (the source's ``:material/`` is rewritten
  before parsing), and emoji short codes ``:smile:`` (loaded when the source holds ``:word:``);
- rewrites of the parsed text that no escape stops: the arrows and signs `` -> `` → "→", `` <- ``,
  `` <-> ``, `` -- `` → "—", `` >= `` → "≥", `` <= `` → "≤", `` ~= `` → "≈" (each between spaces), and
  ``:streamlit:`` (the logo).

CommonMark shows a backslash-escaped ASCII punctuation character literally, so :func:`plain`
backslash-escapes each character where it would start one of these, and only there (``T_max``,
``(300,000)`` and ``[0.8, 0.99]`` stay as they are: an underscore inside a word, parentheses and a
bracket not followed by ``(`` mean nothing). A WORD JOINER (U+2060, invisible) inside an arrow or
``:streamlit:`` keeps it as typed. Line breaks become hard breaks and leading spaces no-break spaces,
so a multi-line message (a YAML error's pointer) keeps its shape.
"""

from __future__ import annotations

import re

__all__ = ["plain"]

_ALWAYS = frozenset("\\`*~|$@")  # emphasis, code, strike-through, tables, math, e-mail autolinks
_LINE_START = frozenset("#>+-=")  # headings, quotes, lists, setext underlines
_EMOJI_SHAPED = re.compile(r":[\w+-]+:")  # both of its colons are escaped: the short-code test fails
_DIRECTIVE_NEXT = re.compile(r"[\w+\-/]")  # ":red[", ":help", ":smile", "https://"
_ORDERED = re.compile(r"\d{1,9}[.)]")  # "1." / "1)" start an ordered list
#: Streamlit's rewrites of the parsed text (only when the sign stands between spaces), and its logo code
_REWRITTEN = re.compile(r"(?<!\S)(?:<->|->|<-|--|>=|<=|~=)(?!\S)|:streamlit:")
_JOINER = "\u2060"


def _escaped(body: str, i: int) -> bool:
    c = body[i]
    before = body[i - 1] if i else ""
    after = body[i + 1] if i + 1 < len(body) else ""
    if c in _ALWAYS or (i == 0 and c in _LINE_START):
        return True
    if c == "_":  # between two letters or digits an underscore can neither open nor close emphasis
        return not (before.isalnum() and after.isalnum())
    if c == "<":  # a tag or an autolink
        return after.isalpha() or (after != "" and after in "/!?")
    if c == "&":  # an entity
        return after.isalpha() or after == "#"
    if c == "]":  # a link, a reference link or a link definition
        return after != "" and after in "([:"
    if c == ":":
        return bool(_DIRECTIVE_NEXT.match(after))
    if c == "/":  # the source's ":material/" becomes ":material_" before parsing
        return body[:i].endswith(":material")
    if c == ".":  # "www." autolinks
        return body[:i].lower().endswith("www")
    return False


def _escape_line(line: str) -> str:
    line = _REWRITTEN.sub(lambda m: m.group(0)[0] + _JOINER + m.group(0)[1:], line)
    body = line.lstrip(" \t")
    indent = line[: len(line) - len(body)]
    lead = "\u00a0" * (indent.count(" ") + 4 * indent.count("\t"))  # spaces would collapse, or make code
    marks = {i for i, c in enumerate(body) if _escaped(body, i)}
    for m in _EMOJI_SHAPED.finditer(body):
        marks.update((m.start(), m.end() - 1))
    if ordered := _ORDERED.match(body):
        marks.add(ordered.end() - 1)
    return lead + "".join("\\" + c if i in marks else c for i, c in enumerate(body))


def plain(text: object) -> str:
    """``text`` (anything; ``str()`` of it) as Markdown that Streamlit shows exactly as written.

    For user text and exception messages inside a message body, e.g.
    ``st.error(plain(exc))`` or ``st.warning(f"**{plain(label)}**: {plain(message)}")``.
    """
    lines = str(text).replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "  \n".join(_escape_line(line) for line in lines)
