"""A FastAPI service: reports, file downloads, a fetcher and a small admin area."""

import httpx
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse, HTMLResponse
from sqlalchemy import create_engine, text

app = FastAPI()
engine = create_engine("sqlite:///reports.db")
app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_credentials=True, allow_methods=["*"])
REPORTS = "/var/reports"


@app.get("/reports/{owner}")
def reports(owner: str):
    with engine.connect() as conn:
        rows = conn.execute(text(f"SELECT id, title FROM reports WHERE owner = '{owner}'")).all()
    return [dict(r._mapping) for r in rows]


@app.get("/download")
def download(name: str):
    return FileResponse(f"{REPORTS}/{name}")


@app.get("/greet", response_class=HTMLResponse)
def greet(who: str):
    return HTMLResponse(f"<p>Hello {who}</p>")


@app.get("/fetch")
async def fetch(url: str):
    async with httpx.AsyncClient() as client:
        response = await client.get(url)
    return {"status": response.status_code}
