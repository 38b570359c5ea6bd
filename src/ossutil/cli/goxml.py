"""Just enough of Go's ``encoding/xml`` to decode what ossutil decodes, with Go's error texts.

ossutil 1.7 re-serialises token replies and reads ``<Error>`` bodies through Go's decoder, and
prints that decoder's messages (``XML syntax error on line 3: unexpected EOF``, ``expected element
type <CnameToken> but have <Error>``, ``EOF``). Python's XML parsers word (and sometimes judge)
things differently, so the CLI uses this small decoder instead; it imports nothing, which also
keeps the CLI's start-up light.

    >>> record = unmarshal(b'<?xml version="1.0"?><CnameToken><Token>t</Token></CnameToken>',
    ...                    "CnameToken", ("Bucket", "Token"))
    >>> record
    {'Bucket': '', 'Token': 't'}
    >>> marshal_indent("CnameToken", [("Token", "t&1")])
    '<CnameToken>\\n <Token>t&amp;1</Token>\\n</CnameToken>'

Scope: Strict mode, no custom entities, no charset readers (only UTF-8), namespaces reduced to
local names (what ``Unmarshal`` compares when the struct tags carry no namespace).
"""

from __future__ import annotations

from collections.abc import Sequence

from ossutil.client.gocompat import go_escape_text

_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "apos": "'", "quot": '"'}


class GoXmlError(Exception):
    """A decode failure; ``str()`` is Go's ``error.Error()`` text."""


def _syntax(line: int, message: str) -> GoXmlError:
    return GoXmlError(f"XML syntax error on line {line}: {message}")


