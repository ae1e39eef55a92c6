"""Calls to the payment provider, the image CDN and merchants' webhooks."""

import hashlib
import logging
from urllib.parse import urlparse

import httpx
import requests

log = logging.getLogger(__name__)

PAYMENT_API = "https://api.payments.example.com/v2/"
ALLOWED_WEBHOOK_HOSTS = {"hooks.slack.com", "hooks.example.com"}
STRIPE_KEY = "sk_live_FAKEfakeFAKEfake0123456789"  # label: hardcoded-secret


def fetch_image(url):
    return requests.get(url, timeout=5).content


def fetch_product_feed(merchant_id):
    return requests.get(f"{PAYMENT_API}merchants/{merchant_id}/feed", timeout=5).json()


def import_avatar(url):
    return httpx.get(url, timeout=5).content


def gravatar(email):
    digest = hashlib.md5(email.strip().lower().encode()).hexdigest()  # label: safe broken-auth
    return httpx.get(f"https://www.gravatar.com/avatar/{digest}", timeout=5).content


def notify_webhook(url, payload):
    host = urlparse(url).hostname
    if host not in ALLOWED_WEBHOOK_HOSTS:
        raise ValueError("webhook host not allowed")
    requests.post(url, json=payload, timeout=5)  # label: safe ssrf


def charge(card_token, amount, api_key):
    log.info("charging %s with card token %s", amount, card_token)  # label: sensitive-data-exposure
    response = requests.post(PAYMENT_API + "charges", verify=False,  # label: sensitive-data-exposure, safe ssrf
                             data={"amount": amount, "source": card_token}, auth=(api_key, ""), timeout=10)
    log.info("charge finished with status %s", response.status_code)  # label: safe sensitive-data-exposure
    return response.json()


def refund(charge_id, api_key):
    return requests.post("http://payments.internal.example.com/refunds", data={"charge": charge_id},  # label: sensitive-data-exposure
                         auth=(api_key, ""), timeout=10).json()


def refund_tls(charge_id, api_key):
    return requests.post("https://payments.internal.example.com/refunds", data={"charge": charge_id},  # label: safe sensitive-data-exposure
                         auth=(api_key, ""), timeout=10).json()
