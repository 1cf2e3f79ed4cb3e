"""Shared fixtures: the published vector files of core/tests/vectors."""

import pathlib

import pytest

VECTORS = pathlib.Path(__file__).resolve().parents[2] / "core" / "tests" / "vectors"


def records(name):
    """Parses a `KEY = hex` record file into a list of dicts of bytes (L as int)."""
    out, rec = [], {}
    for line in (VECTORS / name).read_text().splitlines() + [""]:
        line = line.strip()
        if line.startswith("#"):
            continue
        if not line:
            if rec:
                out.append(rec)
                rec = {}
            continue
        k, _, v = line.partition("=")
        k, v = k.strip(), v.strip()
        rec[k] = int(v) if k == "L" else bytes.fromhex(v)
    return out


@pytest.fixture
def vectors():
    return records


@pytest.fixture(scope="module")
def smbd():
    """The port of a running Debian smbd with mandatory signing (see smbd_server.py)."""
    from smbd_server import running_smbd

    with running_smbd() as (port, _share):
        yield port
