//! Writes the Mozilla root program's certificates (the `webpki-root-certs` crate, a build
//! dependency) as one PEM bundle into `OUT_DIR`, which `src/trust.rs` compiles in: the SDK's
//! trust store takes PEM, and encoding it here spares every cold start the work.

use base64::Engine;
use std::fmt::Write;

fn main() {
    let mut pem = String::new();
    for certificate in webpki_root_certs::TLS_SERVER_ROOT_CERTS {
        let encoded = base64::engine::general_purpose::STANDARD.encode(certificate.as_ref());
        pem.push_str("-----BEGIN CERTIFICATE-----\n");
        for line in encoded.as_bytes().chunks(64) {
            let _ = writeln!(pem, "{}", std::str::from_utf8(line).expect("base64 is ASCII"));
        }
        pem.push_str("-----END CERTIFICATE-----\n");
    }
    let out = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    std::fs::write(std::path::Path::new(&out).join("mozilla-roots.pem"), pem).expect("write the roots");
    println!("cargo::rerun-if-changed=build.rs");
}