class _Decoder:
    """A token reader following ``encoding/xml.Decoder`` (Strict) closely enough."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0
        self.line = 1
        self.stack: list[str] = []
        self._pending_end: str | None = None

    # low level ------------------------------------------------------------------------------

    def _eof(self) -> GoXmlError:
        return _syntax(self.line, "unexpected EOF")

    def _getc(self) -> int:
        if self.pos >= len(self.data):
            raise self._eof()
        byte = self.data[self.pos]
        self.pos += 1
        if byte == 0x0A:
            self.line += 1
        return byte

    def _ungetc(self, byte: int) -> None:
        self.pos -= 1
        if byte == 0x0A:
            self.line -= 1

    def _space(self) -> None:
        while self.pos < len(self.data) and self.data[self.pos] in b" \r\n\t":
            self._getc()

    @staticmethod
    def _is_name_byte(byte: int) -> bool:
        return byte >= 0x80 or chr(byte).isascii() and (chr(byte).isalnum() or byte in b"_:.-")

    def _name(self) -> str:
        """Go's ``name()``: name bytes, then ``invalid XML name`` unless it starts right."""
        start = self.pos
        while True:
            if self.pos >= len(self.data):
                raise self._eof()
            if not self._is_name_byte(self.data[self.pos]):
                break
            self.pos += 1
        raw = self.data[start:self.pos]
        if not raw:
            return ""
        name = raw.decode("utf-8", "replace")
        if not (name[0].isalpha() or name[0] in "_:"):
            raise _syntax(self.line, f"invalid XML name: {name}")
        return name

    @staticmethod
    def _local(name: str) -> str:
        return name.rsplit(":", 1)[-1] if ":" in name else name

    def _check_chars(self, text: bytes, line: int) -> str:
        try:
            decoded = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise _syntax(line, "invalid UTF-8") from exc
        for ch in decoded:
            code = ord(ch)
            if not (code in (0x09, 0x0A, 0x0D) or 0x20 <= code <= 0xD7FF
                    or 0xE000 <= code <= 0xFFFD or 0x10000 <= code <= 0x10FFFF):
                raise _syntax(line, f"illegal character code U+{code:04X}")
        return decoded

    def _text(self, until_cdata: bool = False) -> str:
        """Character data up to ``<`` (or ``]]>`` for CDATA), entities decoded."""
        out: list[str] = []
        chunk = bytearray()
        while True:
            if self.pos >= len(self.data):
                if until_cdata:
                    raise self._eof()
                break
            byte = self.data[self.pos]
            if until_cdata and self.data.startswith(b"]]>", self.pos):
                self.pos += 3
                break
            if not until_cdata and byte == 0x3C:  # '<'
                break
            self._getc()
            if byte == 0x26 and not until_cdata:  # '&'
                out.append(self._check_chars(bytes(chunk), self.line))
                chunk.clear()
                out.append(self._entity())
                continue
            if byte == 0x0D:  # \r\n and lone \r become \n
                if self.pos < len(self.data) and self.data[self.pos] == 0x0A:
                    continue
                byte = 0x0A
            chunk.append(byte)
        out.append(self._check_chars(bytes(chunk), self.line))
        return "".join(out)

    def _entity(self) -> str:
        """After ``&``: Go's ``text()`` entity rules, Strict mode, no custom entities."""
        start = self.pos - 1  # at '&'
        data = self.data
        text: str | None = None
        if self.pos < len(data) and data[self.pos] == 0x23:  # '#'
            self.pos += 1
            base = 10
            if self.pos < len(data) and data[self.pos] == 0x78:  # 'x' (lower case only)
                base = 16
                self.pos += 1
            digits_start = self.pos
            allowed = b"0123456789abcdefABCDEF" if base == 16 else b"0123456789"
            while self.pos < len(data) and data[self.pos] in allowed:
                self.pos += 1
            digits = data[digits_start:self.pos]
            if self.pos < len(data) and data[self.pos] == 0x3B:  # ';'
                self.pos += 1
                if digits and int(digits, base) <= 0x10FFFF:
                    code = int(digits, base)
                    text = "\ufffd" if 0xD800 <= code <= 0xDFFF else chr(code)
        else:
            name = ""
            if self.pos < len(data) and self._is_name_byte(data[self.pos]):
                name_start = self.pos
                while self.pos < len(data) and self._is_name_byte(data[self.pos]):
                    self.pos += 1
                name = data[name_start:self.pos].decode("utf-8", "replace")
            if self.pos >= len(data):
                raise self._eof()
            if data[self.pos] == 0x3B:
                self.pos += 1
                text = _ENTITIES.get(name)
        if text is not None:
            self._check_chars(text.encode("utf-8"), self.line)
            return text
        entity = data[start:self.pos].decode("utf-8", "replace")
        if not entity.endswith(";"):
            entity += " (no semicolon)"
        raise _syntax(self.line, f"invalid character entity {entity}")

    # tokens ---------------------------------------------------------------------------------

    def token(self) -> tuple[str, str] | None:
        """Next token as (kind, name-or-text): start/end/text/other; None at clean EOF."""
        if self.pos >= len(self.data):
            if self.stack:
                raise self._eof()
            return None
        if self.data[self.pos] != 0x3C:
            return ("text", self._text())
        self._getc()  # '<'
        byte = self._getc()
        if byte == 0x2F:  # '/'
            name = self._name()
            if not name:
                raise _syntax(self.line, "expected element name after </")
            self._space()
            if self._getc() != 0x3E:
                raise _syntax(self.line, f"invalid characters between </{name} and >")
            if not self.stack:
                raise _syntax(self.line, f"unexpected end element </{name}>")
            opened = self.stack.pop()
            if opened != name:
                raise _syntax(self.line, f"element <{opened}> closed by </{name}>")
            return ("end", self._local(name))
        if byte == 0x3F:  # '?'
            target = self._name()
            if not target:
                raise _syntax(self.line, "expected target name after <?")
            body = bytearray()
            while True:
                ch = self._getc()
                if ch == 0x3F and self.pos < len(self.data) and self.data[self.pos] == 0x3E:
                    self._getc()
                    break
                body.append(ch)
            if target == "xml":
                self._check_declaration(body.decode("utf-8", "replace"))
            return ("other", "")
        if byte == 0x21:  # '!'
            return self._bang()
        self._ungetc(byte)
        name = self._name()
        if not name:
            raise _syntax(self.line, "expected element name after <")
        while True:
            self._space()
            ch = self._getc()
            if ch == 0x2F:
                if self._getc() != 0x3E:
                    raise _syntax(self.line, "expected /> in element")
                self.stack.append(name)
                self._pending_end = name
                return ("start_empty", self._local(name))
            if ch == 0x3E:
                self.stack.append(name)
                return ("start", self._local(name))
            self._ungetc(ch)
            attr = self._name()
            if not attr:
                raise _syntax(self.line, "expected attribute name in element")
            self._space()
            if self._getc() != 0x3D:
                raise _syntax(self.line, "attribute name without = in element")
            self._space()
            quote = self._getc()
            if quote not in (0x22, 0x27):
                raise _syntax(self.line, "unquoted or missing attribute value in element")
            while self._getc() != quote:
                pass

    def _bang(self) -> tuple[str, str]:
        if self.pos < len(self.data) and self.data[self.pos] == 0x2D:  # '<!-'
            self._getc()
            if self._getc() != 0x2D:
                raise _syntax(self.line, "invalid sequence <!- not part of <!--")
            b0 = b1 = 0
            while True:
                byte = self._getc()
                if b0 == 0x2D and b1 == 0x2D:
                    if byte != 0x3E:
                        raise _syntax(self.line, 'invalid sequence "--" not allowed in comments')
                    break
                b0, b1 = b1, byte
            return ("other", "")
        if self.data.startswith(b"[CDATA[", self.pos):
            self.pos += 7
            return ("text", self._text(until_cdata=True))
        depth = 1  # a directive such as <!DOCTYPE ...>, nested < > allowed
        while depth:
            ch = self._getc()
            if ch == 0x3C:
                depth += 1
            elif ch == 0x3E:
                depth -= 1
        return ("other", "")

    @staticmethod
    def _check_declaration(content: str) -> None:
        def attr(name: str) -> str:
            index = content.find(name + "=")
            if index < 0:
                return ""
            rest = content[index + len(name) + 1:]
            if not rest or rest[0] not in "'\"":
                return ""
            end = rest.find(rest[0], 1)
            return rest[1:end] if end > 0 else ""

        version = attr("version")
        if version and version != "1.0":
            raise GoXmlError(f'xml: unsupported version "{version}"; only version 1.0 is '
                             "supported")
        encoding = attr("encoding")
        if encoding and encoding.lower() != "utf-8":
            raise GoXmlError(f'xml: encoding "{encoding}" declared but Decoder.CharsetReader '
                             "is nil")

    def next(self) -> tuple[str, str] | None:
        pending = self._pending_end
        if pending is not None:
            self._pending_end = None
            self.stack.pop()
            return ("end", self._local(pending))
        token = self.token()
        if token is not None and token[0] == "start_empty":
            return ("start", token[1])
        return token


