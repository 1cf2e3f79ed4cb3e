// With the `peers` feature: compiles the OpenSSL/GnuTLS shim against the
// OpenSSL that openssl-src built (its headers first) and Debian's GnuTLS.
fn main() {
    println!("cargo:rerun-if-changed=shim/peers.c");
    #[cfg(feature = "peers")]
    {
        let mut b = cc::Build::new();
        if let Ok(inc) = std::env::var("DEP_OPENSSL_INCLUDE") {
            b.include(inc);
        }
        b.file("shim/peers.c").opt_level(2).compile("smbsign_peers");
        println!("cargo:rustc-link-lib=gnutls");
    }
}
