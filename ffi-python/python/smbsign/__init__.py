"""smbsign: SMB2/SMB3 message signing (HMAC-SHA256, AES-128-CMAC, AES-128-GMAC)
and SMB3 encryption (AES-128/256-CCM and -GCM TRANSFORM_HEADER messages:
``EncryptionKey``, ``encrypt_message``, ``decrypt_message``, their in-place forms, and
``encrypt_batch``/``decrypt_batch``, many messages in place in one call).

MAC objects in the style of hashlib (``AesCmac``, ``AesGmac``, ``HmacSha256``),
one-shot functions, in-place PDU signing (``SigningKey``, ``sign_pdu``,
``verify_pdu``), batch signing computed together in multi-buffer kernels
(``sign_batch``, ``verify_batch``, ``sign_pdus``, ``verify_pdus``), the SMB key derivations and ``PreauthHash``. Any bytes-like
object is accepted without copying; the GIL is released for inputs >= 4 KiB.
"""

from smbsign._smbsign import (
    AesCmac,
    AesGmac,
    EncryptionKey,
    Header,
    MIN_MESSAGE_LEN,
    HmacSha256,
    PreauthHash,
    SigningKey,
    __version__,
    aes_cmac,
    aes_gmac,
    algorithm_for_dialect,
    backend_info,
    check_capture_json,
    check_decrypted,
    cipher_for_dialect,
    clear_signatures,
    decrypt_batch,
    decrypt_in_place,
    decrypt_message,
    encrypt_batch,
    encrypt_in_place,
    encrypt_message,
    encryption_exemption,
    gmac_nonce,
    gmac_nonce_for,
    header_for_mac,
    hmac_sha256,
    kbkdf_hmac_sha256,
    kdf,
    must_be_encrypted,
    must_be_signed,
    session_cipher_keys,
    session_requires_signing,
    sign_batch,
    sign_pdu,
    sign_pdus,
    signature_applies,
    signing_exemption,
    skips_verification,
    smb30_keys,
    smb311_keys,
    transform_session_id,
    verify_batch,
    verify_pdu,
    verify_pdus,
    verifying_session_ids,
)



def check_capture(path, password=None, session_keys=None, session_key=None, user=None, domain=None, diagnose=True):
    """smbsign-check on a pcap/pcapng file: the report as a dict ("messages": one
    entry per SMB2 PDU with its verdict, "algorithm" (signing) or "cipher" (the
    transform it came in: verdict "decrypted"), and diagnosis; one per transform
    message that failed ("INVALID") or could not be decrypted ("encrypted"), per
    nonce reused ("NONCE-REUSED") and per stretch of bytes not checked; "summary"
    with "exit_status" 0 verified / 1 failed / 3 incomplete and "not_checked";
    "notes")."""
    import json

    return json.loads(
        check_capture_json(
            path,
            password=password,
            session_keys=session_keys,
            session_key=session_key,
            user=user,
            domain=domain,
            diagnose=diagnose,
        )
    )


#: SigningAlgorithmId values (MS-SMB2 SIGNING_CAPABILITIES).
HMAC_SHA256 = 0
AES_CMAC = 1
AES_GMAC = 2

#: CipherId values (MS-SMB2 ENCRYPTION_CAPABILITIES; 3.0 and 3.0.2 use AES-128-CCM).
AES_128_CCM = 1
AES_128_GCM = 2
AES_256_CCM = 3
AES_256_GCM = 4

#: Length of the SMB2 TRANSFORM_HEADER in front of every encrypted message.
TRANSFORM_HEADER_LEN = 52

__all__ = [
    "AES_128_CCM",
    "AES_128_GCM",
    "AES_256_CCM",
    "AES_256_GCM",
    "AES_CMAC",
    "AES_GMAC",
    "HMAC_SHA256",
    "TRANSFORM_HEADER_LEN",
    "MIN_MESSAGE_LEN",
    "AesCmac",
    "AesGmac",
    "EncryptionKey",
    "Header",
    "HmacSha256",
    "PreauthHash",
    "SigningKey",
    "__version__",
    "aes_cmac",
    "aes_gmac",
    "algorithm_for_dialect",
    "backend_info",
    "check_capture",
    "check_capture_json",
    "check_decrypted",
    "cipher_for_dialect",
    "clear_signatures",
    "decrypt_batch",
    "decrypt_in_place",
    "decrypt_message",
    "encrypt_batch",
    "encrypt_in_place",
    "encrypt_message",
    "encryption_exemption",
    "gmac_nonce",
    "gmac_nonce_for",
    "header_for_mac",
    "hmac_sha256",
    "kbkdf_hmac_sha256",
    "kdf",
    "must_be_encrypted",
    "must_be_signed",
    "session_cipher_keys",
    "session_requires_signing",
    "sign_batch",
    "sign_pdu",
    "sign_pdus",
    "signature_applies",
    "signing_exemption",
    "skips_verification",
    "smb30_keys",
    "smb311_keys",
    "transform_session_id",
    "verify_batch",
    "verify_pdu",
    "verify_pdus",
    "verifying_session_ids",
]
