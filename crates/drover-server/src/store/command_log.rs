//! Command output: appended at the agent's offsets, capped per command (the tail is kept behind
//! one marker line), read in pages.
//!
//! A log is a sequence of rows at byte offsets. Text rows hold output; marker rows stand for
//! bytes that are gone (cut under the cap, or lost) and hold the line readers see instead.
//! Offsets stay the agent's, so an append that repeats what the server has changes nothing.

use drover_core::log_cap::{cut_marker, cut_point, lost_marker};
use drover_core::text::prefix_at_boundary;
use drover_proto::agent::{OutputAppend, OutputGap};

use super::Store;

/// The result of an output append.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppendOutcome {
    /// The log now holds this many bytes.
    Length(u64),
    /// No such command for this instance.
    NotFound,
    /// The command with this id is another one than the agent's (another nonce).
    OtherCommand,
}

/// One page of a log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogPage {
    /// The text (markers included).
    pub data: String,
    /// Where the next page starts.
    pub next_offset: u64,
}

/// Rows read per page query; a page is also bounded in bytes.
const PAGE_ROWS: i64 = 64;

impl Store {
    /// Appends output at `append.offset`. Text the server already holds is not stored twice; a
    /// gap is refused by answering the current length, from which the agent resends, unless the
    /// agent says why the bytes are gone (then one marker line stands for them). Past `cap`
    /// bytes of text, the oldest are cut.
    pub async fn append_output(
        &self,
        id: i64,
        instance_id: i64,
        append: &OutputAppend,
        cap: u64,
    ) -> Result<AppendOutcome, sqlx::Error> {
        let mut tx = self.begin_write().await?;
        let row: Option<(i64, i64, Option<String>)> =
            sqlx::query_as("SELECT log_bytes, log_stored, nonce FROM commands WHERE id = $1 AND instance_id = $2")
                .bind(id)
                .bind(instance_id)
                .fetch_optional(&mut *tx)
                .await?;
        let Some((held, stored, nonce)) = row else { return Ok(AppendOutcome::NotFound) };
        if append.nonce.is_some() && append.nonce != nonce {
            return Ok(AppendOutcome::OtherCommand);
        }
        let (held, mut stored) = (held as u64, stored as u64);
        let (offset, data) = (append.offset, append.data.as_str());
        let end = offset + data.len() as u64;
        let fresh = if offset > held {
            let Some(gap) = append.gap else { return Ok(AppendOutcome::Length(held)) };
            match gap {
                OutputGap::Cut => {
                    // The agent cut under the cap: the tail is kept behind one marker, so what
                    // came before the cut goes with it.
                    sqlx::query("DELETE FROM command_log WHERE command_id = $1").bind(id).execute(&mut *tx).await?;
                    stored = 0;
                    insert_row(&mut tx, id, 0, &cut_marker(offset), offset).await?;
                }
                OutputGap::Lost => {
                    let missing = offset - held;
                    insert_row(&mut tx, id, held, &lost_marker(missing), missing).await?;
                }
            }
            data
        } else {
            if end <= held {
                return Ok(AppendOutcome::Length(held));
            }
            let Some(fresh) = data.get((held - offset) as usize..) else { return Ok(AppendOutcome::Length(held)) };
            fresh
        };
        if !fresh.is_empty() {
            insert_row(&mut tx, id, end - fresh.len() as u64, fresh, 0).await?;
            stored += fresh.len() as u64;
        }
        if stored > cap {
            stored -= trim_head(&mut tx, id, stored - cap).await?;
        }
        sqlx::query("UPDATE commands SET log_bytes = $1, log_stored = $2 WHERE id = $3")
            .bind(end as i64)
            .bind(stored as i64)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(AppendOutcome::Length(end))
    }

    /// Up to about `max` bytes of log text from `offset` (a boundary the server gave out
    /// earlier, or 0). An offset inside a cut part gives that part's marker line.
    pub async fn read_log(&self, id: i64, offset: u64, max: usize) -> Result<LogPage, sqlx::Error> {
        // The row holding `offset` starts at the greatest row offset not past it.
        let rows: Vec<(i64, String, i64)> = sqlx::query_as(
            "SELECT \"offset\", data, marker_bytes FROM command_log WHERE command_id = $1 AND \"offset\" >= \
             COALESCE((SELECT MAX(\"offset\") FROM command_log WHERE command_id = $2 AND \"offset\" <= $3), 0) \
             ORDER BY \"offset\" LIMIT $4",
        )
        .bind(id)
        .bind(id)
        .bind(offset as i64)
        .bind(PAGE_ROWS)
        .fetch_all(&self.pool)
        .await?;
        Ok(page(&rows, offset, max))
    }
}

