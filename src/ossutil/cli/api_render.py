"""Tree formats for ``ossutil api``: XML <-> nested dicts, and the JSON, YAML and XML renderings.

ossutil 2.0 turns a response body into a map before rendering it (reference ``ossutil-cli.md``
§16); this module is that step, done the same way for every operation:

- ``xml_to_tree``: the root element's name is dropped; each child element becomes a key; an
  element with children becomes a dict, a leaf becomes its text (``""`` when empty); an element
  name that occurs more than once under the same parent becomes a list, in document order (one
  occurrence stays a single value, as a map-based converter does). Namespaces and attributes are
  ignored; mixed text around child elements is dropped.
- ``to_json``: two-space indent, keys sorted (Go ``map`` order), non-ASCII kept, final newline.
- ``to_yaml``: block style written here (no PyYAML): ``key: value``, nested maps indented two
  spaces, list items as ``- `` under their key; a string is double-quoted when YAML would read it
  as something else (empty, a number, a bool/null word, a date, leading/trailing space, an
  indicator character, ``: `` or `` #`` inside, control characters). Keys sorted.
- ``to_xml``: the tree under ``<root>`` (2.0 renames the root "when converting to XML"), two-space
  indent, keys sorted, Go's text escaping, no declaration, final newline.

``tree_to_request_xml`` goes the other way for request bodies (``--cname-configuration`` given as
JSON): keys in the order given, lists as repeated elements, ``true``/``false`` for booleans,
compact, as the SDKs send bodies.

Pure functions over strings; nothing here does I/O. ``xml_to_tree`` raises ``ValueError`` on a
body that is not well-formed XML.
"""

from __future__ import annotations

import re

from ossutil.client.gocompat import go_escape_text

TYPE_CHECKING = False  # typing is not imported at run time (start-up cost)
if TYPE_CHECKING:
    from xml.etree.ElementTree import Element

INDENT = "  "


# --- XML -> tree ---------------------------------------------------------------------------------


def xml_root(body: bytes) -> Element:
    """Parse ``body`` safely (no DTD, no entities); ``ValueError`` when it is not XML."""
    from ossutil.wire import xml
    from ossutil.wire.errors import OssError

    try:
        return xml.parse(body)
    except OssError as error:
        raise ValueError("the body is not well-formed XML") from error


