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

/// What `show stat` says of the other servers of `backend` than `server`.
#[derive(Debug, PartialEq, Eq)]
pub struct Others {
    /// How many there are.
    pub total: usize,
    /// How many take new requests: `UP` (also `UP 1/3`, going down but still serving) or
    /// `no check`.
    pub serving: usize,
}

/// The other servers of `backend` than `server`, from `show stat`; none when `csv` is not a
/// `show stat` answer.
pub fn others(csv: &str, backend: &str, server: &str) -> Option<Others> {
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next()?.trim_start_matches("# ").split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name);
    let (pxname, svname, status) = (col("pxname")?, col("svname")?, col("status")?);
    let mut others = Others { total: 0, serving: 0 };
    for fields in lines.map(|l| l.split(',').collect::<Vec<&str>>()) {
        let name = fields.get(svname).copied().unwrap_or_default();
        if fields.get(pxname) != Some(&backend) || ["FRONTEND", "BACKEND", server].contains(&name) {
            continue;
        }
        others.total += 1;
        let status = fields.get(status).copied().unwrap_or_default();
        if status == "UP" || status.starts_with("UP ") || status == "no check" {
            others.serving += 1;
        }
    }
    Some(others)
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

    #[test]
    fn counts_the_other_servers_that_take_requests() {
        let header = "# pxname,svname,scur,status\n";
        let rows = |statuses: &[(&str, &str)]| {
            let mut csv = format!("{header}plone,FRONTEND,0,OPEN\n");
            for (name, status) in statuses {
                csv.push_str(&format!("plone,{name},0,{status}\n"));
            }
            csv.push_str("stats,BACKEND,0,UP\nplone,BACKEND,0,UP\n");
            csv
        };
        let me = "clients1-client1";
        // (each server's status, how many others, how many of them serve)
        type Case<'a> = (&'a [(&'a str, &'a str)], usize, usize);
        let cases: &[Case] = &[
            (&[(me, "UP")], 0, 0),
            (&[(me, "UP"), ("clients2-client1", "UP")], 1, 1),
            (&[(me, "UP"), ("clients2-client1", "DOWN")], 1, 0),
            (&[(me, "UP"), ("clients2-client1", "DOWN 1/2")], 1, 0),
            (&[(me, "UP"), ("clients2-client1", "UP 1/3")], 1, 1),
            (&[(me, "UP"), ("clients2-client1", "DRAIN"), ("clients2-client2", "MAINT")], 2, 0),
            (&[(me, "DRAIN"), ("clients2-client1", "no check"), ("clients2-client2", "UP")], 2, 2),
        ];
        for (statuses, total, serving) in cases {
            let got = super::others(&rows(statuses), "plone", me);
            assert_eq!(got, Some(super::Others { total: *total, serving: *serving }), "{statuses:?}");
        }
        assert_eq!(super::others("Unknown command.", "plone", me), None);
        assert_eq!(super::others("", "plone", me), None);
    }
}
