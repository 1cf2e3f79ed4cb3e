//! Proves `include/smbsign.h` is exactly what cbindgen generates from this crate
//! now. `SMBSIGN_BLESS=1` rewrites it instead.

use std::path::Path;

#[test]
fn checked_in_header_is_current() {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml")).unwrap();
    let mut generated = Vec::new();
    cbindgen::Builder::new()
        .with_crate(crate_dir)
        .with_config(config)
        .generate()
        .expect("cbindgen")
        .write(&mut generated);
    let path = crate_dir.join("../include/smbsign.h");
    if std::env::var_os("SMBSIGN_BLESS").is_some() {
        std::fs::write(&path, &generated).unwrap();
        return;
    }
    let checked_in = std::fs::read(&path).unwrap_or_default();
    assert!(
        checked_in == generated,
        "include/smbsign.h is stale: run SMBSIGN_BLESS=1 cargo test -p smbsign-ffi --test header"
    );
}
