#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| smbsign_fuzz::c_abi_transform::check(data));
