"""Fetching remote content for link previews and feeds."""

import http.client
import urllib.request
from urllib.parse import urlparse

import aiohttp
import httpx
import requests

from notes import settings

PREVIEW_HOSTS = {"youtube.com", "www.youtube.com", "vimeo.com"}
session = requests.Session()


async def fetch_preview(url: str) -> str:
    async with httpx.AsyncClient(timeout=5) as client:
        response = await client.get(url)
        return response.text[:500]


async def fetch_preview_checked(url: str) -> str:
    if urlparse(url).hostname not in PREVIEW_HOSTS:
        raise ValueError("host not allowed")
    async with httpx.AsyncClient(timeout=5) as client:
        response = await client.get(url)  # label: safe ssrf
        return response.text[:500]


def fetch_feed(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.read()


def fetch_known_feed(url: str) -> bytes:
    if url not in settings.ALLOWED_FEEDS:
        raise ValueError("unknown feed")
    with urllib.request.urlopen(url, timeout=5) as response:  # label: safe ssrf
        return response.read()


async def fetch_aio(url: str) -> str:
    async with aiohttp.ClientSession() as client:
        async with client.get(url) as response:
            return await response.text()


def fetch_with_session(path: str) -> str:
    return session.get("https://api.example.com/v1/" + path, timeout=5).text  # label: safe ssrf


def probe(host: str) -> int:
    conn = http.client.HTTPConnection(host, timeout=3)
    conn.request("HEAD", "/")
    return conn.getresponse().status
