//! Replaying a real program: its strace log on the engine, from the layout it started with,
//! each call's result and the final layout compared with what Linux did (docs/traces.md).

mod calls;
mod explain;
mod initial;
mod layout;
mod report;
mod run;

pub use calls::{perform, FileTable, NotPerformed};
pub use explain::{explain, explain_each, ToldCall};
pub use initial::{build, Initial, InitialError};
pub use layout::{compare, compare_final, shown, shown_by, smaps, LayoutDiff, Shown};
pub use report::{call_line, call_text, render, ret_text};
pub use run::{run, run_watched, Faults, Replay, Replayed, Skipped, Watch, WatchFn, Watched};
