//! The real GnuTLS functions, found with `dlsym(RTLD_NEXT)` on first use and
//! kept in atomics (resolution is idempotent, so racing threads agree and no
//! lock is held across a `fork`).

use core::ffi::{c_int, c_uint, c_void, CStr};
use core::sync::atomic::{AtomicPtr, Ordering};

use libc::iovec;

// Values from /usr/include/gnutls/gnutls.h.
pub const GNUTLS_E_INVALID_REQUEST: c_int = -50;
pub const GNUTLS_E_INTERNAL_ERROR: c_int = -59;

/// `gnutls_datum_t`.
#[repr(C)]
pub struct Datum {
    pub data: *const u8,
    pub size: c_uint,
}

/// One lazily resolved symbol.
pub struct Sym {
    name: &'static CStr,
    ptr: AtomicPtr<c_void>,
}

impl Sym {
    const fn new(name: &'static CStr) -> Sym {
        Sym {
            name,
            ptr: AtomicPtr::new(core::ptr::null_mut()),
        }
    }

    /// The address of the real function, or null if no GnuTLS is loaded.
    pub fn addr(&self) -> *mut c_void {
        let p = self.ptr.load(Ordering::Acquire);
        if !p.is_null() {
            return p;
        }
        // SAFETY: dlsym with a NUL-terminated name; RTLD_NEXT finds the
        // definition after this library in the global search order.
        let mut q = unsafe { libc::dlsym(libc::RTLD_NEXT, self.name.as_ptr()) };
        if q.is_null() {
            // GnuTLS dlopen()ed locally after us: look in it directly.
            // SAFETY: RTLD_NOLOAD only returns an already loaded object.
            let lib = unsafe {
                libc::dlopen(
                    c"libgnutls.so.30".as_ptr(),
                    libc::RTLD_LAZY | libc::RTLD_NOLOAD,
                )
            };
            if !lib.is_null() {
                // SAFETY: a valid handle from dlopen and a NUL-terminated name.
                q = unsafe { libc::dlsym(lib, self.name.as_ptr()) };
            }
        }
        self.ptr.store(q, Ordering::Release);
        q
    }
}

macro_rules! real_fns {
    ($($field:ident = $name:literal : fn($($arg:ty),*) $(-> $ret:ty)?;)*) => {
        $(
            /// The real GnuTLS function, if loaded.
            pub fn $field() -> Option<unsafe extern "C" fn($($arg),*) $(-> $ret)?> {
                static SYM: Sym = Sym::new($name);
                let p = SYM.addr();
                if p.is_null() {
                    None
                } else {
                    // SAFETY: the symbol of that name in GnuTLS has exactly this
                    // prototype (checked against /usr/include/gnutls/crypto.h).
                    Some(unsafe { core::mem::transmute::<*mut c_void, unsafe extern "C" fn($($arg),*) $(-> $ret)?>(p) })
                }
            }
        )*
    };
}

real_fns! {
    fips140_mode_enabled = c"gnutls_fips140_mode_enabled": fn() -> c_uint;
    hmac_init = c"gnutls_hmac_init": fn(*mut *mut c_void, c_uint, *const c_void, usize) -> c_int;
    hmac_set_nonce = c"gnutls_hmac_set_nonce": fn(*mut c_void, *const c_void, usize);
    hmac = c"gnutls_hmac": fn(*mut c_void, *const c_void, usize) -> c_int;
    hmac_output = c"gnutls_hmac_output": fn(*mut c_void, *mut c_void);
    hmac_deinit = c"gnutls_hmac_deinit": fn(*mut c_void, *mut c_void);
    hmac_fast = c"gnutls_hmac_fast": fn(c_uint, *const c_void, usize, *const c_void, usize, *mut c_void) -> c_int;
    hmac_copy = c"gnutls_hmac_copy": fn(*mut c_void) -> *mut c_void;
    aead_init = c"gnutls_aead_cipher_init": fn(*mut *mut c_void, c_uint, *const Datum) -> c_int;
    aead_set_key = c"gnutls_aead_cipher_set_key": fn(*mut c_void, *const Datum) -> c_int;
    aead_decrypt = c"gnutls_aead_cipher_decrypt": fn(*mut c_void, *const c_void, usize, *const c_void, usize, usize, *const c_void, usize, *mut c_void, *mut usize) -> c_int;
    aead_encrypt = c"gnutls_aead_cipher_encrypt": fn(*mut c_void, *const c_void, usize, *const c_void, usize, usize, *const c_void, usize, *mut c_void, *mut usize) -> c_int;
    aead_encryptv = c"gnutls_aead_cipher_encryptv": fn(*mut c_void, *const c_void, usize, *const iovec, c_int, usize, *const iovec, c_int, *mut c_void, *mut usize) -> c_int;
    aead_encryptv2 = c"gnutls_aead_cipher_encryptv2": fn(*mut c_void, *const c_void, usize, *const iovec, c_int, *const iovec, c_int, *mut c_void, *mut usize) -> c_int;
    aead_decryptv2 = c"gnutls_aead_cipher_decryptv2": fn(*mut c_void, *const c_void, usize, *const iovec, c_int, *const iovec, c_int, *mut c_void, usize) -> c_int;
    aead_deinit = c"gnutls_aead_cipher_deinit": fn(*mut c_void);
}