def _open_root(data: bytes, root: str) -> _Decoder:
    """A decoder past the first start element, which must be ``root`` (namespace ignored)."""
    decoder = _Decoder(data)
    while True:
        token = decoder.next()
        if token is None:
            raise GoXmlError("EOF")
        if token[0] == "end":
            raise _syntax(decoder.line, f"unexpected end element </{token[1]}>")
        if token[0] == "start":
            break
    if token[1] != root:
        raise GoXmlError(f"expected element type <{root}> but have <{token[1]}>")
    return decoder


def unmarshal(data: bytes, root: str, fields: Sequence[str]) -> dict[str, str]:
    """``xml.Unmarshal`` into a struct named ``root`` with string fields ``fields``.

    The first element must be ``root`` (namespace ignored); each field takes the direct
    character data of the last child element with that local name; other children are skipped.
    """
    decoder = _open_root(data, root)
    record = dict.fromkeys(fields, "")
    depth = 0
    current: str | None = None
    parts: list[str] = []
    while True:
        token = decoder.next()
        if token is None:
            raise decoder._eof()
        kind, value = token
        if kind == "start":
            depth += 1
            if depth == 1 and value in record:
                current, parts = value, []
        elif kind == "end":
            if depth == 0:
                return record
            if depth == 1 and current is not None:
                record[current] = "".join(parts)
                current = None
            depth -= 1
        elif kind == "text" and depth == 1 and current is not None:
            parts.append(value)


