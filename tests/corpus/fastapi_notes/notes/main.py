"""The notes service application."""

import logging
import ssl
import traceback

import httpx
from fastapi import FastAPI, HTTPException, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, PlainTextResponse

from notes import settings
from notes.routers import files, notes

log = logging.getLogger("notes")

app = FastAPI()
app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_credentials=True, allow_methods=["*"])  # label: cors-misconfiguration
app.include_router(notes.router)
app.include_router(files.router)

admin = FastAPI()
admin.add_middleware(CORSMiddleware, allow_origin_regex=".*", allow_credentials=True)  # label: cors-misconfiguration

public = FastAPI()
public.add_middleware(CORSMiddleware, allow_origins=["*"], allow_methods=["GET"])  # label: safe cors-misconfiguration

partner = FastAPI()
partner.add_middleware(CORSMiddleware, allow_origins=settings.PARTNER_ORIGINS, allow_credentials=True)  # label: safe cors-misconfiguration

metrics_client = httpx.Client(base_url="https://metrics.internal", verify=False)  # label: sensitive-data-exposure
status_client = httpx.Client(base_url="https://status.internal", verify="/etc/ssl/internal-ca.pem")  # label: safe sensitive-data-exposure
legacy_context = ssl._create_unverified_context()  # label: sensitive-data-exposure
strict_context = ssl.create_default_context()  # label: safe sensitive-data-exposure


@admin.middleware("http")
async def reflect_origin(request: Request, call_next):
    response = await call_next(request)
    response.headers["Access-Control-Allow-Origin"] = request.headers.get("origin", "")  # label: cors-misconfiguration
    return response


@partner.middleware("http")
async def partner_origin(request: Request, call_next):
    response = await call_next(request)
    origin = request.headers.get("origin", "")
    if origin in settings.PARTNER_ORIGINS:
        response.headers["Access-Control-Allow-Origin"] = origin  # label: safe cors-misconfiguration
    return response


@app.exception_handler(Exception)
async def on_error(request: Request, exc: Exception):
    return JSONResponse({"error": str(exc), "trace": traceback.format_exc()}, status_code=500)  # label: sensitive-data-exposure


@admin.exception_handler(Exception)
async def on_admin_error(request: Request, exc: Exception):
    log.exception("admin error on %s", request.url.path)
    return PlainTextResponse("internal error", status_code=500)  # label: safe sensitive-data-exposure


@app.get("/debug/reload")
def reload_config(token: str):
    log.warning("config reload requested with token=%s", token)  # label: sensitive-data-exposure
    if token != settings.JWT_SECRET:  # label: broken-auth
        raise HTTPException(status_code=403, detail=traceback.format_exc())  # label: sensitive-data-exposure
    return {"ok": True}


@app.get("/health")
def health():
    log.info("health check from %s", "probe")  # label: safe sensitive-data-exposure
    return {"ok": True}
