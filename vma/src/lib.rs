//! Virtual memory areas and the Linux VMA merge engine, built on [`maple`] transactions.
//!
//! This crate is still being written; see the project issues for its plan.