def local_name(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def element_to_tree(element: Element) -> object:
    """A leaf's text, or a dict of its children (repeated names -> lists)."""
    children = list(element)
    if not children:
        return element.text or ""
    result: dict[str, object] = {}
    repeated: set[str] = set()
    for child in children:
        name = local_name(child.tag)
        value = element_to_tree(child)
        if name not in result:
            result[name] = value
        elif name in repeated:
            result[name].append(value)  # type: ignore[attr-defined]
        else:
            result[name] = [result[name], value]
            repeated.add(name)
    return result


def xml_to_tree(body: bytes) -> object:
    """The response body as a tree, the root element's name dropped."""
    return element_to_tree(xml_root(body))


# --- tree -> JSON / YAML / XML -------------------------------------------------------------------


def to_json(tree: object) -> str:
    import json

    return json.dumps(tree, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


_PLAIN_UNSAFE_START = set("-?:,[]{}#&*!|>'\"%@`")
_SPECIAL_WORDS = {"", "~", "null", "true", "false", "yes", "no", "on", "off", "y", "n"}
_NUMBER = re.compile(r"[-+]?(\.[0-9]+|[0-9][0-9_]*(\.[0-9_]*)?)([eE][-+]?[0-9]+)?$"
                     r"|[-+]?0[xX][0-9a-fA-F_]+$|[-+]?0[oO]?[0-7_]+$|[-+]?0[bB][01_]+$"
                     r"|[-+]?\.(inf|Inf|INF)$|\.(nan|NaN|NAN)$|[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+$")
_DATE = re.compile(r"[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}([Tt ].*)?$")


def yaml_scalar(text: str) -> str:
    """``text`` plain when YAML reads it back as the same string, else double-quoted."""
    if _needs_quotes(text):
        import json

        return json.dumps(text, ensure_ascii=False)  # a JSON string is a valid YAML one
    return text


def _needs_quotes(text: str) -> bool:
    if text.lower() in _SPECIAL_WORDS or text != text.strip():
        return True
    if text[0] in _PLAIN_UNSAFE_START or _NUMBER.match(text) or _DATE.match(text):
        return True
    if ": " in text or " #" in text or text.endswith(":"):
        return True
    return any(ord(ch) < 0x20 or ord(ch) == 0x7F or ch in "\u2028\u2029\ufeff" for ch in text)


def to_yaml(tree: object) -> str:
    lines = _yaml_lines(tree, 0)
    return "\n".join(lines) + "\n" if lines else ""


def _yaml_lines(value: object, depth: int) -> list[str]:
    pad = INDENT * depth
    if isinstance(value, dict):
        if not value:
            return [pad + "{}"]
        lines: list[str] = []
        for key in sorted(value):
            item = value[key]
            name = yaml_scalar(str(key))
            if isinstance(item, dict | list) and item:
                lines.append(f"{pad}{name}:")
                lines.extend(_yaml_lines(item, depth + 1))
            else:
                lines.append(f"{pad}{name}: {_yaml_inline(item)}")
        return lines
    if isinstance(value, list):
        if not value:
            return [pad + "[]"]
        lines = []
        for item in value:
            if isinstance(item, dict | list) and item:
                nested = _yaml_lines(item, depth + 1)
                # the first line of the nested block moves up onto the dash
                nested[0] = f"{pad}- {nested[0][len(pad) + len(INDENT):]}"
                lines.extend(nested)
            else:
                lines.append(f"{pad}- {_yaml_inline(item)}")
        return lines
    return [pad + _yaml_inline(value)]


def _yaml_inline(value: object) -> str:
    if isinstance(value, dict):
        return "{}"
    if isinstance(value, list):
        return "[]"
    return yaml_scalar(str(value))


def to_xml(tree: object, root: str = "root") -> str:
    lines: list[str] = []
    _xml_lines(root, tree, 0, lines)
    return "\n".join(lines) + "\n"


def _xml_lines(name: str, value: object, depth: int, lines: list[str]) -> None:
    pad = INDENT * depth
    if isinstance(value, list):
        for item in value:
            _xml_lines(name, item, depth, lines)
        return
    if isinstance(value, dict):
        if not value:
            lines.append(f"{pad}<{name}></{name}>")
            return
        lines.append(f"{pad}<{name}>")
        for key in sorted(value):
            _xml_lines(str(key), value[key], depth + 1, lines)
        lines.append(f"{pad}</{name}>")
        return
    lines.append(f"{pad}<{name}>{go_escape_text(str(value))}</{name}>")


# --- tree -> request body ------------------------------------------------------------------------

_XML_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]*$")


def tree_to_request_xml(root: str, tree: object) -> bytes:
    """A request body from a JSON value: ``<root>...</root>``, compact, keys in given order.

    ``ValueError`` for a key that cannot be an element name.
    """
    parts: list[str] = []
    _request_parts(root, tree, parts)
    return "".join(parts).encode("utf-8")


def _request_parts(name: str, value: object, parts: list[str]) -> None:
    if not _XML_NAME.match(name):
        raise ValueError(f"{name!r} cannot be an XML element name")
    if isinstance(value, list):
        for item in value:
            _request_parts(name, item, parts)
        return
    parts.append(f"<{name}>")
    if isinstance(value, dict):
        for key, item in value.items():
            _request_parts(str(key), item, parts)
    else:
        parts.append(go_escape_text(_json_scalar(value)))
    parts.append(f"</{name}>")


def _json_scalar(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    import json

    return json.dumps(value)
