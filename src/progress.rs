//! Progress of long runs (seeding, synthetic histories): a trait the loops report to, below
//! both the services that run them and the repositories that write in batches.

/// Receives progress while seeding (a progress bar on a terminal, nothing in the server).
pub trait Progress: Send {
    fn stage(&mut self, _name: &str, _total: u64) {}
    fn advance(&mut self, _n: u64) {}
    fn finish(&mut self) {}
}

/// No progress output.
pub struct Quiet;
impl Progress for Quiet {}

/// A progress bar per stage, on standard error, when standard output is a terminal;
/// nothing otherwise (logs, pipes, CI).
pub struct TerminalProgress {
    bar: Option<indicatif::ProgressBar>,
    enabled: bool,
}

impl TerminalProgress {
    pub fn new() -> Self {
        use std::io::IsTerminal;
        TerminalProgress {
            bar: None,
            enabled: std::io::stdout().is_terminal(),
        }
    }
}

impl Default for TerminalProgress {
    fn default() -> Self {
        Self::new()
    }
}

impl Progress for TerminalProgress {
    fn stage(&mut self, name: &str, total: u64) {
        if !self.enabled {
            return;
        }
        if let Some(bar) = self.bar.take() {
            bar.finish();
        }
        let bar = indicatif::ProgressBar::new(total);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{msg:>18} [{bar:40}] {pos:>6}/{len:6} {elapsed_precise}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        bar.set_message(name.to_string());
        self.bar = Some(bar);
    }

    fn advance(&mut self, n: u64) {
        if let Some(bar) = &self.bar {
            bar.inc(n);
        }
    }

    fn finish(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish();
        }
    }
}
