"""Invoices and uploaded images on disk."""

import os

from werkzeug.utils import secure_filename

INVOICE_DIR = "/srv/shop/invoices"
UPLOAD_DIR = "/srv/shop/uploads"


def invoice_path(name):
    return os.path.join(INVOICE_DIR, name)


def read_invoice(name):
    with open(invoice_path(name), "rb") as handle:
        return handle.read()


def read_invoice_checked(name):
    full = os.path.realpath(os.path.join(INVOICE_DIR, name))
    if not full.startswith(INVOICE_DIR + os.sep):
        raise PermissionError(name)
    with open(full, "rb") as handle:
        return handle.read()


def save_upload(upload):
    name = secure_filename(upload.filename)
    upload.save(os.path.join(UPLOAD_DIR, name))
    return name


def delete_upload(name):
    os.remove(os.path.join(UPLOAD_DIR, name))
