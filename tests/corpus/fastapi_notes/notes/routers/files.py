"""Attachment endpoints."""

import os
from pathlib import Path

from fastapi import APIRouter, HTTPException, UploadFile
from fastapi.responses import FileResponse
from werkzeug.utils import secure_filename

from notes import settings

router = APIRouter(prefix="/files")
ROOT = Path(settings.FILES_ROOT)


@router.get("/download")
def download(name: str):
    return FileResponse(os.path.join(settings.FILES_ROOT, name))  # label: path-traversal


@router.get("/download-safe")
def download_safe(name: str):
    return FileResponse(os.path.join(settings.FILES_ROOT, Path(name).name))  # label: safe path-traversal


@router.get("/text")
def read_text(name: str):
    return {"text": (ROOT / name).read_text()}  # label: path-traversal


@router.get("/text-checked")
def read_text_checked(name: str):
    target = (ROOT / name).resolve()
    if not target.is_relative_to(ROOT):
        raise HTTPException(status_code=403)
    return {"text": target.read_text()}  # label: safe path-traversal


@router.post("/upload")
async def upload(file: UploadFile):
    with open(os.path.join(settings.FILES_ROOT, file.filename), "wb") as out:  # label: path-traversal
        out.write(await file.read())
    return {"ok": True}


@router.post("/upload-safe")
async def upload_safe(file: UploadFile):
    with open(os.path.join(settings.FILES_ROOT, secure_filename(file.filename)), "wb") as out:  # label: safe path-traversal
        out.write(await file.read())
    return {"ok": True}


@router.delete("/{folder}")
def delete_folder(folder: str):
    if not folder.isalnum():
        raise HTTPException(status_code=400)
    os.rmdir(os.path.join(settings.FILES_ROOT, folder))  # label: safe path-traversal
    return {"ok": True}
