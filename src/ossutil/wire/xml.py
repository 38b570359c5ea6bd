"""Safe XML parsing and OSS-style XML writing.

Parsing goes through ``defusedxml`` with DTDs forbidden, so neither entity expansion ("billion
laughs") nor external entities can happen; anything that is not a well-formed, DTD-free document
becomes ``OssError("MalformedXML")``.

Character references to C0 controls (``&#1;`` ... ``&#31;``, ``&#0;``, bar tab, LF and CR,
which are plain XML 1.0) are accepted in element text and decode to the control character, as
OSS does: alibabacloud-oss-v2 writes a key's control characters that way
(``utils.escape_xml_value``: ``&#01;``), and expat, being XML 1.0, refuses them. Before parsing,
each such reference outside comments, CDATA and processing instructions becomes a processing
instruction with a per-call random target; after parsing, those fold back into the text.
Nothing else changes: any other ill-formed document is still MalformedXML.

Writing produces what OSS puts on the wire: a declaration line, then one element per line indented
by two spaces, and a final newline (reference §2.5). The writer never produces ill-formed XML: a
character XML 1.0 cannot carry (C0 controls but tab/LF/CR, lone surrogates, U+FFFE/U+FFFF) is
refused (``UnwritableXmlError``; a listing then asks for ``encoding-type=url``, as OSS's own
documentation does) or, with ``replace=True`` (error documents, which echo client input),
written as U+FFFD REPLACEMENT CHARACTER.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Union

from ossutil.wire.errors import OssError

if TYPE_CHECKING:
    from xml.etree.ElementTree import Element

DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'

# A tree to emit: (tag, text) for a leaf, (tag, [children]) for a container.
Node = tuple[str, Union[str, "list[Node]"]]

# What XML 1.0 cannot carry (§2.2 Char): C0 controls other than tab, LF, CR; surrogates;
# U+FFFE and U+FFFF.
_UNWRITABLE = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
REPLACEMENT = "\ufffd"

# The starts of comments, CDATA sections and PIs (skipped to their ends), and decimal or hex
# character references (captured; lengths bounded, so a huge numeral is never converted).
_REFERENCE = re.compile(rb"<!--|<!\[CDATA\[|<\?|&#(?:x([0-9A-Fa-f]{1,8})|([0-9]{1,10}));")
_SKIP_TO = {b"<!--": b"-->", b"<![CDATA[": b"]]>", b"<?": b"?>"}
_ALLOWED_CONTROLS = (0x09, 0x0A, 0x0D)


class UnwritableXmlError(ValueError):
    """A value holds a character XML 1.0 cannot carry."""


def parse(body: bytes) -> Element:
    """Parse ``body`` into an Element, refusing DTDs and entities; errors are MalformedXML.
    Character references to C0 controls decode to the control (see the module docstring)."""
    import defusedxml.ElementTree as safe_et
    from defusedxml import DefusedXmlException

    try:
        translated, target = _control_references(body)
        if target is None:
            root: Element = safe_et.fromstring(body, forbid_dtd=True, forbid_entities=True,
                                               forbid_external=True)
            return root
        from xml.etree.ElementTree import TreeBuilder

        parser = safe_et.DefusedXMLParser(target=TreeBuilder(insert_pis=True), forbid_dtd=True,
                                          forbid_entities=True, forbid_external=True)
        parser.feed(translated)
        root = parser.close()
        _fold_references(root, target)
        return root
    except (DefusedXmlException, SyntaxError, ValueError, TypeError, LookupError) as exc:
        # LookupError: an unknown or non-text codec named in the declaration (encoding="hex").
        raise OssError.from_code("MalformedXML") from exc


def _control_references(body: bytes) -> tuple[bytes, str | None]:
    """``body`` with each C0-control character reference in text turned into ``<?T n?>`` (T a
    fresh random target), and T; ``(body, None)`` when there is none."""
    if b"&#" not in body:
        return body, None
    target = "ossutil-char-" + os.urandom(8).hex()
    pieces: list[bytes] = []
    done = 0  # body[:done] is in pieces
    position = 0
    while (match := _REFERENCE.search(body, position)) is not None:
        end = _SKIP_TO.get(match.group(0))
        if end is not None:  # a comment, CDATA section or PI: left as written
            close = body.find(end, match.end())
            if close < 0:
                break  # unterminated: expat refuses the document anyway
            position = close + len(end)
            continue
        position = match.end()
        hex_digits, decimal = match.group(1), match.group(2)
        code = int(hex_digits, 16) if hex_digits is not None else int(decimal)
        if code >= 0x20 or code in _ALLOWED_CONTROLS:
            continue  # plain XML 1.0 (or refused by expat, as OSS refuses it)
        pieces += [body[done:match.start()], f"<?{target} {code}?>".encode("ascii")]
        done = position
    if not pieces:
        return body, None
    pieces.append(body[done:])
    return b"".join(pieces), target


def _fold_references(element: Element, target: str) -> None:
    """Replace the processing instructions under ``element`` by the text they stand for (ours)
    or by nothing (a client's, which the plain parser drops too), keeping the text around."""
    kept: list[Element] = []
    text = element.text or ""
    for node in list(element):
        if not isinstance(node.tag, str):  # ElementTree's ProcessingInstruction factory
            name, _, data = (node.text or "").partition(" ")
            piece = chr(int(data)) if name == target else ""
            piece += node.tail or ""
            if kept:
                kept[-1].tail = (kept[-1].tail or "") + piece
            else:
                text += piece
            continue
        _fold_references(node, target)
        kept.append(node)
    element[:] = kept
    element.text = text or None


def local_name(tag: str) -> str:
    """Strip a ``{namespace}`` prefix: OSS and the SDKs ignore namespaces."""
    return tag.rsplit("}", 1)[-1]


def child(parent: Element, name: str) -> Element | None:
    """The first child named ``name`` (namespace ignored), or None."""
    for element in parent:
        if local_name(element.tag) == name:
            return element
    return None


def children(parent: Element, name: str) -> list[Element]:
    """Every child named ``name`` (namespace ignored), in document order."""
    return [element for element in parent if local_name(element.tag) == name]


def text(parent: Element, name: str) -> str | None:
    """Text of the first child named ``name``; "" for an empty element; None when absent."""
    element = child(parent, name)
    if element is None:
        return None
    return element.text or ""


def escape(value: str) -> str:
    """Escape element text. ``\\r`` is written as a character reference so it survives parsing."""
    return (value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace("\r", "&#13;"))


def check_xml_text(value: str) -> str:
    """Refuse characters XML 1.0 cannot carry (controls other than tab, LF, CR; surrogates;
    U+FFFE, U+FFFF) with ``UnwritableXmlError``."""
    bad = _UNWRITABLE.search(value)
    if bad is not None:
        raise UnwritableXmlError(f"character U+{ord(bad.group()):04X} cannot be written in XML")
    return value


def writable(value: str) -> str:
    """``value`` with every character XML 1.0 cannot carry replaced by U+FFFD."""
    return _UNWRITABLE.sub(REPLACEMENT, value)


def emit(root: Node, *, declaration: bool = True, indent: str = "  ",
         replace: bool = False) -> bytes:
    """Serialise a Node tree the way OSS does (declaration, indented, trailing newline).
    A character XML cannot carry raises ``UnwritableXmlError``, or with ``replace`` becomes
    U+FFFD; the result is always well-formed UTF-8."""
    lines: list[str] = []
    _emit(root, 0, indent, lines, writable if replace else check_xml_text)
    out = (DECLARATION if declaration else "") + "\n".join(lines) + "\n"
    return out.encode("utf-8")


def _emit(node: Node, depth: int, indent: str, lines: list[str],
          clean: Callable[[str], str]) -> None:
    tag, content = node
    pad = indent * depth
    if isinstance(content, str):
        lines.append(f"{pad}<{tag}>{escape(clean(content))}</{tag}>")
        return
    lines.append(f"{pad}<{tag}>")
    for sub in content:
        _emit(sub, depth + 1, indent, lines, clean)
    lines.append(f"{pad}</{tag}>")


def emit_compact(root: Node) -> bytes:
    """Serialise without declaration or whitespace, as the SDKs send request bodies."""
    return "".join(_compact(root)).encode("utf-8")


def _compact(node: Node) -> Iterable[str]:
    tag, content = node
    yield f"<{tag}>"
    if isinstance(content, str):
        yield escape(check_xml_text(content))
    else:
        for sub in content:
            yield from _compact(sub)
    yield f"</{tag}>"
