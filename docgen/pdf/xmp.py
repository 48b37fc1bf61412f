"""The XMP packet: document metadata and plain provenance records of generated regions in, UTF-8 XMP out.

China's 《人工智能生成合成内容标识办法》 (in force 2025-09-01) requires an *implicit* label in the file
metadata of AI-generated or -synthesised content, and its companion mandatory standard GB 45438-2025
(《网络安全技术 人工智能生成合成内容标识方法》) names the fields.  TC260's practice guide carries them
in XMP as one property, ``TC260:AIGC`` in the namespace ``http://www.tc260.org.cn/ns/AIGC/1.0/``,
whose value is a JSON object with the seven elements of the standard's Annex E, in this order:

- ``Label``             1 = AI-generated/synthesised content (2 = possibly, 3 = suspected)
- ``ContentProducer``   name or code of the service provider that generated it
- ``ProduceID``         the provider's unique number for this content
- ``ReservedCode1``     the provider's own protection data (here: sha256 over the pictures' hashes)
- ``ContentPropagator`` name or code of the service that distributes it (empty until one does)
- ``PropagateID``       the distributor's number for it
- ``ReservedCode2``     the distributor's own protection data

Everything else — per region the model, weights revision, seed, prompt hash and path taken — goes in a
docgen namespace.  A region record is a plain mapping (the regions stage makes them:
:func:`docgen.regions.provenance.provenance_records`) with the keys ``region_id``, ``backend``,
``ai_generated`` (bool), ``model``, ``revision``, ``seed``, ``prompt_hash``, ``path``, ``attempts``,
``image_sha256`` and ``overlay_text`` (a dict; empty = none); a missing value is None.  The output is
deterministic: the same records and metadata give the same bytes (no clock is read; pass
``create_date`` in ``doc_meta`` to record one).  :func:`docgen.pdf.finish` attaches the packet as the
document's ``/Metadata`` stream.

For an archival (PDF/A-2b) or accessible (PDF/UA-1) file the packet also carries what those standards
read: the identification (``pdfaid:part``/``conformance``, ``pdfuaid:part``), the Dublin Core and XMP
properties that mirror the document information dictionary, and — PDF/A accepts no property it is not
told about (ISO 19005-2 6.6.2.3) — an extension schema describing the TC260, docgen and pdfuaid properties.
"""
from __future__ import annotations

import hashlib
import json
from typing import Mapping, Sequence
from xml.sax.saxutils import escape

TC260_NS = "http://www.tc260.org.cn/ns/AIGC/1.0/"
DOCGEN_NS = "urn:x-docgen:ns:regions:1/"
AIGC_FIELDS = ("Label", "ContentProducer", "ProduceID", "ReservedCode1", "ContentPropagator", "PropagateID",
               "ReservedCode2")
LABEL_AI_GENERATED = "1"

_NAMESPACES = (
    ("dc", "http://purl.org/dc/elements/1.1/"),
    ("xmp", "http://ns.adobe.com/xap/1.0/"),
    ("pdf", "http://ns.adobe.com/pdf/1.3/"),
    ("TC260", TC260_NS),
    ("docgen", DOCGEN_NS),
    ("pdfaid", "http://www.aiim.org/pdfa/ns/id/"),
    ("pdfuaid", "http://www.aiim.org/pdfua/ns/id/"),
    ("pdfaExtension", "http://www.aiim.org/pdfa/ns/extension/"),
    ("pdfaSchema", "http://www.aiim.org/pdfa/ns/schema#"),
    ("pdfaProperty", "http://www.aiim.org/pdfa/ns/property#"),
    ("pdfaType", "http://www.aiim.org/pdfa/ns/type#"),
    ("pdfaField", "http://www.aiim.org/pdfa/ns/field#"),
)
_REGION_FIELDS = ("RegionID", "Backend", "AIGenerated", "Model", "Revision", "Seed", "PromptHash", "Path",
                  "Attempts", "ImageSHA256", "OverlayText")


