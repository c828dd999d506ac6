//! Who holds an intent: `host:pid:start` (the process's start time, so a
//! reused pid is not taken for it). A run on the same machine tells a claim
//! or a send whose process is gone from one still in flight at once, instead
//! of waiting out its deadline (docs/protocol.md §4). Elsewhere, or where the
//! process table cannot be read, the deadline alone decides.

use std::sync::OnceLock;

/// This process, as the journal records it: read from `/proc` once per
/// process (every claim records it; a forked child is another process).
pub(crate) fn this_process() -> String {
    static THIS: std::sync::Mutex<Option<(u32, String)>> = std::sync::Mutex::new(None);
    let pid = std::process::id();
    let mut this = THIS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    match this.as_ref() {
        Some((p, owner)) if *p == pid => owner.clone(),
        _ => {
            let owner = format!("{}:{pid}:{}", host(), start_time(pid).unwrap_or_default());
            *this = Some((pid, owner.clone()));
            owner
        }
    }
}

/// Whether the process that wrote `owner` is known to be gone: it ran on
/// this machine, and no process with its pid and start time is running.
pub(crate) fn is_gone(owner: &str) -> bool {
    let mut parts = owner.rsplitn(3, ':');
    let (Some(start), Some(pid), Some(on)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    let Ok(pid) = pid.parse::<u32>() else {
        return false;
    };
    if on != host() || start.is_empty() || !std::path::Path::new("/proc/self/stat").exists() {
        return false;
    }
    start_time(pid).as_deref() != Some(start)
}

fn host() -> &'static str {
    static HOST: OnceLock<String> = OnceLock::new();
    HOST.get_or_init(|| {
        std::fs::read_to_string("/proc/sys/kernel/hostname")
            .ok()
            .or_else(|| std::env::var("HOSTNAME").ok())
            .map(|h| h.trim().replace(':', "_"))
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "unknown-host".to_owned())
    })
}

/// The process's start time since boot (clock ticks), from `/proc` (field
/// 22 of its `stat`, after the command name, which may hold spaces).
fn start_time(pid: u32) -> Option<String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after_name = &stat[stat.rfind(')')? + 1..];
    after_name.split_whitespace().nth(19).map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_alive_and_a_finished_one_is_gone() {
        let me = this_process();
        assert!(!is_gone(&me), "{me}");
        if std::path::Path::new("/proc/self/stat").exists() {
            let mut child = std::process::Command::new("true").spawn().unwrap();
            let pid = child.id();
            let alive = format!("{}:{pid}:{}", host(), start_time(pid).unwrap_or_default());
            child.wait().unwrap();
            assert!(is_gone(&alive), "{alive} has ended");
            // Same pid, another start: another process.
            assert!(is_gone(&format!("{}:{}:1", host(), std::process::id())));
        }
        assert!(
            !is_gone("another-host:1:1"),
            "another machine's: its deadline decides"
        );
        assert!(!is_gone("garbage"));
    }
}
