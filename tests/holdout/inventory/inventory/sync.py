import base64
import json
import pickle
import tarfile

import requests
import yaml

API_TOKEN = "f91c0d2a8b7e4f3c9a1d6e5b2c8f7a0d"  # label: hardcoded-secret
SYNC_URL = "https://sync.example.org/api/v1"


def fetch_snapshot():
    response = requests.get(SYNC_URL + "/snapshot", headers={"Authorization": "Bearer " + API_TOKEN}, timeout=30)  # label: safe ssrf
    return pickle.loads(base64.b64decode(response.json()["blob"]))  # label: insecure-deserialization


def fetch_snapshot_json():
    response = requests.get(SYNC_URL + "/snapshot.json", timeout=30)
    return json.loads(response.text)  # label: safe insecure-deserialization


def read_rules(path):
    with open(path) as handle:
        return yaml.load(handle)  # label: insecure-deserialization


def read_rules_safe(path):
    with open(path) as handle:
        return yaml.safe_load(handle)  # label: safe insecure-deserialization


def unpack_bundle(path, dest):
    with tarfile.open(path, "r:gz") as bundle:
        bundle.extractall(dest)  # label: path-traversal


def legacy_push(records):
    return requests.post("http://legacy-erp.example.org/import", json=records,  # label: sensitive-data-exposure
                         headers={"X-Api-Key": API_TOKEN}, timeout=30)


def insecure_pull():
    return requests.get(SYNC_URL + "/pull", verify=False, timeout=30)  # label: sensitive-data-exposure
