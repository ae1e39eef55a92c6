"""Importing notes from XML exports (XXE corpus)."""

import xml.dom.minidom
import xml.etree.ElementTree as ET
import xml.sax

import defusedxml.ElementTree as SafeET
import defusedxml.minidom
from fastapi import APIRouter, Body
from lxml import etree

router = APIRouter(prefix="/import")
RESOLVING = etree.XMLParser(resolve_entities=True)  # label: xxe
NETWORK = etree.XMLParser(no_network=False)  # label: xxe
HARDENED = etree.XMLParser(resolve_entities=False, no_network=True)  # label: safe xxe


@router.post("/lxml")
def import_lxml(document: str = Body(...)):
    root = etree.fromstring(document)  # label: xxe
    return {"notes": len(root)}


@router.post("/lxml-hardened")
def import_lxml_hardened(document: str = Body(...)):
    root = etree.fromstring(document, HARDENED)  # label: safe xxe
    return {"notes": len(root)}


@router.post("/lxml-parse")
def import_lxml_file(path: str = Body(...)):
    tree = etree.parse(path)  # label: xxe
    return {"notes": len(tree.getroot())}


@router.post("/lxml-parse-hardened")
def import_lxml_file_hardened(path: str = Body(...)):
    tree = etree.parse(path, parser=etree.XMLParser(resolve_entities=False, no_network=True))  # label: safe xxe
    return {"notes": len(tree.getroot())}


@router.post("/etree")
def import_etree(document: str = Body(...)):
    root = ET.fromstring(document)  # label: xxe
    return {"notes": len(root)}


@router.post("/etree-defused")
def import_etree_defused(document: str = Body(...)):
    root = SafeET.fromstring(document)  # label: safe xxe
    return {"notes": len(root)}


@router.post("/minidom")
def import_minidom(document: str = Body(...)):
    dom = xml.dom.minidom.parseString(document)  # label: xxe
    return {"notes": len(dom.getElementsByTagName("note"))}


@router.post("/minidom-defused")
def import_minidom_defused(document: str = Body(...)):
    dom = defusedxml.minidom.parseString(document)  # label: safe xxe
    return {"notes": len(dom.getElementsByTagName("note"))}


@router.post("/sax")
def import_sax(document: str = Body(...)):
    handler = xml.sax.ContentHandler()
    xml.sax.parseString(document.encode(), handler)  # label: xxe
    return {"ok": True}


@router.post("/sax-external")
def import_sax_external(document: str = Body(...)):
    parser = xml.sax.make_parser()
    parser.setFeature(xml.sax.handler.feature_external_ges, True)  # label: xxe
    return {"ok": True}


@router.post("/sax-closed")
def import_sax_closed(document: str = Body(...)):
    parser = xml.sax.make_parser()
    parser.setFeature(xml.sax.handler.feature_external_ges, False)  # label: safe xxe
    return {"ok": True}


@router.post("/objectify")
def import_bundled():
    root = etree.fromstring(b"<notes><note>welcome</note></notes>")  # label: safe xxe
    return {"notes": len(root)}


@router.post("/etree-bytes")
def import_etree_bytes(document: bytes = Body(...)):
    root = ET.XML(document)  # label: xxe
    return {"notes": len(root)}


@router.post("/etree-constant")
def import_etree_constant():
    root = ET.XML("<notes/>")  # label: safe xxe
    return {"notes": len(root)}


@router.post("/iterparse")
def import_iterparse(path: str = Body(...)):
    count = sum(1 for _ in ET.iterparse(path))  # label: xxe
    return {"events": count}


@router.post("/iterparse-defused")
def import_iterparse_defused(path: str = Body(...)):
    count = sum(1 for _ in SafeET.iterparse(path))  # label: safe xxe
    return {"events": count}


@router.post("/lxml-bundled")
def import_lxml_bundled():
    tree = etree.parse("fixtures/notes.xml")  # label: safe xxe
    return {"notes": len(tree.getroot())}
