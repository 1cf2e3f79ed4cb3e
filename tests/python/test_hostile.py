"""Hostile-input regressions and properties for the Python face (issue 16):
KDF lengths up to and past 2**64 raise ValueError (no abort, no PanicException,
nothing on stderr) and in-range lengths equal cryptography's KBKDFHMAC; every
int argument of every entry point gives ValueError for any out-of-range int
and TypeError for bool and non-ints; SigningKey.verify and verify_batch agree
on wrong-length tags (False); a failing buffer export propagates the original
exception; batch verification of shared and overlapping read-only buffers
verifies each job (a tampered PDU is never True) and batch signing refuses
overlapping buffers with nothing written; and a thread scribbling on a chain
while sign_pdu runs with the GIL released never gets an error after a
partial write."""

import mmap
import os
import subprocess
import sys
import threading

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.kbkdf import KBKDFHMAC, CounterLocation, Mode

import smbsign

KEY = bytes(range(16))
KDF_MAX = (2**32 - 1) // 8
HUGE = [0, -1, -(2**64) - 1, KDF_MAX + 1, 2**32, 2**40, 2**63 - 1, 2**63, 2**64 - 1, 2**64, 2**64 + 1, 2**100]
OUT_OF_RANGE_IDS = [-1, -(2**63), 3, 7, 255, 256, 65535, 65536, 2**32, 2**64, 2**100]


def ref_kbkdf(key, label, context, length):
    return KBKDFHMAC(
        algorithm=hashes.SHA256(),
        mode=Mode.CounterMode,
        length=length,
        rlen=4,
        llen=4,
        location=CounterLocation.BeforeFixed,
        label=label,
        context=context,
        fixed=None,
    ).derive(key)


