//! Capturing a guest's stdout and stderr.
//!
//! Each line a plugin prints is handed to the run's output sink as it
//! completes (live progress, prefixed with the hook's name by the reporter),
//! and the last lines are kept so a failure can show them. What the host
//! keeps is bounded whatever the guest prints: a plugin printing gigabytes
//! costs the host a counter, not memory.

use std::collections::VecDeque;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use bytes::Bytes;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamResult};

/// Which of the guest's two output streams a line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

/// Where complete output lines go (the run's reporter).
pub type LineSink = Arc<dyn Fn(Stream, &str) + Send + Sync>;

/// Lines kept for the error report of a failed hook.
const TAIL_LINES: usize = 20;
/// The longest line forwarded; longer lines are cut (and marked).
const MAX_LINE: usize = 4096;
/// After this many bytes in one call, output is counted but not forwarded.
const MAX_FORWARDED: u64 = 1 << 20;

/// The shared state behind a guest's stdout and stderr.
struct Capture {
    sink: LineSink,
    partial: [Vec<u8>; 2],
    tail: VecDeque<String>,
    forwarded: u64,
    dropped: u64,
}

/// A handle to one plugin's captured output; cheap to clone.
#[derive(Clone)]
pub struct GuestOutput {
    inner: Arc<Mutex<Capture>>,
}

impl GuestOutput {
    pub fn new(sink: LineSink) -> GuestOutput {
        GuestOutput {
            inner: Arc::new(Mutex::new(Capture {
                sink,
                partial: [Vec::new(), Vec::new()],
                tail: VecDeque::new(),
                forwarded: 0,
                dropped: 0,
            })),
        }
    }

    /// The stream to give WASI as the guest's stdout or stderr.
    pub fn stream(&self, stream: Stream) -> CaptureStream {
        CaptureStream {
            output: self.clone(),
            stream,
        }
    }

    /// Start a new call: flush what a previous call left and forget its tail.
    pub fn begin_call(&self) {
        let mut capture = self.lock();
        capture.flush_partial();
        capture.tail.clear();
        capture.forwarded = 0;
        capture.dropped = 0;
    }

    /// End a call: flush unterminated lines, return the kept tail.
    pub fn end_call(&self) -> Vec<String> {
        let mut capture = self.lock();
        capture.flush_partial();
        if capture.dropped > 0 {
            // Shown live and kept for the failure report: the operator
            // learns output was cut either way.
            let note = format!("[{} more bytes of output not shown]", capture.dropped);
            capture.emit(Stream::Stderr, note.as_bytes());
        }
        capture.tail.iter().cloned().collect()
    }

    /// A whole line produced on the guest's behalf (a helper's message, a
    /// called function's output): shown and kept like the guest's own, and
    /// counted against the same bound.
    pub fn line(&self, stream: Stream, text: &str) {
        let mut capture = self.lock();
        let size = text.len() as u64 + 1;
        if capture.forwarded >= MAX_FORWARDED {
            capture.dropped += size;
            return;
        }
        capture.forwarded += size;
        let end = floor_char_boundary(text, MAX_LINE);
        capture.emit(stream, &text.as_bytes()[..end]);
    }

