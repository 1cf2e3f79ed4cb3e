/* Preloaded after libsmbsign_gnutls.so, so that its dlsym(RTLD_NEXT) finds this
 * gnutls_fips140_mode_enabled: GnuTLS "in FIPS mode" without a FIPS build
 * (Debian's GnuTLS is not one), to prove the drop-in then steps aside. */
unsigned gnutls_fips140_mode_enabled(void) { return 1; }
