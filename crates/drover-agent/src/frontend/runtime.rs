//! HAProxy's runtime API: one command per connection, over TCP (the frontend's private address,
//! for agents of other instances) or its local UNIX socket.

use std::path::Path;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// How long one runtime API call may take.
const CALL_TIMEOUT: Duration = Duration::from_secs(5);

async fn exchange<S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin>(
    mut stream: S,
    command: &str,
) -> std::io::Result<String> {
    stream.write_all(format!("{command}\n").as_bytes()).await?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await?;
    Ok(answer)
}

/// Runs a command on the runtime API at `address` (`host:port`).
pub async fn tcp(address: &str, command: &str) -> Result<String, String> {
    let call = async {
        let stream = tokio::net::TcpStream::connect(address).await?;
        exchange(stream, command).await
    };
    match tokio::time::timeout(CALL_TIMEOUT, call).await {
        Ok(Ok(answer)) => Ok(answer),
        Ok(Err(e)) => Err(format!("HAProxy runtime API at {address}: {e}")),
        Err(_) => Err(format!("HAProxy runtime API at {address}: no answer within {} s", CALL_TIMEOUT.as_secs())),
    }
}

/// Runs a command on the runtime API's UNIX socket.
pub async fn unix(path: &Path, command: &str) -> Result<String, String> {
    let call = async {
        let stream = tokio::net::UnixStream::connect(path).await?;
        exchange(stream, command).await
    };
    match tokio::time::timeout(CALL_TIMEOUT, call).await {
        Ok(Ok(answer)) => Ok(answer),
        Ok(Err(e)) => Err(format!("HAProxy runtime API at {}: {e}", path.display())),
        Err(_) => Err(format!("HAProxy runtime API at {}: no answer", path.display())),
    }
}

/// A server's current sessions and status (`UP`, `DOWN`, `DRAIN`, `MAINT`, …) from `show stat`.
pub fn server_stat(csv: &str, backend: &str, server: &str) -> Option<(u64, String)> {
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next()?.trim_start_matches("# ").split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name);
    let (pxname, svname, scur, status) = (col("pxname")?, col("svname")?, col("scur")?, col("status")?);
    lines
        .map(|l| l.split(',').collect::<Vec<&str>>())
        .find(|f| f.get(pxname) == Some(&backend) && f.get(svname) == Some(&server))
        .map(|f| {
            (
                f.get(scur).and_then(|v| v.parse().ok()).unwrap_or(0),
                f.get(status).map(|s| (*s).to_owned()).unwrap_or_default(),
            )
        })
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_a_server_from_show_stat() {
        let csv = "# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,wredis,status\n\
                   plone,FRONTEND,,,0,0,4096,0,0,0,0,0,0,,,,,OPEN\n\
                   plone,clients1-client1,0,0,2,3,2,40,0,0,,0,,0,0,0,0,DRAIN\n\
                   plone,BACKEND,0,0,2,3,410,40,0,0,0,0,,0,0,0,0,UP\n";
        assert_eq!(super::server_stat(csv, "plone", "clients1-client1"), Some((2, "DRAIN".to_owned())));
        assert_eq!(super::server_stat(csv, "plone", "clients9-client1"), None);
    }
}