def marshal_indent(root: str, fields: Sequence[tuple[str, str]]) -> str:
    """``xml.MarshalIndent(v, "", " ")`` of a flat struct with ``omitempty`` string fields."""
    children = [f" <{name}>{go_escape_text(value)}</{name}>" for name, value in fields if value]
    if not children:
        return f"<{root}></{root}>"
    return f"<{root}>\n" + "\n".join(children) + f"\n</{root}>"


# --- structs: xml.Unmarshal / xml.MarshalIndent of a Go SDK type ------------------------------
# The commands that re-serialise a reply or a local file (``cors``, ``referer``) decode into the
# Go SDK's struct and marshal it back, so what they print depends on the struct's shape: unknown
# elements vanish, fields come out in declaration order, ints and bools are re-spelled, and a bad
# value fails with strconv's message. ``GoStruct`` describes such a type; values are plain dicts.


class GoField:
    """A struct field: its element name and Go type.

    ``kind``: ``string``, ``strings`` ([]string), ``int`` (int64), ``bool``, ``*bool``,
    ``struct`` (a value: always marshalled), ``*struct`` (``omitempty``) or ``structs``.
    """

    __slots__ = ("name", "kind", "struct")

    def __init__(self, name: str, kind: str, struct: GoStruct | None = None) -> None:
        self.name = name
        self.kind = kind
        self.struct = struct


class GoStruct:
    """A Go struct type: the element name it marshals as, and its fields in order."""

    def __init__(self, name: str, fields: Sequence[GoField]) -> None:
        self.name = name
        self.fields = tuple(fields)
        self.by_name = {field.name: field for field in self.fields}

    def zero(self) -> dict[str, object]:
        """The zero value (``T{}``)."""
        values: dict[str, object] = {}
        for field in self.fields:
            kind = field.kind
            if kind == "string":
                values[field.name] = ""
            elif kind in ("strings", "structs"):
                values[field.name] = []
            elif kind == "int":
                values[field.name] = 0
            elif kind == "bool":
                values[field.name] = False
            elif kind == "struct":
                assert field.struct is not None
                values[field.name] = field.struct.zero()
            else:  # pointers
                values[field.name] = None
        return values


def unmarshal_struct(data: bytes, struct: GoStruct) -> dict[str, object]:
    """``xml.Unmarshal(data, &v)`` for ``struct``: the root must have its name (namespace
    ignored); values are converted as each element ends, so the first bad one is the error."""
    decoder = _open_root(data, struct.name)
    value = struct.zero()
    _decode_into(decoder, struct, value)
    return value


def _decode_into(decoder: _Decoder, struct: GoStruct, value: dict[str, object]) -> None:
    """The children of the element just started, until its end."""
    while True:
        token = decoder.next()
        if token is None:
            raise decoder._eof()
        kind, name = token
        if kind == "end":
            return
        if kind != "start":
            continue
        field = struct.by_name.get(name)
        if field is None:
            _skip(decoder)
        elif field.kind == "structs":
            assert field.struct is not None
            item = field.struct.zero()
            _decode_into(decoder, field.struct, item)
            value[field.name].append(item)  # type: ignore[attr-defined]
        elif field.kind in ("struct", "*struct"):
            assert field.struct is not None
            target = value[field.name]
            if target is None:
                target = value[field.name] = field.struct.zero()
            _decode_into(decoder, field.struct, target)  # type: ignore[arg-type]
        else:
            text = _chardata(decoder)
            if field.kind == "strings":
                value[field.name].append(text)  # type: ignore[attr-defined]
            elif field.kind == "string":
                value[field.name] = text
            elif field.kind == "int":
                value[field.name] = parse_int(text) if text else 0
            else:  # bool, *bool
                value[field.name] = parse_bool(text) if text else False


def _skip(decoder: _Decoder) -> None:
    """``Decoder.Skip``: everything up to the end of the element just started."""
    depth = 1
    while depth:
        token = decoder.next()
        if token is None:
            raise decoder._eof()
        if token[0] == "start":
            depth += 1
        elif token[0] == "end":
            depth -= 1


