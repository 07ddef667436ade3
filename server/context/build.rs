//! Turns `assets/o200k_base.tiktoken` (one `base64-token rank` per line, ranks 0, 1, 2, … in
//! order) into the two blobs `src/bpe.rs` embeds: every token's bytes one after the other
//! (`o200k.bytes`), and where each token ends in them as little-endian u32s (`o200k.ends`).
//! Decoding here rather than at run time keeps the 3.6 MB of base64 text out of the binary and
//! out of the server's memory: what is embedded is already the compact form.

use std::path::Path;

const ASSET: &str = "assets/o200k_base.tiktoken";

fn main() {
    println!("cargo:rerun-if-changed={ASSET}");
    println!("cargo:rerun-if-changed=build.rs");
    let text = std::fs::read_to_string(ASSET).expect("the o200k rank file is in the crate");
    let mut bytes = Vec::with_capacity(1 << 21);
    let mut ends = Vec::with_capacity(4 * 200_000);
    for (line_no, line) in text.lines().enumerate() {
        let (token, rank) = line.split_once(' ').unwrap_or_else(|| panic!("{ASSET}:{}: no rank", line_no + 1));
        // Ranks are the line numbers, so a token's rank is its index in `ends`: no rank column
        // is needed at run time. Stop the build if the file ever breaks that.
        assert_eq!(rank.parse::<usize>().ok(), Some(line_no), "{ASSET}:{}: rank out of order", line_no + 1);
        decode_base64(token, &mut bytes).unwrap_or_else(|| panic!("{ASSET}:{}: bad base64", line_no + 1));
        let end = u32::try_from(bytes.len()).expect("token bytes fit in u32 offsets");
        ends.extend_from_slice(&end.to_le_bytes());
    }
    let out = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    std::fs::write(Path::new(&out).join("o200k.bytes"), &bytes).expect("OUT_DIR is writable");
    std::fs::write(Path::new(&out).join("o200k.ends"), &ends).expect("OUT_DIR is writable");
}

/// Standard base64 with `=` padding, appended to `out`; `None` on anything else.
fn decode_base64(text: &str, out: &mut Vec<u8>) -> Option<()> {
    let digit = |c: u8| match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    };
    let text = text.as_bytes();
    if !text.len().is_multiple_of(4) {
        return None;
    }
    for quad in text.chunks(4) {
        let pad = quad.iter().rev().take_while(|&&c| c == b'=').count();
        if pad > 2 {
            return None;
        }
        let mut acc = 0u32;
        for &c in &quad[..4 - pad] {
            acc = acc << 6 | u32::from(digit(c)?);
        }
        acc <<= 6 * pad as u32;
        let [_, a, b, c] = acc.to_be_bytes();
        out.extend_from_slice(&[a, b, c][..3 - pad]);
    }
    Some(())
}
