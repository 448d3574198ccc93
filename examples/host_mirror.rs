//! The host mirror: a real window of this process kept in sync with an `mm::Mm` using only
//! the change notifications, checked against `/proc/self/smaps` and `/proc/self/pagemap` after
//! every op of generated scripts (see docs/host_mirror.md).
//!
//! ```sh
//! cargo run --release --example host_mirror -- [SCRIPTS [FIRST_SEED [WINDOW_MIN WINDOW_MAX OPS_MIN OPS_MAX]]]
//! ```
//!
//! Replays SCRIPTS generated scripts (default 500) of seeds FIRST_SEED on (default 0), with
//! the generator's default shape (windows of 64 to 128 pages, 40 to 200 ops) unless given,
//! and prints what was checked and how fast the mirror went. Linux on x86_64 only.

#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
#[path = "host_mirror/lib.rs"]
mod host_mirror;

const USAGE: &str = "usage: host_mirror [SCRIPTS [FIRST_SEED [WINDOW_MIN WINDOW_MAX OPS_MIN OPS_MAX]]]";

fn fail(message: String) -> ! {
    eprintln!("host_mirror: {message}\n{USAGE}");
    std::process::exit(2)
}

#[cfg(not(all(target_os = "linux", target_arch = "x86_64")))]
fn main() {
    fail(format!("it needs Linux on x86_64, this is {} on {}", std::env::consts::OS, std::env::consts::ARCH))
}

#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
fn main() {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .map(|arg| arg.parse().unwrap_or_else(|_| fail(format!("`{arg}` is not a number"))))
        .collect();
    let scripts = args.first().copied().unwrap_or(500);
    let first = args.get(1).copied().unwrap_or(0);
    let config = match args.get(2..) {
        None | Some([]) => maple_mm::gen::GenConfig::default(),
        Some(&[window_min, window_max, ops_min, ops_max]) => {
            maple_mm::gen::GenConfig { window_min, window_max, ops_min: ops_min as usize, ops_max: ops_max as usize }
        }
        Some(_) => fail("the generator's shape takes four numbers".to_string()),
    };
    config.check().unwrap_or_else(|error| fail(error));
    match host_mirror::run(first..first.saturating_add(scripts), &config) {
        Ok(totals) => println!("{totals}"),
        Err(error) => {
            eprintln!("the host and the engine differ: {error}");
            std::process::exit(1);
        }
    }
}
