//! Rendering of searches and models for people: the terminal (indicatif bars and leaderboard
//! tables). Nothing in the library depends on this module; the CLI and notebooks use it.

pub mod terminal;
