// The shared library's soname is libsmbsign.so.0, whatever cargo calls the file.
fn main() {
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if os == "linux" {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libsmbsign.so.0");
    }
}
