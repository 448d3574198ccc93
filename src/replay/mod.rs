//! Replaying a real program: its strace log on the engine, from the layout it started with,
//! each call's result and the final layout compared with what Linux did (docs/traces.md).

mod initial;
mod layout;

pub use initial::{build, Initial, InitialError};
pub use layout::{compare, shown, shown_by, LayoutDiff, Shown};
