//! The backups an agent lists (the output of [`super::jobs::Op::List`]: one `dir/name`, size and
//! modification time per line, tab-separated), grouped by repozo's time stamp.

use serde::{Deserialize, Serialize};

use super::jobs::is_backup_name;

/// One file or directory in a backup directory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BackupFile {
    /// The backup directory: `backups`, `snapshotbackups`, `blobstoragebackups`, ...
    pub dir: String,
    /// Its name in it.
    pub name: String,
    /// Its size in bytes.
    pub size: u64,
    /// Its modification time, Unix seconds.
    pub modified: i64,
}

/// One restorable backup: the Data.fs files of one repozo time stamp.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Backup {
    /// Its name, as `drover zodb restore` takes it: `2026-12-01-18-59-00`.
    pub name: String,
    /// `backups` or `snapshotbackups`.
    pub dir: String,
    /// The bytes of its files.
    pub size: u64,
    /// When its newest file was written, Unix seconds.
    pub modified: i64,
}

/// Parses the listing; lines that are not `path\tsize\tmtime` are skipped.
pub fn parse_listing(text: &str) -> Vec<BackupFile> {
    text.lines()
        .filter_map(|line| {
            let mut fields = line.split('\t');
            let (path, size, modified) = (fields.next()?, fields.next()?, fields.next()?);
            let (dir, name) = path.split_once('/')?;
            let modified = modified.split('.').next()?.parse().ok()?;
            Some(BackupFile { dir: dir.to_owned(), name: name.to_owned(), size: size.parse().ok()?, modified })
        })
        .collect()
}

/// The restorable backups among the files, oldest first: the time stamps of the Data.fs
/// backups (`.fs`, `.fsz`, `.deltafs`, with their `.dat` and `.index`).
pub fn backups(files: &[BackupFile]) -> Vec<Backup> {
    let mut out: Vec<Backup> = Vec::new();
    for f in files.iter().filter(|f| f.dir == "backups" || f.dir == "snapshotbackups") {
        let Some((stamp, _)) = f.name.split_once('.') else { continue };
        if !is_backup_name(stamp) {
            continue;
        }
        match out.iter_mut().find(|b| b.name == stamp && b.dir == f.dir) {
            Some(b) => {
                b.size += f.size;
                b.modified = b.modified.max(f.modified);
            }
            None => out.push(Backup { name: stamp.to_owned(), dir: f.dir.clone(), size: f.size, modified: f.modified }),
        }
    }
    out.sort_by(|a, b| (&a.name, &a.dir).cmp(&(&b.name, &b.dir)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_repozo_files_by_time_stamp() {
        let listing = "backups/2026-12-01-18-59-00.fsz\t1200\t1796151540.25\n\
                       backups/2026-12-01-18-59-00.dat\t30\t1796151541.0\n\
                       backups/2026-12-01-18-59-00.index\t100\t1796151541.0\n\
                       backups/2026-12-01-19-10-02.deltafsz\t50\t1796152202.0\n\
                       blobstoragebackups/blobstorage.2026-12-01-18-59-00\t4096\t1796151541.0\n\
                       snapshotbackups/2026-11-30-01-00-00.fs\t900\t1796000000\n\
                       backups/notes.txt\t3\t1796000000\n\
                       garbage line\n";
        let files = parse_listing(listing);
        assert_eq!(files.len(), 7);
        assert_eq!(
            files[0],
            BackupFile {
                dir: "backups".into(),
                name: "2026-12-01-18-59-00.fsz".into(),
                size: 1200,
                modified: 1_796_151_540
            }
        );
        let found = backups(&files);
        let names: Vec<(&str, &str, u64)> = found.iter().map(|b| (b.name.as_str(), b.dir.as_str(), b.size)).collect();
        assert_eq!(
            names,
            [
                ("2026-11-30-01-00-00", "snapshotbackups", 900),
                ("2026-12-01-18-59-00", "backups", 1330),
                ("2026-12-01-19-10-02", "backups", 50)
            ]
        );
        assert_eq!(found[1].modified, 1_796_151_541);
    }
}
