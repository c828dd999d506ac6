//! Shared by the CLI's test files.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

/// `aopay sandbox --port 0 …` in its own process, killed when dropped.
pub struct SandboxProcess {
    child: Child,
    /// The URL from its first line of output.
    pub url: String,
}

impl Drop for SandboxProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl SandboxProcess {
    pub fn start(extra: &[&std::ffi::OsStr]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_aopay"))
            .args(["sandbox", "--port", "0"])
            .args(extra)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        let mut reader = BufReader::new(child.stdout.take().unwrap());
        reader.read_line(&mut line).unwrap();
        // Keep draining, as a terminal would.
        std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
        let url = line.trim().rsplit(' ').next().unwrap().to_owned();
        assert!(url.contains("://127.0.0.1:"), "{line}");
        Self { child, url }
    }
}
