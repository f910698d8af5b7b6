//! Reports: the run's result model, the live event stream, and one writer per format.
//! `write_files` puts the file formats in a directory, each file appearing whole or not at all.

mod event;
mod html;
mod json;
mod jsonl;
mod junit;
mod model;
mod progress;
#[cfg(test)]
mod sample;
mod terminal;
mod text;

use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

pub use self::event::{Reporter, RunEvent, announce, emit};
pub use self::html::write_html;
pub use self::json::write_json;
pub use self::jsonl::JsonLinesReporter;
pub use self::junit::write_junit;
pub use self::model::*;
pub use self::progress::{Progress, ProgressReporter, live_progress};
pub use self::terminal::TerminalReporter;

/// The report files a run can leave behind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportFormat {
    Json,
    Junit,
    Html,
}

impl ReportFormat {
    pub const ALL: [ReportFormat; 3] = [ReportFormat::Json, ReportFormat::Junit, ReportFormat::Html];

    /// The file's name inside the report directory.
    pub fn file_name(self) -> &'static str {
        match self {
            ReportFormat::Json => "report.json",
            ReportFormat::Junit => "junit.xml",
            ReportFormat::Html => "report.html",
        }
    }

    pub fn write(self, w: &mut impl Write, report: &RunReport) -> io::Result<()> {
        match self {
            ReportFormat::Json => write_json(w, report),
            ReportFormat::Junit => write_junit(w, report),
            ReportFormat::Html => write_html(w, report),
        }
    }
}

/// Writes `report.json`, `junit.xml` and `report.html` into `dir` (created if needed) and
/// returns their paths. Each is written under a temporary name in `dir` and renamed, so a
/// reader (a CI step, a browser reloading) never sees half a file.
pub fn write_files(dir: &Path, report: &RunReport) -> io::Result<Vec<PathBuf>> {
    fs::create_dir_all(dir)?;
    ReportFormat::ALL
        .iter()
        .map(|format| {
            let path = dir.join(format.file_name());
            let temp = dir.join(format!(".{}.{}.tmp", format.file_name(), std::process::id()));
            let written = write_whole(&temp, *format, report).and_then(|()| fs::rename(&temp, &path));
            if written.is_err() {
                // Best effort: the write already failed, and that is the error worth reporting.
                let _ = fs::remove_file(&temp);
            }
            written.map(|()| path)
        })
        .collect()
}

fn write_whole(path: &Path, format: ReportFormat, report: &RunReport) -> io::Result<()> {
    let mut out = BufWriter::new(File::create(path)?);
    format.write(&mut out, report)?;
    out.into_inner().map_err(io::IntoInnerError::into_error)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fresh directory under the system temp dir, removed when dropped.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new(name: &str) -> TempDir {
            let dir = std::env::temp_dir().join(format!("bpharness-{name}-{}", std::process::id()));
            let _ = fs::remove_dir_all(&dir);
            TempDir(dir)
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn writes_the_three_files_and_nothing_else() {
        let temp = TempDir::new("write-files");
        let dir = temp.0.join("nested/reports");
        let report = sample::rich();
        for _ in 0..2 {
            let paths = write_files(&dir, &report).unwrap();
            let names: Vec<_> = paths.iter().map(|p| p.file_name().unwrap().to_str().unwrap()).collect();
            assert_eq!(names, ["report.json", "junit.xml", "report.html"]);
            let mut listed: Vec<_> = fs::read_dir(&dir)
                .unwrap()
                .map(|e| e.unwrap().file_name().into_string().unwrap())
                .collect();
            listed.sort();
            assert_eq!(listed, ["junit.xml", "report.html", "report.json"]);
        }
        let json: RunReport = serde_json::from_slice(&fs::read(dir.join("report.json")).unwrap()).unwrap();
        assert_eq!(json, report);
        let html = fs::read_to_string(dir.join("report.html")).unwrap();
        assert!(html.ends_with("</html>\n"));
    }

    #[test]
    fn a_directory_that_cannot_be_made_is_an_error() {
        let temp = TempDir::new("write-files-blocked");
        fs::create_dir_all(&temp.0).unwrap();
        let file = temp.0.join("not-a-dir");
        fs::write(&file, "x").unwrap();
        assert!(write_files(&file, &sample::minimal()).is_err());
    }
}
