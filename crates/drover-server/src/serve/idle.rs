//! Header-read and idle timeouts for HTTP/1 connections.
//!
//! hyper runs one timer from the moment a connection may send a request head until the head is
//! complete; it does not run while a request is served (an agent's long-poll is never cut). That
//! one timer would make the header-read timeout also the idle limit between keep-alive requests,
//! so [`HeadTimer`] splits it with the count of bytes read ([`Counted`]): once a byte of the head
//! has arrived the header-read timeout holds; while none has, the longer idle timeout does.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll, ready};
use std::time::{Duration, Instant};

use hyper::rt::{Sleep, Timer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Bytes read from one connection so far.
#[derive(Default)]
pub struct Activity {
    read: AtomicU64,
}

impl Activity {
    fn bytes_read(&self) -> u64 {
        self.read.load(Ordering::Relaxed)
    }
}

/// A stream that counts the bytes read from it.
pub struct Counted<T> {
    inner: T,
    activity: Arc<Activity>,
}

impl<T> Counted<T> {
    /// Wraps `inner`; the [`Activity`] is for the connection's [`HeadTimer`].
    pub fn new(inner: T) -> (Self, Arc<Activity>) {
        let activity = Arc::new(Activity::default());
        (Self { inner, activity: activity.clone() }, activity)
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Counted<T> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        ready!(Pin::new(&mut self.inner).poll_read(cx, buf))?;
        let read = buf.filled().len().saturating_sub(before) as u64;
        self.activity.read.fetch_add(read, Ordering::Relaxed);
        Poll::Ready(Ok(()))
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Counted<T> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// The timer of one HTTP/1 connection (hyper uses it only for the header-read timeout).
#[derive(Clone)]
pub struct HeadTimer {
    activity: Arc<Activity>,
    idle: Duration,
}

impl HeadTimer {
    /// A timer that waits up to `idle` for the first byte of a request head.
    pub fn new(activity: Arc<Activity>, idle: Duration) -> Self {
        Self { activity, idle }
    }
}

impl Timer for HeadTimer {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Sleep>> {
        self.sleep_until(Instant::now() + duration)
    }

    fn sleep_until(&self, deadline: Instant) -> Pin<Box<dyn Sleep>> {
        let header = deadline.saturating_duration_since(Instant::now());
        let now = tokio::time::Instant::now();
        Box::pin(HeadSleep {
            activity: self.activity.clone(),
            read_at_start: self.activity.bytes_read(),
            header,
            idle_deadline: now + self.idle.max(header),
            sleep: Box::pin(tokio::time::sleep_until(now + header)),
        })
    }
}

/// Fires at a header-read deadline if a byte arrived since the timer started, else keeps
/// checking every header-read period until the idle deadline.
struct HeadSleep {
    activity: Arc<Activity>,
    read_at_start: u64,
    header: Duration,
    idle_deadline: tokio::time::Instant,
    sleep: Pin<Box<tokio::time::Sleep>>,
}

impl Future for HeadSleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        loop {
            ready!(self.sleep.as_mut().poll(cx));
            let now = tokio::time::Instant::now();
            if self.activity.bytes_read() != self.read_at_start || now >= self.idle_deadline {
                return Poll::Ready(());
            }
            let next = (now + self.header.max(Duration::from_millis(100))).min(self.idle_deadline);
            self.sleep.as_mut().reset(next);
        }
    }
}

impl Sleep for HeadSleep {}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_idle_connection_gets_the_idle_timeout_a_started_head_the_header_timeout() {
        let activity = Arc::new(Activity::default());
        let timer = HeadTimer::new(activity.clone(), Duration::from_millis(1500));

        let start = Instant::now();
        timer.sleep(Duration::from_millis(200)).await;
        assert!(start.elapsed() >= Duration::from_millis(1500), "no byte: the idle timeout ({:?})", start.elapsed());

        let start = Instant::now();
        let sleep = timer.sleep(Duration::from_millis(200));
        activity.read.fetch_add(10, Ordering::Relaxed);
        sleep.await;
        let took = start.elapsed();
        assert!(took >= Duration::from_millis(200) && took < Duration::from_millis(1400), "a started head: {took:?}");
    }
}
