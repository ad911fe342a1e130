//! An HTTP/1 request answered before its body was read (refused for its token, its rate, its path)
//! leaves the rest of the body on the connection, so hyper closes the connection after the
//! answer, without saying so: the client, keeping the connection alive, sends its next request
//! on it and gets "connection closed without response". Such an answer says `Connection: close`,
//! and the client opens a new connection instead.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use hyper::body::{Frame, SizeHint};

/// Adds `Connection: close` to the answer of a request whose body was not read to its end.
pub async fn close_when_unread(req: Request, next: Next) -> Response {
    if req.body().is_end_stream() {
        return next.run(req).await;
    }
    let read = Arc::new(AtomicBool::new(false));
    let (parts, body) = req.into_parts();
    let body = Body::new(Tracked { inner: body, read: read.clone() });
    let mut response = next.run(Request::from_parts(parts, body)).await;
    if !read.load(Ordering::Acquire) {
        response.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

/// A body that notes when it was read to its end.
struct Tracked {
    inner: Body,
    read: Arc<AtomicBool>,
}

impl HttpBody for Tracked {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        if matches!(polled, Poll::Ready(None)) || self.inner.is_end_stream() {
            self.read.store(true, Ordering::Release);
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::Router;
    use axum::routing::post;
    use tower::Service;

    async fn answer(path: &str, body: &'static str) -> Response {
        let mut app = Router::new()
            .route("/refuse", post(|| async { "refused unread" }))
            .route("/read", post(|body: String| async move { body }))
            .layer(axum::middleware::from_fn(close_when_unread));
        let request = axum::http::Request::post(path).body(Body::from(body)).unwrap();
        app.call(request).await.unwrap()
    }

    /// Schemathesis met "connection closed without response" on the request after a 401 to a
    /// POST whose body the server never read.
    #[tokio::test]
    async fn an_answer_before_the_body_is_read_closes_the_connection() {
        let refused = answer("/refuse", "{\"name\": \"x\"}").await;
        assert_eq!(refused.headers().get(header::CONNECTION).map(|v| v.as_bytes()), Some(b"close".as_slice()));
        let read = answer("/read", "{\"name\": \"x\"}").await;
        assert_eq!(read.headers().get(header::CONNECTION), None);
        let empty = answer("/refuse", "").await;
        assert_eq!(empty.headers().get(header::CONNECTION), None);
    }
}
