//! The small part of HTTP/1.1 message syntax both binaries need.

/// Largest request or response head accepted, in bytes.
pub const MAX_HEAD: usize = 64 * 1024;

/// Length of the head at the start of `buf` (through the blank line), once complete.
pub fn head_end(buf: &[u8]) -> Option<usize> {
    buf.windows(4)
        .position(|window| window == b"\r\n\r\n")
        .map(|pos| pos + 4)
}

/// A parsed request or response head.
pub struct Head {
    /// The three parts of the start line (method/target/version or version/status/reason).
    pub start: [String; 3],
    headers: Vec<(String, String)>,
}

impl Head {
    /// Parses a complete head as found by [`head_end`]; `None` if malformed.
    pub fn parse(bytes: &[u8]) -> Option<Head> {
        let text = std::str::from_utf8(bytes).ok()?;
        let mut lines = text.split("\r\n");
        let mut parts = lines.next()?.splitn(3, ' ');
        let mut next_part = || parts.next().map(str::to_string);
        let start = [next_part()?, next_part()?, next_part().unwrap_or_default()];
        let mut headers = Vec::new();
        for line in lines.filter(|line| !line.is_empty()) {
            let (name, value) = line.split_once(':')?;
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
        }
        Some(Head { start, headers })
    }

    /// Every header as received, names lowercased, in order.
    pub fn headers(&self) -> &[(String, String)] {
        &self.headers
    }

    /// The first value of header `name` (lowercase), if present.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// True when header `name` lists `token` (case-insensitive), e.g. `connection: close`.
    pub fn has_token(&self, name: &str, token: &str) -> bool {
        self.headers
            .iter()
            .filter(|(key, _)| key == name)
            .flat_map(|(_, value)| value.split(','))
            .any(|item| item.trim().eq_ignore_ascii_case(token))
    }

    /// The `Content-Length`, `Ok(None)` when absent, `Err` when unparsable.
    pub fn content_length(&self) -> Result<Option<u64>, std::num::ParseIntError> {
        self.header("content-length").map(str::parse).transpose()
    }
}