def _chardata(decoder: _Decoder) -> str:
    """The element's own character data (CDATA included); nested elements are skipped."""
    parts: list[str] = []
    while True:
        token = decoder.next()
        if token is None:
            raise decoder._eof()
        if token[0] == "end":
            return "".join(parts)
        if token[0] == "start":
            _skip(decoder)
        elif token[0] == "text":
            parts.append(token[1])


_GO_SPACE = " \t\n\v\f\r\x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008" \
            "\u2009\u200a\u2028\u2029\u202f\u205f\u3000"


def go_quote(text: str) -> str:
    """``strconv.Quote`` for the texts strconv's errors show."""
    out = ['"']
    for ch in text:
        code = ord(ch)
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch in "\a\b\f\n\r\t\v":
            out.append("\\" + "abfnrtv"["\a\b\f\n\r\t\v".index(ch)])
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\x{code:02x}")
        elif ch.isprintable():
            out.append(ch)
        elif code < 0x10000:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    return "".join(out) + '"'


def parse_int(text: str) -> int:
    """``strconv.ParseInt(strings.TrimSpace(text), 10, 64)`` with Go's error texts."""
    trimmed = text.strip(_GO_SPACE)
    digits = trimmed[1:] if trimmed[:1] in ("+", "-") else trimmed
    if not digits or not all("0" <= ch <= "9" for ch in digits):
        raise GoXmlError(f"strconv.ParseInt: parsing {go_quote(trimmed)}: invalid syntax")
    number = int(trimmed)
    if not -2**63 <= number < 2**63:
        raise GoXmlError(f"strconv.ParseInt: parsing {go_quote(trimmed)}: value out of range")
    return number


def parse_bool(text: str) -> bool:
    """``strconv.ParseBool(strings.TrimSpace(text))`` with Go's error text."""
    trimmed = text.strip(_GO_SPACE)
    if trimmed in ("1", "t", "T", "TRUE", "true", "True"):
        return True
    if trimmed in ("0", "f", "F", "FALSE", "false", "False"):
        return False
    raise GoXmlError(f"strconv.ParseBool: parsing {go_quote(trimmed)}: invalid syntax")


def marshal_struct(struct: GoStruct, value: dict[str, object], prefix: str = "",
                   indent: str = "") -> str:
    """``xml.Marshal`` (no ``prefix``/``indent``) or ``xml.MarshalIndent`` of ``value``.

    Fields in declaration order; ``[]`` fields one element per item, none when empty; a nil
    pointer is omitted; an element without content is ``<X></X>`` on one line.
    """
    out: list[str] = []
    _marshal(struct.name, struct, value, 0, prefix, indent, out)
    return "".join(out)


def _marshal(name: str, struct: GoStruct, value: dict[str, object], depth: int, prefix: str,
             indent: str, out: list[str]) -> None:
    pretty = bool(prefix or indent)

    def newline(level: int) -> None:
        if pretty:
            if out:
                out.append("\n")
            out.append(prefix + indent * level)

    newline(depth)
    out.append(f"<{name}>")
    children = False
    for field in struct.fields:
        item = value[field.name]
        if field.kind in ("struct", "*struct", "structs"):
            assert field.struct is not None
            items: list[dict[str, object]] = (
                item if isinstance(item, list) else [item] if isinstance(item, dict) else [])
            for sub in items:
                _marshal(field.name, field.struct, sub, depth + 1, prefix, indent, out)
                children = True
            continue
        if isinstance(item, list):  # []string
            texts = [go_escape_text(text) for text in item]
        elif item is None:  # a nil *bool
            texts = []
        elif isinstance(item, bool):
            texts = ["true" if item else "false"]
        elif isinstance(item, int):
            texts = [str(item)]
        else:
            texts = [go_escape_text(str(item))]
        for text in texts:
            newline(depth + 1)
            out.append(f"<{field.name}>{text}</{field.name}>")
            children = True
    if children:
        newline(depth)
    out.append(f"</{name}>")
