"""Shipping archives off the machine and reporting."""

import ftplib
import logging
import smtplib

import requests

from backup import config

log = logging.getLogger("backup.remote")


def upload_ftp(path):
    ftp = ftplib.FTP(config.FTP_HOST)
    ftp.login(config.FTP_USER, config.FTP_PASSWORD)  # label: sensitive-data-exposure
    with open(path, "rb") as handle:
        ftp.storbinary("STOR " + path.rsplit("/", 1)[-1], handle)
    ftp.quit()


def upload_ftps(path):
    ftp = ftplib.FTP_TLS(config.FTP_HOST)
    ftp.login(config.FTP_USER, config.FTP_PASSWORD)  # label: safe sensitive-data-exposure
    ftp.prot_p()
    with open(path, "rb") as handle:
        ftp.storbinary("STOR " + path.rsplit("/", 1)[-1], handle)


def mail_report(body, password):
    server = smtplib.SMTP("smtp.example.com", 25)
    server.login("backup@example.com", password)  # label: sensitive-data-exposure
    server.sendmail("backup@example.com", ["ops@example.com"], body)


def mail_report_tls(body, password):
    server = smtplib.SMTP("smtp.example.com", 587)
    server.starttls()
    server.login("backup@example.com", password)  # label: safe sensitive-data-exposure
    server.sendmail("backup@example.com", ["ops@example.com"], body)


def notify(status, api_token):
    log.info("notifying monitoring, status=%s", status)  # label: safe sensitive-data-exposure
    log.debug("using api_token=%s", api_token)  # label: sensitive-data-exposure
    requests.post("https://monitor.example.com/api/events", json={"status": status},  # label: safe sensitive-data-exposure
                  headers={"Authorization": f"Bearer {api_token}"}, timeout=10)


def notify_legacy(status, api_token):
    log.debug("legacy notify with token prefix %s", api_token[:4])  # label: safe sensitive-data-exposure
    requests.get("http://monitor.example.com/api/events?api_key=" + api_token + "&status=" + status, timeout=10)
