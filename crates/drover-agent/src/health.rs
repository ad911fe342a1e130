//! The health check of a ZEO client, made straight to the client: the same method and URL that
//! HAProxy checks (`haproxy.health_check_method`, `haproxy.health_check_url`), so a client the
//! agent calls healthy is one the frontends take back.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::Instant;

/// One health-check request; the answer's HTTP status.
pub async fn probe(address: &str, method: &str, url: &str) -> Result<u16, String> {
    let call = async {
        let mut stream = tokio::net::TcpStream::connect(address).await?;
        let request = format!("{method} {url} HTTP/1.0\r\nHost: {address}\r\nUser-Agent: drover-health\r\n\r\n");
        stream.write_all(request.as_bytes()).await?;
        let mut head = vec![0u8; 64];
        let n = stream.read(&mut head).await?;
        Ok::<_, std::io::Error>(String::from_utf8_lossy(&head[..n]).into_owned())
    };
    let head = match tokio::time::timeout(Duration::from_secs(5), call).await {
        Ok(Ok(head)) => head,
        Ok(Err(e)) => return Err(e.to_string()),
        Err(_) => return Err("no answer within 5 s".into()),
    };
    head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).ok_or_else(|| format!("not HTTP: {head:?}"))
}

/// Polls the check until it answers 2xx or 3xx; how long that took, or the last failure once
/// `deadline` has passed.
pub async fn wait_healthy(address: &str, method: &str, url: &str, deadline: Duration) -> Result<Duration, String> {
    let began = Instant::now();
    loop {
        let last = match probe(address, method, url).await {
            Ok(status) if (200..400).contains(&status) => return Ok(began.elapsed()),
            Ok(status) => format!("HTTP {status}"),
            Err(e) => e,
        };
        if began.elapsed() >= deadline {
            return Err(last);
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}
