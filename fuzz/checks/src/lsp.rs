//! Invariant checks for the language server's edges: position conversion, incremental sync and
//! the frame guard in front of the protocol codec.

use ropey::Rope;
use showrunner_lsp::pos::{rope_char, to_offset, to_position, Encoding};
use showrunner_lsp::transport::{check, guard};
use showrunner_model::text::LineIndex;
use tower_lsp_server::ls_types::Position;

const ENCODINGS: [Encoding; 2] = [Encoding::Utf8, Encoding::Utf16];

/// Where a line's content ends (before `\r\n`, `\n` or a lone `\r`, the LSP's line ends), from
/// the text alone.
fn line_end(text: &str, lines: &LineIndex, line: usize) -> usize {
    let start = lines.line_start(line);
    let next = if line + 1 < lines.line_count() { lines.line_start(line + 1) } else { text.len() };
    let content = &text[start..next];
    let content = content
        .strip_suffix("\r\n")
        .or_else(|| content.strip_suffix('\n'))
        .or_else(|| content.strip_suffix('\r'))
        .unwrap_or(content);
    start + content.len()
}

/// `positions`: the input (UTF-8, lossily) is a document. Every offset on a char boundary
/// round-trips through a position (an offset between `\r` and `\n` comes back before the `\r`),
/// positions grow with offsets, off-boundary and past-the-end offsets floor, positions past the
/// end of a line or of the text clamp, and the rope agrees with the text on every position.
pub fn positions(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let text = text.as_ref();
    let bytes = text.as_bytes();
    let lines = LineIndex::new(text);
    let rope = Rope::from_str(text);
    assert_eq!(rope.len_lines(), lines.line_count(), "the rope and the line index count lines alike");
    for enc in ENCODINGS {
        let mut prev: Option<Position> = None;
        // Every offset of a short text; a sample of a long one (each conversion walks its line).
        let step = (text.len() / 1024).max(1);
        for o in (0..=text.len()).filter(|o| o % step == 0 || *o == text.len()) {
            let p = to_position(text, &lines, o, enc);
            if !text.is_char_boundary(o) {
                let mut floor = o;
                while !text.is_char_boundary(floor) {
                    floor -= 1;
                }
                assert_eq!(p, to_position(text, &lines, floor, enc), "{enc:?}: offset {o} inside a char");
                continue;
            }
            if let Some(q) = prev {
                assert!((q.line, q.character) < (p.line, p.character), "{enc:?}: {q:?} then {p:?} at offset {o}");
            }
            prev = Some(p);
            let back = to_offset(text, &lines, p, enc);
            let inside_crlf = o > 0 && bytes.get(o) == Some(&b'\n') && bytes[o - 1] == b'\r';
            assert_eq!(back, if inside_crlf { o - 1 } else { o }, "{enc:?}: offset {o} → {p:?} → {back}");
            assert_eq!(
                rope.char_to_byte(rope_char(&rope, p, enc)),
                back,
                "{enc:?}: the rope and the text disagree on {p:?}"
            );
        }
        assert_eq!(to_position(text, &lines, text.len() + 7, enc), to_position(text, &lines, text.len(), enc));
        assert_eq!(to_position(text, &lines, usize::MAX, enc), to_position(text, &lines, text.len(), enc));

        for line in 0..lines.line_count() + 2 {
            for character in [0, 1, 2, 3, 5, 8, 13, 21, 80, 1000, u32::MAX] {
                let p = Position { line: line as u32, character };
                let o = to_offset(text, &lines, p, enc);
                assert!(o <= text.len() && text.is_char_boundary(o), "{enc:?}: {p:?} → {o} is not a char boundary");
                if line >= lines.line_count() {
                    assert_eq!(o, text.len(), "{enc:?}: {p:?} past the last line clamps to the end");
                } else {
                    let (start, end) = (lines.line_start(line), line_end(text, &lines, line));
                    assert!(start <= o && o <= end, "{enc:?}: {p:?} → {o} is outside its line {start}..{end}");
                    if character == u32::MAX {
                        assert_eq!(o, end, "{enc:?}: {p:?} past the end of the line clamps to its end");
                    }
                }
                assert_eq!(
                    rope.char_to_byte(rope_char(&rope, p, enc)),
                    o,
                    "{enc:?}: the rope and the text disagree on {p:?}"
                );
            }
        }
    }
    // A line past u32 positions: the last line, the end.
    let p = Position { line: u32::MAX, character: u32::MAX };
    assert_eq!(to_offset(text, &lines, p, Encoding::Utf16), text.len());
    assert_eq!(rope_char(&rope, p, Encoding::Utf16), rope.len_chars());
}

