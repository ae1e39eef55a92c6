"""Note endpoints."""

import html
import pickle
from typing import Annotated

import jsonpickle
import yaml
from fastapi import APIRouter, Body, Depends, Query, Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, Template, select_autoescape
from pydantic import BaseModel

from notes import db, fetcher

router = APIRouter(prefix="/notes")
templates = Environment(loader=FileSystemLoader("templates"))  # label: xss
safe_templates = Environment(loader=FileSystemLoader("templates"), autoescape=select_autoescape())  # label: safe xss


class NoteIn(BaseModel):
    title: str
    body: str
    callback_url: str | None = None


def current_user(request: Request) -> str:
    return request.headers.get("X-User", "anonymous")


@router.get("/{note_id}")
def read_note(note_id: int):
    return {"note": db.note_by_id(note_id)}  # label: safe sql-injection


@router.get("/search/")
def search(q: str = Query(...), user: str = Depends(current_user)):
    return {"results": db.search(q)}  # label: sql-injection


@router.get("/search-safe/")
def search_safe(q: str):
    return {"results": db.search_safe(q)}  # label: safe sql-injection


@router.post("/bulk-delete")
def bulk_delete(ids: Annotated[list[str], Body()]):
    db.delete_many(ids)  # label: sql-injection
    return {"deleted": len(ids)}


@router.post("/bulk-delete-safe")
def bulk_delete_safe(ids: Annotated[list[str], Body()]):
    db.delete_many_safe(ids)  # label: safe sql-injection
    return {"deleted": len(ids)}


@router.get("/{note_id}/title", response_class=HTMLResponse)
def title_page(note_id: int, title: str):
    return f"<h1>{title}</h1>"  # label: xss


@router.get("/{note_id}/title-safe", response_class=HTMLResponse)
def title_page_safe(note_id: int, title: str):
    return f"<h1>{html.escape(title)}</h1>"  # label: safe xss


@router.get("/{note_id}/title-json")
def title_json(note_id: int, title: str):
    return f"<h1>{title}</h1>"  # label: safe xss


@router.get("/preview/banner")
def banner(text: str):
    return HTMLResponse(content="<div class='banner'>" + text + "</div>")  # label: xss


@router.get("/preview/template")
def custom_template(source: str):
    return HTMLResponse(Template(source).render())  # label: code-injection


@router.get("/preview/template-safe")
def named_template(name: str):
    return HTMLResponse(safe_templates.get_template("note.html").render(name=name))  # label: safe xss


@router.post("/")
def create(note: NoteIn):
    if note.callback_url:
        fetcher.session.post(note.callback_url, json={"title": note.title}, timeout=5)  # label: ssrf
    return {"ok": True}


@router.get("/link-preview")
async def link_preview(url: str):
    return {"preview": await fetcher.fetch_preview(url)}  # label: ssrf


@router.get("/link-preview-checked")
async def link_preview_checked(url: str):
    return {"preview": await fetcher.fetch_preview_checked(url)}  # label: safe ssrf


@router.get("/feed")
def feed(url: str):
    return {"feed": fetcher.fetch_feed(url).decode()}  # label: ssrf


@router.get("/known-feed")
def known_feed(url: str):
    return {"feed": fetcher.fetch_known_feed(url).decode()}  # label: safe ssrf


@router.get("/aio")
async def aio(url: str):
    return {"body": await fetcher.fetch_aio(url)}  # label: ssrf


@router.get("/probe")
def probe(host: str):
    return {"status": fetcher.probe(host)}  # label: ssrf


@router.get("/api-proxy")
def api_proxy(path: str):
    return {"body": fetcher.fetch_with_session(path)}  # label: safe ssrf


@router.post("/import/pickle")
async def import_pickle(request: Request):
    notes = pickle.loads(await request.body())  # label: insecure-deserialization
    return {"count": len(notes)}


@router.post("/import/yaml")
async def import_yaml(request: Request):
    notes = yaml.load(await request.body(), Loader=yaml.FullLoader)  # label: insecure-deserialization
    return {"count": len(notes)}


@router.post("/import/yaml-safe")
async def import_yaml_safe(request: Request):
    notes = yaml.load(await request.body(), Loader=yaml.SafeLoader)  # label: safe insecure-deserialization
    return {"count": len(notes)}


@router.post("/import/jsonpickle")
def import_jsonpickle(payload: str = Body(...)):
    notes = jsonpickle.decode(payload)  # label: insecure-deserialization
    return {"count": len(notes)}


@router.post("/import/json")
async def import_json(request: Request):
    notes = await request.json()
    return {"count": len(notes)}  # label: safe insecure-deserialization