def _extension_schemas() -> str:
    """The pdfaExtension description of every property outside PDF/A's predefined schemas."""
    def prop(name, kind, what):
        return (f'<rdf:li rdf:parseType="Resource"><pdfaProperty:name>{name}</pdfaProperty:name>'
                f"<pdfaProperty:valueType>{kind}</pdfaProperty:valueType><pdfaProperty:category>external"
                f"</pdfaProperty:category><pdfaProperty:description>{what}</pdfaProperty:description></rdf:li>")

    def schema(what, uri, prefix, props, types=""):
        return (f'<rdf:li rdf:parseType="Resource"><pdfaSchema:schema>{what}</pdfaSchema:schema>'
                f"<pdfaSchema:namespaceURI>{uri}</pdfaSchema:namespaceURI><pdfaSchema:prefix>{prefix}"
                f"</pdfaSchema:prefix><pdfaSchema:property><rdf:Seq>{props}</rdf:Seq></pdfaSchema:property>"
                f"{types}</rdf:li>")

    fields = "".join(f'<rdf:li rdf:parseType="Resource"><pdfaField:name>{f}</pdfaField:name><pdfaField:valueType>'
                     f"Text</pdfaField:valueType><pdfaField:description>{f}</pdfaField:description></rdf:li>"
                     for f in _REGION_FIELDS)
    region_type = ('<pdfaSchema:valueType><rdf:Seq><rdf:li rdf:parseType="Resource"><pdfaType:type>Region'
                   f"</pdfaType:type><pdfaType:namespaceURI>{DOCGEN_NS}</pdfaType:namespaceURI><pdfaType:prefix>"
                   "docgen</pdfaType:prefix><pdfaType:description>a generated picture region</pdfaType:description>"
                   f"<pdfaType:field><rdf:Seq>{fields}</rdf:Seq></pdfaType:field></rdf:li></rdf:Seq>"
                   "</pdfaSchema:valueType>")
    return ("   <pdfaExtension:schemas><rdf:Bag>"
            + schema("GB 45438-2025 implicit label", TC260_NS, "TC260",
                     prop("AIGC", "Text", "the implicit AIGC label (JSON)"))
            + schema("docgen generated regions", DOCGEN_NS, "docgen",
                     prop("Regions", "Seq Region", "provenance of each generated region"), region_type)
            + schema("PDF/UA identification", "http://www.aiim.org/pdfua/ns/id/", "pdfuaid",
                     prop("part", "Integer", "PDF/UA part"))
            + "</rdf:Bag></pdfaExtension:schemas>")


def _canonical(obj) -> str:
    return json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def aigc_label(regions: Sequence[Mapping], doc_meta: Mapping | None = None) -> dict[str, str] | None:
    """The GB 45438-2025 implicit-label object, or None when no region is AI-generated."""
    meta = dict(doc_meta or {})
    generated = [r for r in regions if r["ai_generated"]]
    if not generated:
        return None
    picture_hashes = [r["image_sha256"] for r in generated]
    provenance = [{"model": r.get("model"), "revision": r.get("revision"), "seed": r.get("seed"),
                   "prompt_hash": r.get("prompt_hash")} for r in generated]
    produce_id = meta.get("produce_id") or hashlib.sha256(_canonical(
        {"document": meta.get("document_id", ""), "regions": provenance}).encode("utf-8")).hexdigest()[:32]
    return {
        "Label": LABEL_AI_GENERATED,
        "ContentProducer": str(meta.get("content_producer") or "docgen"),
        "ProduceID": str(produce_id),
        "ReservedCode1": str(meta.get("reserved_code1")
                             or hashlib.sha256("".join(picture_hashes).encode()).hexdigest()),
        "ContentPropagator": str(meta.get("content_propagator") or ""),
        "PropagateID": str(meta.get("propagate_id") or ""),
        "ReservedCode2": str(meta.get("reserved_code2") or ""),
    }


