#!/usr/bin/env python3
"""Regenerate core/tests/vectors/*.txt from the PyPI package `cryptography-vectors`.

Usage: pip download --no-deps cryptography-vectors && unzip it, then
       python3 scripts/extract-vectors.py PATH/cryptography_vectors
Only the sections smbsign implements are kept (see core/tests/vectors/README.md).
"""
import pathlib
import sys

src = pathlib.Path(sys.argv[1])
dst = pathlib.Path(__file__).resolve().parent.parent / "core" / "tests" / "vectors"


def sections(path):
    """Yield (params dict, list of records) per [..] section group."""
    params, recs, rec, in_hdr = {}, [], {}, False
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if line.startswith("["):
            if not in_hdr:
                if rec:
                    recs.append(rec)
                    rec = {}
                if recs:
                    yield params, recs
                params, recs, in_hdr = {}, [], True
            k, _, v = line.strip("[]").partition("=")
            params[k.strip()] = v.strip()
            continue
        in_hdr = False
        if not line or line.startswith("#"):
            if rec and not line:
                recs.append(rec)
                rec = {}
            continue
        if "=" in line and not raw.startswith("\t"):
            k, _, v = line.partition("=")
            rec[k.strip()] = v.strip()
    if rec:
        recs.append(rec)
    if recs:
        yield params, recs


def write(name, header, recs, keys):
    out = [f"# {h}" for h in header] + [""]
    for r in recs:
        for k in keys:
            out.append(f"{k} = {r.get(k, '')}")
        out.append("")
    (dst / name).write_text("\n".join(out))
    print(name, len(recs))


cmac = [r for _, rs in sections(src / "CMAC/nist-800-38b-aes128.txt") for r in rs]
write("cmac-aes128.txt", ["AES-128-CMAC, NIST SP 800-38B examples (= RFC 4493 section 4)",
                          "source: cryptography-vectors, CMAC/nist-800-38b-aes128.txt"],
      cmac, ["KEY", "MESSAGE", "OUTPUT"])

hmac = [r for _, rs in sections(src / "HMAC/rfc-4231-sha256.txt") for r in rs]
write("hmac-sha256-rfc4231.txt", ["HMAC-SHA256, RFC 4231 test cases 1-4, 6, 7 (case 5 truncation omitted upstream)",
                                  "source: cryptography-vectors, HMAC/rfc-4231-sha256.txt"],
      hmac, ["Key", "Msg", "MD"])

gcm = []
for p, rs in sections(src / "ciphers/AES/GCM/gcmEncryptExtIV128.rsp"):
    if p.get("IVlen") == "96" and p.get("PTlen") == "0" and p.get("Taglen") == "128":
        gcm += rs
write("gmac-aes128-cavp.txt", ["AES-128-GMAC = AES-GCM with empty plaintext, 96-bit IV, 128-bit tag",
                               "NIST CAVP gcmEncryptExtIV128.rsp, sections IVlen=96 PTlen=0 Taglen=128 (all AADlen)",
                               "source: cryptography-vectors, ciphers/AES/GCM/gcmEncryptExtIV128.rsp"],
      gcm, ["Key", "IV", "AAD", "Tag"])

kdf = []
for p, rs in sections(src / "KDF/nist-800-108-KBKDF-CTR.txt"):
    if p.get("PRF") == "HMAC_SHA256" and p.get("CTRLOCATION") == "BEFORE_FIXED" and p.get("RLEN") == "32_BITS":
        kdf += rs
write("kbkdf-ctr-hmac-sha256.txt", ["NIST CAVP SP 800-108 KBKDF, counter mode, PRF=HMAC_SHA256, CTRLOCATION=BEFORE_FIXED, RLEN=32_BITS",
                                    "L is the output length in bits; FixedInputData follows the 32-bit big-endian counter",
                                    "source: cryptography-vectors, KDF/nist-800-108-KBKDF-CTR.txt"],
      kdf, ["L", "KI", "FixedInputData", "KO"])

# AES-GCM (SMB 3.1.1 encryption): 96-bit IV, 128-bit tag, every PTlen/AADlen
# section, its first two records (the sections differ in lengths; the
# differential tests cover the rest).
for bits in ("128", "256"):
    gcm = []
    for p, rs in sections(src / f"ciphers/AES/GCM/gcmEncryptExtIV{bits}.rsp"):
        if p.get("IVlen") == "96" and p.get("Taglen") == "128":
            gcm += rs[:2]
    write(f"gcm-aes{bits}-cavp.txt", [f"AES-{bits}-GCM, 96-bit IV, 128-bit tag: first two records of each PTlen/AADlen section",
                                      f"NIST CAVP gcmEncryptExtIV{bits}.rsp, sections IVlen=96 Taglen=128",
                                      f"source: cryptography-vectors, ciphers/AES/GCM/gcmEncryptExtIV{bits}.rsp"],
          gcm, ["Key", "IV", "PT", "AAD", "CT", "Tag"])


def ccm_records(path, nlen):
    """The records of the [Nlen = nlen] section of a CAVP CCM VNT file, each with its Key."""
    recs, rec, key, section = [], {}, None, None
    for line in path.read_text().splitlines() + [""]:
        line = line.strip()
        if line.startswith("["):
            section = line.strip("[]").partition("=")[2].strip()
            continue
        if not line:
            if rec and section == str(nlen) and "Nonce" in rec:
                rec["Key"] = key
                recs.append(rec)
            rec = {}
            continue
        if "=" in line and not line.startswith("#"):
            k, _, v = line.partition("=")
            k, v = k.strip(), v.strip()
            if k == "Key":
                key = v
            else:
                rec[k] = v
    return recs


# AES-CCM as SMB uses it: 11-byte nonce (L = 4), 16-byte tag; CT is ciphertext || tag.
for bits in ("128", "256"):
    write(f"ccm-aes{bits}-cavp.txt", [f"AES-{bits}-CCM, Nlen=11 (L=4), Tlen=16, Alen=32, Plen=24; CT = ciphertext || tag",
                                      f"NIST CAVP VNT{bits}.rsp (SP 800-38C), section [Nlen = 11]",
                                      f"source: cryptography-vectors, ciphers/AES/CCM/VNT{bits}.rsp"],
          ccm_records(src / f"ciphers/AES/CCM/VNT{bits}.rsp", 11), ["Key", "Nonce", "Adata", "Payload", "CT"])
