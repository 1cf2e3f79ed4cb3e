//! The one error type of the crate.

use core::fmt;

/// Why an operation was refused. Nothing is written to a caller's buffer when
/// any of these is returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Error {
    /// A key had the wrong length for its algorithm.
    KeyLength {
        /// The length the algorithm requires.
        expected: usize,
        /// The length that was given.
        got: usize,
    },
    /// A PDU (or a PDU inside a compound chain) is shorter than the 64-byte SMB2 header.
    Truncated {
        /// Offset of the PDU within the buffer.
        offset: usize,
        /// Bytes available from that offset.
        len: usize,
    },
    /// A PDU does not start with the SMB2 ProtocolId `FE 'S' 'M' 'B'`.
    BadProtocolId {
        /// Offset of the PDU within the buffer.
        offset: usize,
    },
    /// A `NextCommand` field is not 8-byte aligned, is smaller than a header,
    /// or points past the end of the buffer.
    BadNextCommand {
        /// Offset of the PDU holding the field.
        offset: usize,
        /// The field's value.
        next_command: u32,
    },
    /// The PDU being verified does not have `SMB2_FLAGS_SIGNED` set.
    NotSigned {
        /// Offset of the PDU within the buffer.
        offset: usize,
    },
    /// A signature did not match.
    BadSignature {
        /// Offset of the first PDU whose signature did not match.
        offset: usize,
    },
    /// A MAC tag did not match (non-PDU verification).
    TagMismatch,
    /// AES-GMAC needs a 12-byte nonce and none was given.
    MissingNonce,
    /// A nonce was given to an algorithm that takes none (HMAC-SHA256, AES-CMAC).
    UnexpectedNonce,
    /// The dialect is not one SMB signing is defined for (0x0202, 0x0210, 0x0300, 0x0302, 0x0311).
    UnsupportedDialect(u16),
    /// The SigningAlgorithmId is not 0 (HMAC-SHA256), 1 (AES-CMAC) or 2 (AES-GMAC).
    UnknownSigningAlgorithm(u16),
    /// A requested output length is not supported (KDF output of 0 bytes or over 2^32-1 bits' worth of blocks).
    OutputLength(usize),
    /// A batch call's output slice does not have one entry per job.
    BatchLength {
        /// Jobs in the batch.
        jobs: usize,
        /// Entries in the output.
        outputs: usize,
    },
    /// The requested backend tier cannot run on this CPU or architecture.
    BackendUnavailable(&'static str),
    /// A backend name was not recognised.
    UnknownBackend,

    // ---- SMB3 encryption ([`crate::cipher`]) ----
    /// The cipher id is not one of SMB2's 1 (AES-128-CCM), 2 (AES-128-GCM),
    /// 3 (AES-256-CCM) or 4 (AES-256-GCM).
    UnknownCipher(u16),
    /// A cipher name was not recognised.
    UnknownCipherName,
    /// A nonce had the wrong length for its cipher (CCM 11 bytes, GCM 12).
    NonceLength {
        /// The length the cipher requires.
        expected: usize,
        /// The length that was given.
        got: usize,
    },
    /// A message is longer than its cipher can protect under one nonce
    /// (GCM: 2^36 - 32 bytes; CCM with an 11-byte nonce: 2^32 - 1).
    MessageLength {
        /// The longest message the cipher takes.
        max: u64,
        /// The message's length.
        got: u64,
    },
    /// Additional authenticated data longer than GCM takes (2^61 - 1 bytes).
    AadLength {
        /// The longest the cipher takes.
        max: u64,
        /// The length given.
        got: u64,
    },
    /// Decryption found a tag that does not match: the message was altered,
    /// or key, nonce or AAD are not the sender's. The buffer holds the
    /// ciphertext again.
    AuthenticationFailed,
    /// A TRANSFORM_HEADER message is shorter than its 52-byte header plus one byte of message.
    TransformTruncated {
        /// Bytes available.
        len: usize,
    },
    /// A message does not start with the TRANSFORM_HEADER ProtocolId `FD 'S' 'M' 'B'`.
    BadTransformProtocolId,
    /// A TRANSFORM_HEADER's Flags/EncryptionAlgorithm is not 0x0001 (Encrypted).
    BadTransformFlags(u16),
    /// A TRANSFORM_HEADER's OriginalMessageSize is not the length of the message after it.
    TransformSizeMismatch {
        /// OriginalMessageSize.
        original: u32,
        /// The length of the message given.
        got: usize,
    },
    /// A message to encrypt is shorter than the 64-byte SMB2 header: no SMB2
    /// message is (MS-SMB2 3.3.5.2.6), so no receiver takes it.
    MessageTooShort {
        /// The least length, 64.
        min: usize,
        /// The length given.
        got: usize,
    },
    /// A TRANSFORM_HEADER's OriginalMessageSize is below the 64-byte SMB2
    /// header: refused before decrypting (MS-SMB2 3.3.5.2.6, 3.2.5.1.1.1).
    OriginalSizeTooSmall {
        /// OriginalMessageSize.
        original: u32,
    },
    /// A decrypted message's PDU carries a SessionId other than the
    /// TRANSFORM_HEADER's (MS-SMB2 3.3.5.2.7, 3.2.5.1.1.1): the receiver disconnects.
    TransformSessionMismatch {
        /// The TRANSFORM_HEADER's SessionId.
        transform: u64,
        /// The PDU's SessionId.
        session: u64,
        /// The PDU's offset in the decrypted message.
        offset: usize,
    },
    /// A decrypted message is itself a transform message (`FD 'SMB'`; MS-SMB2
    /// 3.2.5.1.1.1, 3.3.5.2.1.1: the receiver disconnects).
    NestedTransform,
    /// A nonce source has handed out all 2^64 - 1 of its nonces: the key must be replaced.
    NoncesExhausted,
    /// The operating system's random number generator failed.
    RandomUnavailable,
    /// The cipher is not one the dialect encrypts with (3.0 and 3.0.2: AES-128-CCM only).
    CipherNotInDialect {
        /// The dialect.
        dialect: u16,
        /// The CipherId.
        cipher: u16,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Error::KeyLength { expected, got } => {
                write!(f, "key must be {expected} bytes, got {got}")
            }
            Error::Truncated { offset, len } => write!(
                f,
                "PDU at offset {offset} has {len} bytes, fewer than the 64-byte SMB2 header"
            ),
            Error::BadProtocolId { offset } => {
                write!(f, "PDU at offset {offset} does not start with FE 'SMB'")
            }
            Error::BadNextCommand { offset, next_command } => write!(
                f,
                "NextCommand {next_command} in PDU at offset {offset} is unaligned, below 64, or out of bounds"
            ),
            Error::NotSigned { offset } => {
                write!(f, "PDU at offset {offset} does not have SMB2_FLAGS_SIGNED set")
            }
            Error::BadSignature { offset } => {
                write!(f, "signature of PDU at offset {offset} does not match")
            }
            Error::TagMismatch => f.write_str("MAC tag does not match"),
            Error::MissingNonce => f.write_str("AES-GMAC needs a 12-byte nonce"),
            Error::UnexpectedNonce => {
                f.write_str("a nonce was given to an algorithm that takes none")
            }
            Error::UnsupportedDialect(d) => write!(f, "dialect {d:#06x} has no SMB2 signing"),
            Error::UnknownSigningAlgorithm(a) => {
                write!(f, "unknown SMB2 SigningAlgorithmId {a}")
            }
            Error::OutputLength(n) => write!(f, "unsupported output length {n}"),
            Error::BatchLength { jobs, outputs } => {
                write!(f, "batch of {jobs} jobs given {outputs} output entries")
            }
            Error::BackendUnavailable(name) => {
                write!(f, "backend {name} is not available on this CPU")
            }
            Error::UnknownBackend => f.write_str("unknown backend name"),
            Error::UnknownCipher(id) => write!(f, "unknown SMB2 cipher id {id}"),
            Error::UnknownCipherName => f.write_str("unknown cipher name"),
            Error::NonceLength { expected, got } => {
                write!(f, "nonce must be {expected} bytes, got {got}")
            }
            Error::MessageLength { max, got } => {
                write!(f, "message of {got} bytes is longer than the cipher's {max}")
            }
            Error::AadLength { max, got } => write!(
                f,
                "additional authenticated data of {got} bytes is longer than the cipher's {max}"
            ),
            Error::AuthenticationFailed => {
                f.write_str("authentication tag does not match: message rejected")
            }
            Error::TransformTruncated { len } => write!(
                f,
                "transform message has {len} bytes, not more than the 52-byte TRANSFORM_HEADER"
            ),
            Error::BadTransformProtocolId => {
                f.write_str("message does not start with the TRANSFORM_HEADER ProtocolId FD 'SMB'")
            }
            Error::BadTransformFlags(v) => write!(
                f,
                "TRANSFORM_HEADER Flags/EncryptionAlgorithm is {v:#06x}, not 0x0001 (Encrypted)"
            ),
            Error::TransformSizeMismatch { original, got } => write!(
                f,
                "TRANSFORM_HEADER OriginalMessageSize is {original} but {got} bytes follow"
            ),
            Error::MessageTooShort { min, got } => write!(
                f,
                "message of {got} bytes is shorter than the {min}-byte SMB2 header: not encrypted"
            ),
            Error::OriginalSizeTooSmall { original } => write!(
                f,
                "TRANSFORM_HEADER OriginalMessageSize {original} is below the 64-byte SMB2 header"
            ),
            Error::TransformSessionMismatch {
                transform,
                session,
                offset,
            } => write!(
                f,
                "PDU at offset {offset} of the decrypted message has SessionId {session:#x}, \
                 not the TRANSFORM_HEADER's {transform:#x}"
            ),
            Error::NestedTransform => {
                f.write_str("decrypted message is itself a transform message (FD 'SMB')")
            }
            Error::NoncesExhausted => {
                f.write_str("nonce source exhausted: replace the key before encrypting more")
            }
            Error::RandomUnavailable => f.write_str("the system random number generator failed"),
            Error::CipherNotInDialect { dialect, cipher } => write!(
                f,
                "CipherId {cipher} is not available in dialect {dialect:#06x} (AES-128-CCM only)"
            ),
        }
    }
}

impl std::error::Error for Error {}

/// The crate's result type.
pub type Result<T, E = Error> = core::result::Result<T, E>;
