//! Progress of the command line's long commands (push, export, sync) on stderr: an `indicatif`
//! bar on a terminal; on a pipe or in CI, a plain line each time the message changes (a bar's
//! redraws would fill a log with escape codes).

use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

pub struct Progress {
    bar: Option<ProgressBar>,
    last: String,
}

impl Progress {
    /// A bar of `total` units; `None`: a spinner (the length is not known).
    pub fn new(total: Option<u64>) -> Progress {
        if !std::io::IsTerminal::is_terminal(&std::io::stderr()) {
            return Progress {
                bar: None,
                last: String::new(),
            };
        }
        let bar = match total {
            Some(n) => ProgressBar::new(n).with_style(
                ProgressStyle::with_template("[{bar:30}] {pos}/{len} {elapsed} {wide_msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("#>-"),
            ),
            None => ProgressBar::new_spinner().with_style(
                ProgressStyle::with_template("{spinner} {elapsed} {wide_msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            ),
        };
        bar.enable_steady_tick(Duration::from_millis(120));
        Progress {
            bar: Some(bar),
            last: String::new(),
        }
    }

    /// `done` of `total` units, doing `message` now.
    pub fn update(&mut self, done: u64, total: u64, message: &str) {
        match &self.bar {
            Some(bar) => {
                bar.set_length(total);
                bar.set_position(done);
                bar.set_message(message.to_string());
            }
            None => {
                let line = format!("{done}/{total} {message}");
                if line != self.last {
                    eprintln!("{line}");
                    self.last = line;
                }
            }
        }
    }

    /// Doing `message` now (a spinner's text).
    pub fn say(&mut self, message: &str) {
        match &self.bar {
            Some(bar) => bar.set_message(message.to_string()),
            None if message != self.last => {
                eprintln!("{message}");
                self.last = message.to_string();
            }
            None => {}
        }
    }

    /// Clears the bar (what the command prints next stands alone).
    pub fn finish(self) {
        if let Some(bar) = self.bar {
            bar.finish_and_clear();
        }
    }
}
