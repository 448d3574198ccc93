//! A process address space with Linux system-call semantics, built on [`vma`].
//!
//! This crate is still being written; see the project issues for its plan.
