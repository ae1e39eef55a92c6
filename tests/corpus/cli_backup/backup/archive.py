"""Restoring archives."""

import os
import shutil
import tarfile
import zipfile


def restore_tar(archive, dest):
    with tarfile.open(archive) as tar:
        tar.extractall(dest)  # label: path-traversal


def restore_tar_filtered(archive, dest):
    with tarfile.open(archive) as tar:
        tar.extractall(dest, filter="data")  # label: safe path-traversal


def restore_zip(archive, dest):
    with zipfile.ZipFile(archive) as zf:
        for name in zf.namelist():
            target = os.path.join(dest, name)
            with open(target, "wb") as out:  # label: path-traversal
                out.write(zf.read(name))


def restore_zip_checked(archive, dest):
    root = os.path.realpath(dest)
    with zipfile.ZipFile(archive) as zf:
        for name in zf.namelist():
            target = os.path.realpath(os.path.join(root, name))
            if not target.startswith(root + os.sep):
                continue
            with open(target, "wb") as out:  # label: safe path-traversal
                out.write(zf.read(name))


def restore_zip_builtin(archive, dest):
    with zipfile.ZipFile(archive) as zf:
        zf.extractall(dest)  # label: safe path-traversal


def prune(dest, keep):
    for entry in sorted(os.listdir(dest))[:-keep]:
        shutil.rmtree(os.path.join(dest, entry))  # label: safe path-traversal


def secure_permissions(path):
    os.chmod(path, 0o600)  # label: safe security-misconfiguration


def publish_log(path):
    os.chmod(path, 0o666)  # label: security-misconfiguration


def share_with_team(path):
    os.chmod(path, 0o777)  # label: security-misconfiguration