/// Cuts page text out of rows (offset, data, marker bytes) sorted by offset.
fn page(rows: &[(i64, String, i64)], offset: u64, max: usize) -> LogPage {
    let mut out = String::new();
    let mut next = offset;
    for (start, data, marker) in rows {
        let (start, marker) = (*start as u64, *marker as u64);
        let len = if marker > 0 { marker } else { data.len() as u64 };
        if start + len <= next {
            continue;
        }
        // A hole (a log written before markers existed): continue after it.
        next = next.max(start);
        if marker > 0 {
            if !out.is_empty() && out.len() + data.len() > max {
                break;
            }
            out.push_str(data);
            next = start + len;
            continue;
        }
        let mut skip = (next - start) as usize;
        while !data.is_char_boundary(skip) {
            skip += 1;
        }
        let rest = &data[skip..];
        let piece = prefix_at_boundary(rest, max.saturating_sub(out.len()));
        out.push_str(piece);
        next = start + (skip + piece.len()) as u64;
        if piece.len() < rest.len() {
            break;
        }
    }
    LogPage { data: out, next_offset: next }
}

async fn insert_row(
    tx: &mut sqlx::AnyConnection,
    id: i64,
    offset: u64,
    data: &str,
    marker_bytes: u64,
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO command_log (command_id, \"offset\", data, marker_bytes) VALUES ($1, $2, $3, $4)")
        .bind(id)
        .bind(offset as i64)
        .bind(data)
        .bind(marker_bytes as i64)
        .execute(&mut *tx)
        .await
        .map(|_| ())
}

/// Drops at least `excess` bytes of the oldest text (up to a line start where one is near) and
/// puts one marker at the head for everything before the kept tail. Returns the text bytes
/// dropped.
async fn trim_head(tx: &mut sqlx::AnyConnection, id: i64, mut excess: u64) -> Result<u64, sqlx::Error> {
    let mut dropped = 0;
    let mut cut_end = 0;
    while excess > 0 {
        let first: Option<(i64, String)> = sqlx::query_as(
            "SELECT \"offset\", data FROM command_log WHERE command_id = $1 AND marker_bytes = 0 ORDER BY \"offset\" LIMIT 1",
        )
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((start, data)) = first else { break };
        let start = start as u64;
        sqlx::query("DELETE FROM command_log WHERE command_id = $1 AND \"offset\" = $2")
            .bind(id)
            .bind(start as i64)
            .execute(&mut *tx)
            .await?;
        let at = cut_point(&data, usize::try_from(excess).unwrap_or(usize::MAX));
        if at < data.len() {
            insert_row(tx, id, start + at as u64, &data[at..], 0).await?;
        }
        dropped += at as u64;
        excess = excess.saturating_sub(at as u64);
        cut_end = start + at as u64;
    }
    if cut_end > 0 {
        // Earlier markers in the cut part are folded into the one at the head.
        sqlx::query("DELETE FROM command_log WHERE command_id = $1 AND \"offset\" < $2")
            .bind(id)
            .bind(cut_end as i64)
            .execute(&mut *tx)
            .await?;
        insert_row(tx, id, 0, &cut_marker(cut_end), cut_end).await?;
    }
    Ok(dropped)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows() -> Vec<(i64, String, i64)> {
        vec![(0, cut_marker(10), 10), (10, "abc\n".into(), 0), (14, "déf\n".into(), 0)]
    }

    #[test]
    fn pages_through_markers_and_text() {
        let marker = cut_marker(10);
        let cases: &[(u64, usize, &str, u64)] = &[
            (0, 1000, &format!("{marker}abc\ndéf\n"), 19),
            (5, 1000, &format!("{marker}abc\ndéf\n"), 19),
            (0, 2, &marker, 10),
            (10, 2, "ab", 12),
            (12, 1000, "c\ndéf\n", 19),
            (14, 2, "d", 15),
            (15, 1000, "éf\n", 19),
            (19, 1000, "", 19),
        ];
        for (offset, max, data, next) in cases {
            let got = page(&rows(), *offset, *max);
            assert_eq!((got.data.as_str(), got.next_offset), (*data, *next), "offset {offset} max {max}");
        }
    }
}
