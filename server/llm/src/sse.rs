//! Server-sent events, parsed incrementally: bytes arrive in arbitrary chunks (a line, an event,
//! even a UTF-8 character may be cut), events come out whole.

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    pub event: Option<String>,
    pub data: String,
}

#[derive(Debug, Default)]
pub struct SseParser {
    bytes: Vec<u8>,
    event: Option<String>,
    data: Vec<String>,
}

impl SseParser {
    pub fn feed(&mut self, chunk: &[u8]) -> Vec<SseEvent> {
        self.bytes.extend_from_slice(chunk);
        let mut out = Vec::new();
        while let Some(nl) = self.bytes.iter().position(|b| *b == b'\n') {
            let mut line: Vec<u8> = self.bytes.drain(..=nl).collect();
            line.pop();
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            let line = String::from_utf8_lossy(&line).into_owned();
            self.line(&line, &mut out);
        }
        out
    }

    /// Whatever is left when the stream ends (a last event without its blank line).
    pub fn finish(&mut self) -> Vec<SseEvent> {
        let mut out = Vec::new();
        if !self.bytes.is_empty() {
            let rest = String::from_utf8_lossy(&std::mem::take(&mut self.bytes)).into_owned();
            self.line(rest.trim_end_matches('\r'), &mut out);
        }
        self.line("", &mut out);
        out
    }

    fn line(&mut self, line: &str, out: &mut Vec<SseEvent>) {
        if line.is_empty() {
            if !self.data.is_empty() {
                out.push(SseEvent { event: self.event.take(), data: self.data.join("\n") });
                self.data.clear();
            }
            self.event = None;
            return;
        }
        if line.starts_with(':') {
            return;
        }
        let (field, value) = match line.split_once(':') {
            Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
            None => (line, ""),
        };
        match field {
            "data" => self.data.push(value.to_string()),
            "event" => self.event = Some(value.to_string()),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_cut_anywhere() {
        let stream = "data: {\"a\":1}\r\n\r\n: comment\n\nevent: x\ndata: line1\ndata: line2\n\ndata: Zoë\n\n";
        for cut in 0..stream.len() {
            let mut p = SseParser::default();
            let mut got = p.feed(&stream.as_bytes()[..cut]);
            got.extend(p.feed(&stream.as_bytes()[cut..]));
            got.extend(p.finish());
            let data: Vec<&str> = got.iter().map(|e| e.data.as_str()).collect();
            assert_eq!(data, ["{\"a\":1}", "line1\nline2", "Zoë"], "cut at {cut}");
            assert_eq!(got[1].event.as_deref(), Some("x"));
        }
    }
}