    fn write(&self, stream: Stream, bytes: &[u8]) {
        self.lock().write(stream, bytes);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Capture> {
        // A poisoned lock only means a sink panicked mid-line; the buffer is still usable.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The largest index `<= max` that is a char boundary of `text`.
fn floor_char_boundary(text: &str, max: usize) -> usize {
    if text.len() <= max {
        return text.len();
    }
    (0..=max)
        .rev()
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(0)
}

impl Capture {
    fn write(&mut self, stream: Stream, bytes: &[u8]) {
        if self.forwarded >= MAX_FORWARDED {
            self.dropped += bytes.len() as u64;
            return;
        }
        self.forwarded += bytes.len() as u64;
        let index = stream as usize;
        for &byte in bytes {
            if byte == b'\n' {
                let line = std::mem::take(&mut self.partial[index]);
                self.emit(stream, &line);
            } else if self.partial[index].len() < MAX_LINE {
                self.partial[index].push(byte);
            }
        }
    }

    fn flush_partial(&mut self) {
        for stream in [Stream::Stdout, Stream::Stderr] {
            let line = std::mem::take(&mut self.partial[stream as usize]);
            if !line.is_empty() {
                self.emit(stream, &line);
            }
        }
    }

    fn emit(&mut self, stream: Stream, line: &[u8]) {
        let text = String::from_utf8_lossy(line);
        let text = text.trim_end_matches('\r');
        (self.sink)(stream, text);
        self.keep(text.to_string());
    }

    fn keep(&mut self, line: String) {
        if self.tail.len() == TAIL_LINES {
            self.tail.pop_front();
        }
        self.tail.push_back(line);
    }
}

/// One of a guest's output streams, as WASI sees it.
pub struct CaptureStream {
    output: GuestOutput,
    stream: Stream,
}

impl IsTerminal for CaptureStream {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for CaptureStream {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.output.stream(self.stream))
    }

    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(self.output.stream(self.stream))
    }
}

#[async_trait::async_trait]
impl Pollable for CaptureStream {
    async fn ready(&mut self) {}
}

impl OutputStream for CaptureStream {
    fn write(&mut self, bytes: Bytes) -> StreamResult<()> {
        self.output.write(self.stream, &bytes);
        Ok(())
    }

    fn flush(&mut self) -> StreamResult<()> {
        Ok(())
    }

    fn check_write(&mut self) -> StreamResult<usize> {
        Ok(64 * 1024)
    }
}

impl tokio::io::AsyncWrite for CaptureStream {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.output.write(self.stream, buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Lines = Arc<Mutex<Vec<(Stream, String)>>>;

    fn collecting() -> (GuestOutput, Lines) {
        let lines = Arc::new(Mutex::new(Vec::new()));
        let seen = lines.clone();
        let sink: LineSink = Arc::new(move |s, l| seen.lock().unwrap().push((s, l.to_string())));
        (GuestOutput::new(sink), lines)
    }

    #[test]
    fn lines_are_forwarded_per_stream_and_tail_kept() {
        let (out, lines) = collecting();
        out.begin_call();
        out.write(Stream::Stdout, b"one\ntw");
        out.write(Stream::Stderr, b"err\n");
        out.write(Stream::Stdout, b"o\nthree");
        let tail = out.end_call();
        let lines = lines.lock().unwrap();
        assert_eq!(
            *lines,
            [
                (Stream::Stdout, "one".to_string()),
                (Stream::Stderr, "err".to_string()),
                (Stream::Stdout, "two".to_string()),
                (Stream::Stdout, "three".to_string()),
            ]
        );
        assert_eq!(tail, ["one", "err", "two", "three"]);
    }

    #[test]
    fn flood_is_bounded_and_reported() {
        let (out, lines) = collecting();
        out.begin_call();
        let chunk = vec![b'x'; 64 * 1024];
        for _ in 0..64 {
            out.write(Stream::Stdout, &chunk);
        }
        let tail = out.end_call();
        assert!(tail.len() <= TAIL_LINES);
        assert!(tail
            .last()
            .unwrap()
            .contains("more bytes of output not shown"));
        assert!(lines
            .lock()
            .unwrap()
            .iter()
            .all(|(_, l)| l.len() <= MAX_LINE));
    }

    #[test]
    fn helper_lines_count_against_the_bound_too() {
        let (out, lines) = collecting();
        out.begin_call();
        let long = "y".repeat(10_000);
        for _ in 0..1000 {
            out.line(Stream::Stdout, &long);
        }
        let tail = out.end_call();
        let lines = lines.lock().unwrap();
        assert!(lines.len() < 200, "{} lines forwarded", lines.len());
        assert!(lines.iter().all(|(_, l)| l.len() <= MAX_LINE));
        let note = &lines.last().unwrap().1;
        assert!(note.contains("more bytes of output not shown"), "{note}");
        assert!(tail.last().unwrap().contains("not shown"));
    }

    #[test]
    fn invalid_utf8_is_replaced_not_fatal() {
        let (out, _) = collecting();
        out.begin_call();
        out.write(Stream::Stderr, b"bad \xff\xfe bytes\n");
        assert_eq!(out.end_call(), ["bad \u{fffd}\u{fffd} bytes"]);
    }
}
