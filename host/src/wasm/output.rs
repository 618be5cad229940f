//! Capturing a guest's stdout and stderr.
//!
//! Each line a plugin prints is handed to the run's output sink as it
//! completes (live progress, prefixed with the hook's name by the reporter),
//! and the last lines are kept so a failure can show them. What the host
//! keeps is bounded whatever the guest prints: a plugin printing gigabytes
//! costs the host a counter, not memory. A line longer than
//! [`MAX_LINE`] is cut with a marker saying how much was dropped; past
//! [`MAX_OUTPUT_PER_CALL`] in a call, or [`MAX_OUTPUT_PER_RUN`] over the
//! run, output is counted and not forwarded.

use std::collections::VecDeque;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use bytes::Bytes;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamResult};

use crate::model::limits::{cut, MAX_LINE, MAX_OUTPUT_PER_CALL, MAX_OUTPUT_PER_RUN};

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

/// A line being received, and how many bytes past [`MAX_LINE`] it dropped.
#[derive(Default)]
struct Partial {
    bytes: Vec<u8>,
    dropped: u64,
}

/// The shared state behind a guest's stdout and stderr.
struct Capture {
    sink: LineSink,
    partial: [Partial; 2],
    tail: VecDeque<String>,
    /// Bytes forwarded in this call, and over the run.
    forwarded: u64,
    forwarded_in_run: u64,
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
                partial: [Partial::default(), Partial::default()],
                tail: VecDeque::new(),
                forwarded: 0,
                forwarded_in_run: 0,
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

    /// Text produced on the guest's behalf (a helper's message, a called
    /// function's output): shown and kept like the guest's own, line by
    /// line, and counted against the same bounds.
    pub fn line(&self, stream: Stream, text: &str) {
        let mut capture = self.lock();
        for line in text.split('\n') {
            // What is shown counts: a long message cut to one line costs
            // the bound that line, so the lines after it are still shown.
            let line = cut(line, MAX_LINE);
            if capture.spend(line.len() as u64 + 1) {
                capture.emit(stream, line.as_bytes());
            }
        }
    }

    fn write(&self, stream: Stream, bytes: &[u8]) {
        self.lock().write(stream, bytes);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Capture> {
        // A poisoned lock only means a sink panicked mid-line; the buffer is still usable.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// What one line costs against the bounds beyond its bytes: about what
/// the log adds to each (a timestamp and the hook's prefix).
const LINE_COST: u64 = 63;

impl Capture {
    /// Count `size` bytes against the call's and the run's bounds: true
    /// when they may be forwarded, false when they are only counted.
    fn spend(&mut self, size: u64) -> bool {
        if self.forwarded >= MAX_OUTPUT_PER_CALL || self.forwarded_in_run >= MAX_OUTPUT_PER_RUN {
            self.dropped += size;
            return false;
        }
        self.forwarded += size;
        self.forwarded_in_run += size;
        true
    }

    fn write(&mut self, stream: Stream, bytes: &[u8]) {
        // Every line costs what hookhost adds to it in the log and the
        // events (prefix, timestamp), so empty lines cannot multiply what
        // the bounds let through.
        let lines = bytes.iter().filter(|&&b| b == b'\n').count() as u64;
        if !self.spend(bytes.len() as u64 + lines * LINE_COST) {
            return;
        }
        let index = stream as usize;
        for &byte in bytes {
            let partial = &mut self.partial[index];
            if byte == b'\n' {
                self.emit_partial(stream);
            } else if partial.bytes.len() < MAX_LINE {
                partial.bytes.push(byte);
            } else {
                partial.dropped += 1;
            }
        }
    }

    fn flush_partial(&mut self) {
        for stream in [Stream::Stdout, Stream::Stderr] {
            if !self.partial[stream as usize].bytes.is_empty() {
                self.emit_partial(stream);
            }
        }
    }

    /// The line received so far on `stream`, marked when it was cut.
    fn emit_partial(&mut self, stream: Stream) {
        let Partial { mut bytes, dropped } = std::mem::take(&mut self.partial[stream as usize]);
        if dropped > 0 {
            // Cut at a character boundary, as `cut` does for whole strings.
            let valid = match std::str::from_utf8(&bytes) {
                Ok(_) => bytes.len(),
                Err(e) if e.error_len().is_none() => e.valid_up_to(),
                Err(_) => bytes.len(),
            };
            let dropped = dropped + (bytes.len() - valid) as u64;
            bytes.truncate(valid);
            bytes.extend_from_slice(format!("… [cut: {dropped} more bytes]").as_bytes());
        }
        self.emit(stream, &bytes);
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

    /// A cut line: its kept part and the marker.
    const MARKED_LINE: usize = MAX_LINE + 40;

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
            .all(|(_, l)| l.len() <= MARKED_LINE));
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
        let most = MAX_OUTPUT_PER_CALL as usize / MAX_LINE + 2;
        assert!(lines.len() <= most, "{} lines forwarded", lines.len());
        assert!(lines.iter().all(|(_, l)| l.len() <= MARKED_LINE));
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

    #[test]
    fn a_long_line_is_cut_and_says_how_much() {
        let (out, lines) = collecting();
        out.begin_call();
        out.write(Stream::Stdout, &vec![b'z'; MAX_LINE + 500]);
        out.write(Stream::Stdout, b"\n");
        out.line(Stream::Stderr, &"w".repeat(MAX_LINE + 7));
        out.end_call();
        let lines = lines.lock().unwrap();
        assert!(
            lines[0].1.ends_with("z… [cut: 500 more bytes]"),
            "{}",
            &lines[0].1[MAX_LINE - 5..]
        );
        assert!(lines[1].1.ends_with("w… [cut: 7 more bytes]"));
    }

    #[test]
    fn a_cut_line_ends_on_a_character_boundary() {
        let (out, lines) = collecting();
        out.begin_call();
        let mut text = vec![b'a'; MAX_LINE - 1];
        text.extend_from_slice("éé\n".as_bytes());
        out.write(Stream::Stdout, &text);
        out.end_call();
        let line = &lines.lock().unwrap()[0].1;
        assert!(
            line.ends_with("a… [cut: 4 more bytes]"),
            "{}",
            &line[MAX_LINE - 5..]
        );
    }

    #[test]
    fn a_helper_message_of_several_lines_is_several_lines() {
        let (out, lines) = collecting();
        out.begin_call();
        out.line(Stream::Stdout, "one\ntwo");
        assert_eq!(out.end_call(), ["one", "two"]);
        assert_eq!(lines.lock().unwrap().len(), 2);
    }

    #[test]
    fn output_over_the_run_is_bounded_too() {
        let (out, lines) = collecting();
        let chunk = format!("{}\n", "r".repeat(1000));
        for _ in 0..(MAX_OUTPUT_PER_RUN / MAX_OUTPUT_PER_CALL + 2) {
            out.begin_call();
            for _ in 0..(MAX_OUTPUT_PER_CALL / 1000) {
                out.write(Stream::Stdout, chunk.as_bytes());
            }
            out.end_call();
        }
        let forwarded: usize = lines.lock().unwrap().iter().map(|(_, l)| l.len() + 1).sum();
        assert!(
            forwarded as u64 <= MAX_OUTPUT_PER_RUN + 4096,
            "{forwarded} bytes"
        );
        let last = lines.lock().unwrap().last().unwrap().1.clone();
        assert!(last.contains("more bytes of output not shown"), "{last}");
    }
}
