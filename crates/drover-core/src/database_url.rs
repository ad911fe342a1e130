//! The `--database` URL of `drover server`: which store to use, checked before anything connects.
//!
//! The URL comes from argv or the environment, which other users' processes can read, so it must
//! not carry a password: PostgreSQL reads it from a passfile (`~/.pgpass`, or the file
//! `PGPASSFILE` names), mode 0600.

/// A store location the server accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Database {
    /// A PostgreSQL database, by its `postgres://` URL (no password in it).
    Postgres(String),
}

/// Checks a `--database` value.
pub fn parse(url: &str) -> Result<Database, String> {
    let Some(rest) = url.strip_prefix("postgres://").or_else(|| url.strip_prefix("postgresql://")) else {
        return Err(format!(
            "--database must be a PostgreSQL URL such as postgres://drover@127.0.0.1/drover, not {:?}; \
             leave it out to keep the store in SQLite in the data dir",
            redact(url)
        ));
    };
    let authority = rest.split(['/', '?']).next().unwrap_or_default();
    let has_password = authority.rsplit_once('@').is_some_and(|(userinfo, _)| userinfo.contains(':'));
    let query = rest.split_once('?').map(|(_, q)| q).unwrap_or_default();
    let password_param = query.split('&').any(|pair| pair.split('=').next() == Some("password"));
    if has_password || password_param {
        return Err(format!(
            "--database {:?} carries a password, which every user can read in /proc; remove it and put it in a \
             passfile instead (a line host:port:database:user:password in ~/.pgpass or the file PGPASSFILE names, \
             chmod 600)",
            redact(url)
        ));
    }
    if authority.rsplit('@').next().unwrap_or_default().is_empty() && !query.contains("host=") {
        return Err(format!("--database {url:?} names no host: give one, as in postgres://drover@127.0.0.1/drover"));
    }
    Ok(Database::Postgres(url.to_owned()))
}

/// `url` with any password replaced by `***`, fit for an error message.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_owned() };
    let (authority, tail) = rest.find(['/', '?']).map_or((rest, ""), |i| rest.split_at(i));
    let authority = match authority.rsplit_once('@') {
        Some((userinfo, host)) if userinfo.contains(':') => {
            format!("{}:***@{host}", userinfo.split(':').next().unwrap_or_default())
        }
        _ => authority.to_owned(),
    };
    let tail = match tail.split_once('?') {
        Some((path, query)) => {
            let query: Vec<String> = query
                .split('&')
                .map(|pair| if pair.starts_with("password=") { "password=***".to_owned() } else { pair.to_owned() })
                .collect();
            format!("{path}?{}", query.join("&"))
        }
        None => tail.to_owned(),
    };
    format!("{scheme}://{authority}{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_postgres_urls_without_a_password() {
        for url in [
            "postgres://drover@127.0.0.1/drover",
            "postgresql://drover@127.0.0.1:5433/drover",
            "postgres://127.0.0.1/drover",
            "postgres:///drover?host=/var/run/postgresql",
            "postgres://drover@db.example.org/drover?sslmode=verify-full",
        ] {
            assert_eq!(parse(url), Ok(Database::Postgres(url.to_owned())), "{url}");
        }
    }

    #[test]
    fn refuses_passwords_other_schemes_and_no_host() {
        for (url, says) in [
            ("postgres://drover:s3cret@127.0.0.1/drover", "passfile"),
            ("postgres://drover@127.0.0.1/drover?password=s3cret", "passfile"),
            ("postgres://drover@127.0.0.1/drover?sslmode=require&password=s3cret", "passfile"),
            ("mysql://drover@127.0.0.1/drover", "PostgreSQL URL"),
            ("sqlite:/var/lib/drover/drover.db", "PostgreSQL URL"),
            ("", "PostgreSQL URL"),
            ("postgres:///drover", "names no host"),
        ] {
            let err = parse(url).unwrap_err();
            assert!(err.contains(says), "{url}: {err}");
            assert!(!err.contains("s3cret"), "{url}: the error repeats the password: {err}");
        }
    }

    #[test]
    fn redacts_passwords() {
        for (url, shown) in [
            ("postgres://u:pw@h/db", "postgres://u:***@h/db"),
            ("postgres://u@h/db?a=1&password=pw", "postgres://u@h/db?a=1&password=***"),
            ("postgres://u@h/db", "postgres://u@h/db"),
            ("nonsense", "nonsense"),
        ] {
            assert_eq!(redact(url), shown);
        }
    }
}
