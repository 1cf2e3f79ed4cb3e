"""`smbsign-samba status` from the installed package, in a userland
(SMBSIGN_SAMBA_ROOT) where it is installed: an smbd started with the
package's libsmbsign_gnutls.so preloaded (LIBSMBSIGN_GNUTLS, the userland's
path) and stats written to the file status reads; after a signed copy, status
lists that smbd with the library mapped and the stats' mode and counts
(tests/deb/run.sh)."""

import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "python"))
from smbd_server import PASSWORD, USER, in_userland, inner, run_smbd  # noqa: E402

SO = os.environ["LIBSMBSIGN_GNUTLS"]


def test_status_reports_preloaded_smbd(tmp_path):
    stats = tmp_path / "stats.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LD_PRELOAD", "SMBSIGN_GNUTLS"))}
    status_env = dict(env, SMBSIGN_SAMBA_STATS=inner(stats))
    with run_smbd(env=dict(env, LD_PRELOAD=SO, SMBSIGN_GNUTLS_STATS=inner(stats))) as server:
        (tmp_path / "f.bin").write_bytes(os.urandom(100_000))
        r = subprocess.run(["smbclient", "//127.0.0.1/share", "-p", str(server.port), "-U", f"{USER}%{PASSWORD}",
                            "-m", "SMB3_11", "--client-protection=sign", "-c", "put f.bin r.bin"],
                           cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stdout + r.stderr
        # The child that served the copy writes its stats line when the client has gone.
        for _ in range(100):
            if stats.exists() and stats.read_text().strip():
                break
            subprocess.run(["sleep", "0.1"])
        out = subprocess.run(in_userland(["smbsign-samba", "status"]), env=status_env,
                             capture_output=True, text=True, timeout=60)
        text = out.stdout + out.stderr
        assert out.returncode == 0, text
        assert f"smbd pid {server.proc.pid}: libsmbsign_gnutls.so mapped: yes; mode: active" in text, text
        assert "drop-in: /etc/systemd/system/smbd.service.d/smbsign.conf (enabled)" in text, text
        assert "modes: active 1" in text, text
        # 3.1.1 negotiates AES-GMAC (Samba's first choice): computed, nothing forwarded.
        gmac = next(x for x in text.splitlines() if x.strip().startswith("aes-128-gcm:"))
        assert "computed 0 calls" not in gmac and "forwarded to GnuTLS 0 calls" in gmac, text
