"""State kept between runs."""

import json
import marshal
import pickle
import shelve

import numpy as np
import torch
import yaml

STATE_FILE = "/var/lib/backup/state.pickle"


def load_state(path):
    with open(path, "rb") as handle:
        return pickle.load(handle)  # label: insecure-deserialization


def load_state_json(path):
    with open(path) as handle:
        return json.load(handle)  # label: safe insecure-deserialization


def load_manifest(path):
    with open(path) as handle:
        return yaml.load(handle, Loader=yaml.Loader)  # label: insecure-deserialization


def load_manifest_safe(path):
    with open(path) as handle:
        return yaml.safe_load(handle)  # label: safe insecure-deserialization


def load_compiled_hook(blob):
    return marshal.loads(blob)  # label: insecure-deserialization


def open_catalog(path):
    return shelve.open(path)  # label: safe insecure-deserialization


def load_checksums(path):
    return np.load(path, allow_pickle=True)  # label: insecure-deserialization


def load_checksums_safe(path):
    return np.load(path)  # label: safe insecure-deserialization


def load_model(path):
    return torch.load(path)  # label: insecure-deserialization


def load_weights(path):
    return torch.load(path, weights_only=True)  # label: safe insecure-deserialization


def roundtrip_default():
    return pickle.loads(pickle.dumps({"version": 1}))  # label: safe insecure-deserialization
