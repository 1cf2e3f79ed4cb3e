// With the `peers` feature: compiles the OpenSSL/GnuTLS shim against the
// OpenSSL that openssl-src built (its headers first) and Debian's GnuTLS.
fn main() {
    println!("cargo:rerun-if-changed=shim/peers.c");
    println!("cargo:rerun-if-changed=shim/ipsecmb.c");
    println!("cargo:rerun-if-changed=shim/aead.c");
    #[cfg(feature = "peers")]
    {
        let mut b = cc::Build::new();
        if let Ok(inc) = std::env::var("DEP_OPENSSL_INCLUDE") {
            b.include(inc);
        }
        b.file("shim/peers.c")
            .file("shim/aead.c")
            .opt_level(2)
            .compile("smbsign_peers");
        println!("cargo:rustc-link-lib=gnutls");
        // intel-ipsec-mb (Debian's libipsec-mb-dev: static library), x86-64 only.
        if std::env::var("CARGO_CFG_TARGET_ARCH").as_deref() == Ok("x86_64") {
            cc::Build::new()
                .file("shim/ipsecmb.c")
                .opt_level(2)
                .compile("smbsign_ipsecmb");
            println!("cargo:rustc-link-search=native=/usr/lib/x86_64-linux-gnu");
            println!("cargo:rustc-link-lib=static=IPSec_MB");
        }
    }
}
