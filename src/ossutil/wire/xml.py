"""Safe XML parsing and OSS-style XML writing.

Parsing goes through ``defusedxml`` with DTDs forbidden, so neither entity expansion ("billion
laughs") nor external entities can happen; anything that is not a well-formed, DTD-free document
becomes ``OssError("MalformedXML")``.

Writing produces what OSS puts on the wire: a declaration line, then one element per line indented
by two spaces, and a final newline (reference §2.5).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Union

from ossutil.wire.errors import OssError

if TYPE_CHECKING:
    from xml.etree.ElementTree import Element

DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'

# A tree to emit: (tag, text) for a leaf, (tag, [children]) for a container.
Node = tuple[str, Union[str, "list[Node]"]]


def parse(body: bytes) -> Element:
    """Parse ``body`` into an Element, refusing DTDs and entities; errors are MalformedXML."""
    import defusedxml.ElementTree as safe_et
    from defusedxml import DefusedXmlException

    try:
        root: Element = safe_et.fromstring(body, forbid_dtd=True, forbid_entities=True,
                                           forbid_external=True)
        return root
    except (DefusedXmlException, SyntaxError, ValueError, TypeError, LookupError) as exc:
        # LookupError: an unknown or non-text codec named in the declaration (encoding="hex").
        raise OssError.from_code("MalformedXML") from exc


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
    """Refuse characters XML 1.0 cannot carry (controls other than tab, LF, CR; surrogates)."""
    for ch in value:
        code = ord(ch)
        if (code < 0x20 and ch not in "\t\n\r") or 0xD800 <= code <= 0xDFFF or code in (
            0xFFFE, 0xFFFF
        ):
            raise ValueError(f"character U+{code:04X} cannot be written in XML")
    return value


def emit(root: Node, *, declaration: bool = True, indent: str = "  ") -> bytes:
    """Serialise a Node tree the way OSS does (declaration, indented, trailing newline)."""
    lines: list[str] = []
    _emit(root, 0, indent, lines)
    out = (DECLARATION if declaration else "") + "\n".join(lines) + "\n"
    return out.encode("utf-8")


def _emit(node: Node, depth: int, indent: str, lines: list[str]) -> None:
    tag, content = node
    pad = indent * depth
    if isinstance(content, str):
        lines.append(f"{pad}<{tag}>{escape(check_xml_text(content))}</{tag}>")
        return
    lines.append(f"{pad}<{tag}>")
    for sub in content:
        _emit(sub, depth + 1, indent, lines)
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