/// `sync`: the input is a document, a NUL byte, and an edit script: a byte whose low bit picks
/// the encoding (1 = UTF-8), then edits of six bytes — flags (high bit: replace the whole
/// document), start line, start character, end line, end character (255 means `u32::MAX`),
/// length of the new text — each followed by that many bytes of new text (UTF-8, lossily).
///
/// The edits go to a rope exactly as `did_change` in `server/lsp/src/lib.rs` applies them, and
/// to a plain `String` through `to_offset` over a fresh line index; both must agree after each.
pub fn sync(data: &[u8]) {
    let (doc, script) = match data.iter().position(|b| *b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    let enc = if script.first().is_some_and(|b| b & 1 == 1) { Encoding::Utf8 } else { Encoding::Utf16 };
    let mut string = String::from_utf8_lossy(doc).into_owned();
    let mut rope = Rope::from_str(&string);
    let mut i = 1;
    let mut edits = 0;
    while i + 6 <= script.len() && edits < 256 {
        let h = &script[i..i + 6];
        i += 6;
        let len = h[5] as usize;
        let new_text = String::from_utf8_lossy(&script[i..(i + len).min(script.len())]).into_owned();
        i += len;
        edits += 1;
        if h[0] & 0x80 != 0 {
            rope = Rope::from_str(&new_text);
            string = new_text;
            continue;
        }
        let pos = |line: u8, character: u8| Position {
            line: line as u32,
            character: if character == 255 { u32::MAX } else { character as u32 },
        };
        let (start, end) = (pos(h[1], h[2]), pos(h[3], h[4]));

        // As did_change does.
        let a = rope_char(&rope, start, enc);
        let b = rope_char(&rope, end, enc);
        let (a, b) = (a.min(b), a.max(b));
        rope.remove(a..b);
        rope.insert(a, &new_text);

        // The same edit on a String, by byte offsets.
        let lines = LineIndex::new(&string);
        let x = to_offset(&string, &lines, start, enc);
        let y = to_offset(&string, &lines, end, enc);
        string.replace_range(x.min(y)..x.max(y), &new_text);

        assert_eq!(rope.len_bytes(), string.len(), "edit {edits} {start:?}..{end:?} {new_text:?} ({enc:?})");
        assert!(
            rope == string.as_str(),
            "edit {edits} {start:?}..{end:?} {new_text:?} ({enc:?}): rope {:?} vs {string:?}",
            rope.to_string()
        );
    }
}

/// The guard's output for `input`: the frames passed on (raw bytes) and the error responses.
fn run_guard(input: &[u8]) -> (Vec<u8>, Vec<Vec<u8>>) {
    static RT: std::sync::OnceLock<tokio::runtime::Runtime> = std::sync::OnceLock::new();
    let rt = RT.get_or_init(|| tokio::runtime::Builder::new_current_thread().build().expect("a runtime"));
    let mut out = Vec::new();
    let replies = std::cell::RefCell::new(Vec::new());
    rt.block_on(guard(input, &mut out, |b| replies.borrow_mut().push(b)));
    (out, replies.into_inner())
}

/// Splits the guard's output into frame bodies: it must be nothing but
/// `Content-Length: N\r\n\r\n` + N bytes of a well-formed JSON-RPC message, again and again.
fn frames(out: &[u8]) -> Vec<&[u8]> {
    let mut rest = out;
    let mut bodies = Vec::new();
    while !rest.is_empty() {
        let head = rest
            .strip_prefix(b"Content-Length: ")
            .unwrap_or_else(|| panic!("output does not start a frame: {:?}", String::from_utf8_lossy(rest)));
        let digits = head.iter().take_while(|b| b.is_ascii_digit()).count();
        assert!(digits > 0, "frame without a length");
        let len: usize = std::str::from_utf8(&head[..digits]).expect("digits").parse().expect("a length");
        let body = head[digits..].strip_prefix(b"\r\n\r\n").expect("the header ends with an empty line");
        assert!(body.len() >= len, "frame of {len} bytes cut short at {}", body.len());
        let (body, next) = body.split_at(len);
        if let Err(e) = check(body) {
            panic!("a body the codec would refuse passed ({e:?}): {:?}", String::from_utf8_lossy(body));
        }
        bodies.push(body);
        rest = next;
    }
    bodies
}

/// Every error response the guard sent is a JSON-RPC 2.0 error with a usable or null id.
fn check_replies(replies: &[Vec<u8>]) {
    for r in replies {
        let v: serde_json::Value = serde_json::from_slice(r).expect("a reply is JSON");
        assert_eq!(v["jsonrpc"], "2.0", "{v}");
        assert!(v["id"].is_null() || v["id"].is_i64() || v["id"].is_string(), "{v}");
        assert!(matches!(v["error"]["code"].as_i64(), Some(-32700 | -32600)), "{v}");
        assert!(v["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "{v}");
    }
}

/// A request every input is followed by: it must come out, whatever came before it.
const NEXT: &[u8] = br#"{"jsonrpc":"2.0","id":"next","method":"textDocument/hover","params":{}}"#;

/// `lsp_frames`: any bytes through the guard give only well-formed frames of well-formed
/// JSON-RPC messages and well-formed error responses, no more of them than the input has
/// headers; the next well-formed request after any input comes out whole, last; and the input's
/// lines, each sent as a well-formed frame, come out one for one: well-formed messages
/// unchanged, anything else not at all.
pub fn lsp_frames(data: &[u8]) {
    let (out, replies) = run_guard(data);
    let bodies = frames(&out);
    check_replies(&replies);
    let lower = data.to_ascii_lowercase();
    let headers = lower.windows(b"content-length".len()).filter(|w| w == b"content-length").count();
    assert!(
        bodies.len() + replies.len() <= headers,
        "{} frames and {} replies out of {headers} headers",
        bodies.len(),
        replies.len()
    );

    let mut then = data.to_vec();
    then.extend_from_slice(format!("Content-Length: {}\r\n\r\n", NEXT.len()).as_bytes());
    then.extend_from_slice(NEXT);
    let (out, replies) = run_guard(&then);
    let bodies = frames(&out);
    check_replies(&replies);
    assert_eq!(
        bodies.last().copied(),
        Some(NEXT),
        "the next well-formed request was lost after {:?}",
        String::from_utf8_lossy(data)
    );

    let chunks: Vec<&[u8]> = data.split(|b| *b == b'\n').take(64).collect();
    let mut framed = Vec::new();
    for c in &chunks {
        framed.extend_from_slice(format!("Content-Length: {}\r\n\r\n", c.len()).as_bytes());
        framed.extend_from_slice(c);
    }
    let (out, replies) = run_guard(&framed);
    let bodies = frames(&out);
    check_replies(&replies);
    let expected: Vec<&[u8]> = chunks.iter().copied().filter(|c| check(c).is_ok()).collect();
    if !chunks.iter().any(|c| has_header_line(c)) {
        assert_eq!(bodies, expected, "well-formed frames lost or changed");
    }
}

/// Whether a chunk holds a `Content-Length: N` header line of its own (the guard then cuts the
/// frame there, as it should).
fn has_header_line(chunk: &[u8]) -> bool {
    let lower = chunk.to_ascii_lowercase();
    lower.windows(15).any(|w| w == b"content-length:") && chunk.contains(&b'\r')
}
