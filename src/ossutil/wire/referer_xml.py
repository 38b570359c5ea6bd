"""RefererConfiguration (PutBucketReferer's body, GetBucketReferer's answer) <-> dataclass.

``referer_list`` is always written (``<RefererList></RefererList>`` when empty, as oss2 sends
it); ``allow_truncate_query_string``, ``truncate_path`` and ``referer_blacklist`` are None when
absent. ``AllowEmptyReferer`` is required in a request (OSS's documentation; MalformedXML
without it). A bucket that never had a configuration answers ``DEFAULT`` (every referer
allowed): OSS has no DeleteBucketReferer; clearing the lists is how hotlink protection is
turned off.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ossutil.wire import codec, xml
from ossutil.wire.website_xml import single, single_flag

if TYPE_CHECKING:
    from xml.etree.ElementTree import Element

ROOT = "RefererConfiguration"


@dataclass(frozen=True)
class RefererConfiguration:
    allow_empty_referer: bool = True
    allow_truncate_query_string: bool | None = None
    truncate_path: bool | None = None
    referer_list: tuple[str, ...] = ()
    referer_blacklist: tuple[str, ...] | None = None


DEFAULT = RefererConfiguration(allow_empty_referer=True, allow_truncate_query_string=True,
                               truncate_path=False)


def _list_node(tag: str, referers: tuple[str, ...]) -> xml.Node:
    if not referers:
        return (tag, "")
    return (tag, [("Referer", referer) for referer in referers])


def referer_node(config: RefererConfiguration) -> xml.Node:
    children: list[xml.Node] = [("AllowEmptyReferer", codec.boolean(config.allow_empty_referer))]
    if config.allow_truncate_query_string is not None:
        children.append(("AllowTruncateQueryString",
                         codec.boolean(config.allow_truncate_query_string)))
    if config.truncate_path is not None:
        children.append(("TruncatePath", codec.boolean(config.truncate_path)))
    children.append(_list_node("RefererList", config.referer_list))
    if config.referer_blacklist is not None:
        children.append(_list_node("RefererBlacklist", config.referer_blacklist))
    return (ROOT, children)


def encode_referer_configuration(config: RefererConfiguration, *,
                                 response: bool = False) -> bytes:
    """The request body (compact) or, with ``response``, GetBucketReferer's answer."""
    node = referer_node(config)
    return xml.emit(node) if response else xml.emit_compact(node)


def _referers(parent: Element, name: str) -> tuple[str, ...] | None:
    element = single(parent, name)
    if element is None:
        return None
    values = []
    for referer in xml.children(element, "Referer"):
        if len(referer):
            raise codec.malformed("Referer must hold text")
        values.append(referer.text or "")
    return tuple(values)


def decode_referer_configuration(body: bytes) -> RefererConfiguration:
    """Parse a RefererConfiguration; shape errors and a missing AllowEmptyReferer are
    MalformedXML."""
    root = codec.root(body, ROOT)
    allow_empty = single_flag(root, "AllowEmptyReferer")
    if allow_empty is None:
        raise codec.malformed("missing element AllowEmptyReferer")
    return RefererConfiguration(
        allow_empty_referer=allow_empty,
        allow_truncate_query_string=single_flag(root, "AllowTruncateQueryString"),
        truncate_path=single_flag(root, "TruncatePath"),
        referer_list=_referers(root, "RefererList") or (),
        referer_blacklist=_referers(root, "RefererBlacklist"),
    )
