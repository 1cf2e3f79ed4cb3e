"""Runs smbprotocol's own unit tests (test_connection.py, test_session.py from
the sdist of the installed version; tests/python/run.sh copies them next to
this file under target/smbprotocol-suite) with smbsign.contrib.smbprotocol
installed: smbprotocol's expectations of its own signing, verification, key
derivation and encryption (its test_encrypt_ccm/gcm vectors) must hold unchanged. Tests that need smbprotocol's live server
fixture are skipped here (the Samba interop tests cover a live server)."""

import pytest

from smbsign.contrib import smbprotocol as contrib


@pytest.fixture(autouse=True)
def _smbsign_installed():
    contrib.install()
    assert contrib.installed()
    yield
    contrib.uninstall()


@pytest.fixture
def smb_real():
    pytest.skip("needs smbprotocol's live test server")