def test_issue_reproductions_do_not_abort_or_print():
    # The issue's reproductions, in a fresh interpreter: exit 0, stderr empty.
    code = (
        "import smbsign\n"
        "for f in (lambda: smbsign.kdf(bytes(16), b'l', b'c', 2**40),\n"
        "          lambda: smbsign.kbkdf_hmac_sha256(bytes(16), b'f', 2**40),\n"
        "          lambda: smbsign.kdf(bytes(16), b'l', b'c', 2**63),\n"
        "          lambda: smbsign.kbkdf_hmac_sha256(bytes(16), b'f', 2**64 - 1)):\n"
        "    try:\n"
        "        f()\n"
        "    except ValueError:\n"
        "        pass\n"
        "    else:\n"
        "        raise SystemExit('no error')\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert (r.returncode, r.stderr) == (0, "")


@pytest.mark.parametrize("length", HUGE)
def test_kdf_lengths_out_of_range_are_value_error(length):
    with pytest.raises(ValueError, match="output length"):
        smbsign.kdf(KEY, b"L\0", b"C", length)
    with pytest.raises(ValueError, match="output length"):
        smbsign.kbkdf_hmac_sha256(KEY, b"fixed", length)


@pytest.mark.parametrize("length", [1, 2, 16, 31, 32, 33, 64, 1000, 4096, 70000])
def test_kdf_lengths_in_range_match_cryptography(length):
    assert smbsign.kdf(KEY, b"L\0", b"ctx", length) == ref_kbkdf(KEY, b"L\0", b"ctx", length)


@pytest.mark.parametrize("bad", [True, False, 1.0, "16", b"\x10"])
def test_kdf_length_non_int_is_type_error(bad):
    with pytest.raises(TypeError):
        smbsign.kdf(KEY, b"L", b"C", bad)


@pytest.mark.parametrize("value", OUT_OF_RANGE_IDS)
def test_int_ids_out_of_range_are_one_value_error(value):
    with pytest.raises(ValueError, match=f"^unknown SMB2 SigningAlgorithmId {value}$"):
        smbsign.SigningKey(value, KEY)
    with pytest.raises(ValueError, match=f"^unknown SMB2 SigningAlgorithmId {value}$"):
        smbsign.algorithm_for_dialect(0x0311, value)
    # Other dialects do not read the negotiated id (as the core).
    assert smbsign.algorithm_for_dialect(0x0300, value) == smbsign.AES_CMAC
    with pytest.raises(ValueError, match="has no SMB2 signing"):
        smbsign.algorithm_for_dialect(value if value not in (0x0202,) else -5)
    with pytest.raises(ValueError, match="16 or 32"):
        smbsign.smb311_keys(KEY, bytes(64), cipher_key_len=value)


@pytest.mark.parametrize("bad", [True, False, 1.5, b"\x01", [1]])
def test_int_ids_wrong_type_are_type_error(bad):
    with pytest.raises(TypeError):
        smbsign.SigningKey(bad, KEY)
    with pytest.raises(TypeError):
        smbsign.algorithm_for_dialect(bad)
    with pytest.raises(TypeError):
        smbsign.algorithm_for_dialect(0x0311, bad)
    with pytest.raises(TypeError):
        smbsign.smb311_keys(KEY, bytes(64), cipher_key_len=bad)


def test_valid_ids_still_work():
    for i, name in enumerate(["hmac-sha256", "aes-cmac", "aes-gmac"]):
        assert smbsign.SigningKey(i, KEY).algorithm == i
        assert smbsign.SigningKey(name, KEY).algorithm == i
    assert smbsign.algorithm_for_dialect(0x0311, 2) == smbsign.AES_GMAC
    assert len(smbsign.smb311_keys(KEY, bytes(64), cipher_key_len=32, full_session_key=KEY * 2)["client_to_server"]) == 32


@pytest.mark.parametrize("alg", [0, 1, 2])
def test_wrong_length_tags_are_false_in_verify_and_verify_batch(alg):
    k = smbsign.SigningKey(alg, KEY)
    nonce = bytes(12) if alg == 2 else None
    job = (k, b"data", nonce) if nonce else (k, b"data")
    tag = k.mac(b"data", nonce)
    for n in [0, 1, 15, 17, 32, 1000]:
        bad = (tag * 100)[:n]
        assert k.verify(b"data", bad, nonce) is False
        assert smbsign.verify_batch([job, job], [bad, tag]) == [False, True]
    assert k.verify(b"data", tag, nonce) is True


def test_failing_buffer_export_propagates_the_original_error():
    m = memoryview(bytearray(b"abc"))
    m.release()
    with pytest.raises(ValueError, match="released"):
        smbsign.hmac_sha256(m, b"")
    mm = mmap.mmap(-1, 4096)
    mm.close()
    with pytest.raises(ValueError, match="closed"):
        smbsign.SigningKey(1, KEY).mac(mm)
    # Not a buffer at all: our TypeError, chained to the original.
    with pytest.raises(TypeError, match="bytes-like") as e:
        smbsign.hmac_sha256(123, b"")
    assert isinstance(e.value.__cause__, TypeError)


def signed_pdu(key, n=200, msg_id=5):
    p = bytearray(os.urandom(n))
    p[0:4] = b"\xfeSMB"
    p[20:24] = bytes(4)
    p[24:32] = msg_id.to_bytes(8, "little")
    smbsign.sign_pdu(key, p)
    return p


@pytest.mark.parametrize("alg", [0, 1, 2])
def test_verify_pdus_shared_and_overlapping_buffers(alg):
    k = smbsign.SigningKey(alg, KEY)
    good = signed_pdu(k, 128)
    assert smbsign.verify_pdus([(k, good), (k, good), (k, memoryview(good))]) == [True, True, True]
    bad = bytearray(good)
    bad[100] ^= 0xFF  # the issue's reproduction: a tampered 128-byte PDU, twice
    assert smbsign.verify_pdus([(k, bad), (k, bad)]) == [False, False]
    assert smbsign.verify_pdus([(k, bytes(bad)), (k, memoryview(bad)[:128])]) == [False, False]
    # Overlapping: a chain's tail PDU is also a job of its own.
    a, b = signed_pdu(k, 96, 1), signed_pdu(k, 80, 2)
    a[20:24] = (96).to_bytes(4, "little")
    chain = bytearray(a + b)
    smbsign.sign_pdu(k, chain)
    tail = memoryview(chain)[96:]
    assert smbsign.verify_pdus([(k, chain), (k, tail)]) == [True, True]
    chain[150] ^= 1
    assert smbsign.verify_pdus([(k, chain), (k, tail), (k, memoryview(chain)[:96])]) == [False, False, False]


def test_sign_pdus_overlapping_buffers_refused_nothing_written():
    k = smbsign.SigningKey(1, KEY)
    buf = bytearray(signed_pdu(k, 300))
    buf[48:64] = bytes(16)
    before = bytes(buf)
    for jobs in (
        [(k, buf), (k, buf)],
        [(k, buf), (k, memoryview(buf)[100:])],
        [(k, memoryview(buf)[:200]), (k, memoryview(buf)[199:])],
    ):
        with pytest.raises(ValueError, match="overlap"):
            smbsign.sign_pdus(jobs)
        assert bytes(buf) == before
    # Adjacent (not overlapping) slices are two independent jobs.
    two = bytearray(signed_pdu(k, 150, 1) + signed_pdu(k, 150, 2))
    two[48:64] = two[198:214] = bytes(16)
    assert smbsign.sign_pdus([(k, memoryview(two)[:150]), (k, memoryview(two)[150:])]) == [None, None]
    assert smbsign.verify_pdus([(k, two[:150]), (k, two[150:])]) == [True, True]


@pytest.mark.parametrize("alg", [0, 1])
def test_sign_pdu_racing_writer_never_partially_signs_on_error(alg):
    # PDU 1 is large (the GIL is released while it is MACed); a thread keeps
    # breaking and restoring PDU 2's ProtocolId. Either the call succeeds, or
    # it raises with PDU 1's Signature and Flags untouched.
    k = smbsign.SigningKey(alg, KEY)
    first = 8 << 20
    chain = bytearray(first + 128)
    chain[0:4] = b"\xfeSMB"
    chain[20:24] = first.to_bytes(4, "little")
    chain[first : first + 4] = b"\xfeSMB"
    chain[48:64] = b"\xaa" * 16
    errors = 0
    for _ in range(6):
        chain[16:20] = bytes(4)
        chain[48:64] = b"\xaa" * 16
        stop = threading.Event()

        def scribble():
            while not stop.is_set():
                chain[first] = 0
                chain[first] = 0xFE

        t = threading.Thread(target=scribble)
        chain[first] = 0  # broken when the walk reaches it, unless restored meanwhile
        t.start()
        try:
            smbsign.sign_pdu(k, chain)
        except ValueError:
            errors += 1
            assert chain[48:64] == b"\xaa" * 16, "PDU 1 signed although the call failed"
            assert chain[16:20] == bytes(4)
        finally:
            stop.set()
            t.join()
    # How many trials raised varies with scheduling; the invariant is checked above.


@pytest.mark.parametrize("fn", ["sign_batch", "verify_batch"])
def test_batch_with_shared_message_buffers(fn):
    ks = [smbsign.SigningKey(a, KEY) for a in range(3)]
    data = bytearray(os.urandom(1000))
    mv = memoryview(data)
    jobs = [(ks[0], data), (ks[1], mv[10:]), (ks[2], mv[5:900], bytes(12)), (ks[1], data)]
    tags = smbsign.sign_batch(jobs)
    assert tags[0] == smbsign.hmac_sha256(KEY, bytes(data))[:16]
    assert tags[1] == ks[1].mac(bytes(data[10:]))
    assert tags[2] == ks[2].mac(bytes(data[5:900]), bytes(12))
    assert tags[3] == ks[1].mac(bytes(data))
    if fn == "verify_batch":
        bad = list(tags)
        bad[2] = bytes(16)
        assert smbsign.verify_batch(jobs, bad) == [True, True, False, True]
