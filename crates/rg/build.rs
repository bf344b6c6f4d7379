//! Embeds the critical-slowing plot (`img/tau.png`, written by the `critical_slowing` example)
//! in the crate docs as a data URI, so that it shows wherever the docs are read (docs.rs,
//! `cargo doc`) without a file beside them.

use std::path::Path;

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with padding (RFC 4648).
fn base64(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn main() {
    println!("cargo::rerun-if-changed=img/tau.png");
    let png = std::fs::read("img/tau.png").expect("img/tau.png is part of the package");
    let html = format!(
        "<img alt=\"integrated autocorrelation times at the critical point against L, log-log\" \
         width=\"800\" src=\"data:image/png;base64,{}\"/>\n",
        base64(&png)
    );
    let out = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    std::fs::write(Path::new(&out).join("tau_plot.md"), html).expect("OUT_DIR is writable");
}