def xmp_packet(regions: Sequence[Mapping], doc_meta: Mapping | None = None) -> bytes:
    """The XMP packet (UTF-8) recording the implicit AIGC label and every region record.

    ``doc_meta`` (all optional): ``title``, ``producer`` (pdf:Producer), ``creator_tool``, ``create_date``
    (ISO 8601, as given), ``document_id``, and the label fields ``content_producer``, ``produce_id``,
    ``reserved_code1``, ``content_propagator``, ``propagate_id``, ``reserved_code2``; for PDF/A and PDF/UA
    ``creator`` (dc:creator), ``description`` (dc:description), ``keywords`` (pdf:Keywords),
    ``modify_date``, ``pdfa`` (true: PDF/A-2b) and ``pdfua`` (true: PDF/UA-1).
    """
    meta = dict(doc_meta or {})
    ns = "".join(f'\n    xmlns:{prefix}="{uri}"' for prefix, uri in _NAMESPACES)
    body: list[str] = []
    if meta.get("title"):
        body.append(f'   <dc:title><rdf:Alt><rdf:li xml:lang="x-default">{escape(str(meta["title"]))}'
                    f"</rdf:li></rdf:Alt></dc:title>")
    if meta.get("creator"):
        body.append(f"   <dc:creator><rdf:Seq><rdf:li>{escape(str(meta['creator']))}</rdf:li></rdf:Seq></dc:creator>")
    if meta.get("description"):
        body.append(f'   <dc:description><rdf:Alt><rdf:li xml:lang="x-default">{escape(str(meta["description"]))}'
                    f"</rdf:li></rdf:Alt></dc:description>")
    if meta.get("keywords"):
        body.append(f"   <pdf:Keywords>{escape(str(meta['keywords']))}</pdf:Keywords>")
    if meta.get("modify_date"):
        body.append(f"   <xmp:ModifyDate>{escape(str(meta['modify_date']))}</xmp:ModifyDate>")
    if meta.get("pdfa"):
        body.append("   <pdfaid:part>2</pdfaid:part>\n   <pdfaid:conformance>B</pdfaid:conformance>")
        body.append(_extension_schemas())
    if meta.get("pdfua"):
        body.append("   <pdfuaid:part>1</pdfuaid:part>")
    body.append(f"   <xmp:CreatorTool>{escape(str(meta.get('creator_tool') or 'docgen'))}</xmp:CreatorTool>")
    if meta.get("create_date"):
        body.append(f"   <xmp:CreateDate>{escape(str(meta['create_date']))}</xmp:CreateDate>")
    if meta.get("producer"):
        body.append(f"   <pdf:Producer>{escape(str(meta['producer']))}</pdf:Producer>")

    label = aigc_label(regions, meta)
    if label is not None:
        value = json.dumps({k: label[k] for k in AIGC_FIELDS}, ensure_ascii=False, separators=(",", ":"))
        body.append(f"   <TC260:AIGC>{escape(value)}</TC260:AIGC>")

    if regions:
        body.append("   <docgen:Regions>\n    <rdf:Seq>")
        for region in regions:
            body.append("     <rdf:li rdf:parseType=\"Resource\">")
            for name, value in _region_fields(region):
                body.append(f"      <docgen:{name}>{escape(value)}</docgen:{name}>")
            body.append("     </rdf:li>")
        body.append("    </rdf:Seq>\n   </docgen:Regions>")

    packet = (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/">\n'
        ' <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">\n'
        f'  <rdf:Description rdf:about=""{ns}>\n'
        + "\n".join(body) + "\n"
        "  </rdf:Description>\n"
        " </rdf:RDF>\n"
        "</x:xmpmeta>\n"
        '<?xpacket end="w"?>'
    )
    return packet.encode("utf-8")


def _region_fields(region: Mapping) -> list[tuple[str, str]]:
    fields = [
        ("RegionID", region.get("region_id")),
        ("Backend", region.get("backend")),
        ("AIGenerated", "True" if region["ai_generated"] else "False"),
        ("Model", region.get("model")),
        ("Revision", region.get("revision")),
        ("Seed", region.get("seed")),
        ("PromptHash", region.get("prompt_hash")),
        ("Path", region.get("path")),
        ("Attempts", region.get("attempts")),
        ("ImageSHA256", region.get("image_sha256")),
    ]
    if region.get("overlay_text"):
        fields.append(("OverlayText", _canonical(dict(region["overlay_text"]))))
    return [(name, "" if value is None else str(value)) for name, value in fields]
