//! Bytes from Python without copying: any C-contiguous buffer-protocol object.
//! Wrong types raise TypeError; read-only buffers where writing is needed raise TypeError.
//! Int arguments: TypeError for a non-int (bool included), ValueError for any
//! int out of range, however large or negative (never OverflowError).

use pyo3::buffer::PyUntypedBuffer;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyInt};

/// An int argument: `Some(v)` for an int in `0..2^64`, `None` for any other
/// int (negative or huge: the caller raises its ValueError naming the value);
/// TypeError for a non-int, and for bool (True is not an id or a length).
pub fn int_arg(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<Option<u64>> {
    if obj.is_instance_of::<PyBool>() || !obj.is_instance_of::<PyInt>() {
        let ty = obj
            .get_type()
            .name()
            .map(|n| n.to_string())
            .unwrap_or_default();
        return Err(PyTypeError::new_err(format!(
            "{what} must be an int, not {ty}"
        )));
    }
    Ok(obj.extract::<u64>().ok())
}

/// Inputs at least this long are processed with the GIL released.
pub const DETACH_MIN: usize = 4096;

/// A held buffer export: the object cannot be resized or freed while this lives.
pub struct Bytes {
    buf: PyUntypedBuffer,
}

// SAFETY: the export pins the memory; the pointer is only read (or, for
// `as_mut`, written) while the holder is alive, as hashlib does.
unsafe impl Send for Bytes {}
// SAFETY: as above; shared access only reads.
unsafe impl Sync for Bytes {}

impl Bytes {
    /// Takes a buffer export of `obj`, which must be C-contiguous.
    /// An object that is no buffer at all raises TypeError naming `what`
    /// (the original error as its `__cause__`); a buffer whose export fails
    /// (a released memoryview, a closed mmap...) raises that original error.
    pub fn new(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<Bytes> {
        let py = obj.py();
        let buf = PyUntypedBuffer::get(obj).map_err(|e| {
            if !e.is_instance_of::<PyTypeError>(py) {
                return e;
            }
            let ty = obj
                .get_type()
                .name()
                .map(|n| n.to_string())
                .unwrap_or_default();
            let t = PyTypeError::new_err(format!("{what}: expected a bytes-like object, got {ty}"));
            t.set_cause(py, Some(e));
            t
        })?;
        if !buf.is_c_contiguous() {
            return Err(PyValueError::new_err(format!(
                "{what}: buffer must be C-contiguous"
            )));
        }
        Ok(Bytes { buf })
    }

    /// Like [`Bytes::new`], and the buffer must be writable.
    pub fn new_mut(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<Bytes> {
        let b = Bytes::new(obj, what)?;
        if b.buf.readonly() {
            return Err(PyTypeError::new_err(format!(
                "{what}: buffer is read-only (pass a bytearray or writable memoryview)"
            )));
        }
        Ok(b)
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.buf.len_bytes()
    }

    /// The bytes.
    pub fn as_slice(&self) -> &[u8] {
        if self.len() == 0 {
            return &[];
        }
        // SAFETY: the export is C-contiguous (checked), non-empty, and pinned for `self`'s life.
        unsafe { std::slice::from_raw_parts(self.buf.buf_ptr().cast::<u8>(), self.len()) }
    }

    /// The bytes, writable.
    pub fn as_mut(&mut self) -> &mut [u8] {
        if self.len() == 0 {
            return &mut [];
        }
        // SAFETY: writable (checked in new_mut), C-contiguous, pinned; `&mut self`
        // makes this the only slice of the export alive.
        unsafe { std::slice::from_raw_parts_mut(self.buf.buf_ptr().cast::<u8>(), self.len()) }
    }
}

/// Runs `f`, releasing the GIL when `len` is large enough to be worth it.
pub fn maybe_detach<T: Send>(py: Python<'_>, len: usize, f: impl FnOnce() -> T + Send) -> T {
    if len >= DETACH_MIN {
        py.detach(f)
    } else {
        f()
    }
}

/// A fixed-length byte argument (key, nonce).
pub fn fixed<const N: usize>(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<[u8; N]> {
    let b = Bytes::new(obj, what)?;
    b.as_slice()
        .try_into()
        .map_err(|_| PyValueError::new_err(format!("{what} must be {N} bytes, got {}", b.len())))
}
